"""Threads and messages with contacts, and their links to each mailbox.

A Message exists once per account (one per RFC Message-ID) however many
teammates' mailboxes hold it; each mailbox's copy is a MessageLink. A
Thread is one conversation per account, linked to the provider's thread in
each mailbox that holds it (ThreadLink). Nothing here knows a provider's
API: provider ids are opaque strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.tenancy import AccountOwned

if TYPE_CHECKING:
    from contacts.models import Contact


class Thread(AccountOwned):
    subject = models.CharField(max_length=998, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    contacts: models.ManyToManyField[Contact, ThreadContact] = models.ManyToManyField(
        "contacts.Contact", through="ThreadContact", related_name="threads"
    )

    class Meta:
        indexes = [
            models.Index(
                "account", models.F("last_message_at").desc(), name="thread_recent"
            )
        ]

    def __str__(self) -> str:
        return self.subject or "(no subject)"


class ThreadContact(models.Model):
    """A contact takes part in a thread: the thread is on their timeline."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE)
    contact = models.ForeignKey("contacts.Contact", on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "contact"], name="thread_contact_once"
            )
        ]

    def __str__(self) -> str:
        return f"thread {self.thread_id} with contact {self.contact_id}"


class Message(AccountOwned):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Received"
        OUTBOUND = "outbound", "Sent"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="messages"
    )
    rfc_message_id = models.CharField(max_length=998)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sender_address = models.CharField(max_length=254, blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    # The text part. For mail with only an HTML part, the words of that
    # HTML, which search and the snippet read; pages show the HTML itself.
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    # Whether the cleaned HTML body holds images from the web, which stay
    # blocked until the reader asks for them.
    has_remote_images = models.BooleanField(default=False)
    snippet = models.CharField(max_length=300, blank=True)
    has_attachments = models.BooleanField(default=False)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INBOUND
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    # For mail written in the CRM: who wrote it, and the mailbox it leaves by.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    sending_mailbox = models.ForeignKey(
        "mailsync.Mailbox",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    send_started_at = models.DateTimeField(null=True, blank=True)
    parse_problems = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "rfc_message_id"], name="message_once_per_account"
            )
        ]
        indexes = [models.Index(fields=["thread", "sent_at"], name="message_in_thread")]

    def __str__(self) -> str:
        return self.subject or "(no subject)"


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    # Where the part sits in the message source, to fetch it on download.
    part_path = models.CharField(max_length=50, blank=True)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    # Files of mail written in the CRM, kept until and after it is sent.
    upload = models.FileField(upload_to="outbox/%Y/%m/", blank=True)

    def __str__(self) -> str:
        return self.filename


class MessageLink(models.Model):
    """One mailbox's copy of a message, by the provider's message id."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="links")
    mailbox = models.ForeignKey(
        "mailsync.Mailbox", on_delete=models.CASCADE, related_name="message_links"
    )
    provider_message_id = models.CharField(max_length=255)
    provider_thread_id = models.CharField(max_length=255, blank=True)
    folder = models.CharField(max_length=255, blank=True)
    deleted_in_provider_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "provider_message_id"], name="message_link_once"
            )
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} in mailbox {self.mailbox_id}"


class ThreadLink(models.Model):
    """A thread as one mailbox's provider knows it (Gmail threadId, Graph
    conversationId)."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="links")
    mailbox = models.ForeignKey(
        "mailsync.Mailbox", on_delete=models.CASCADE, related_name="thread_links"
    )
    provider_thread_id = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "provider_thread_id"], name="thread_link_once"
            )
        ]

    def __str__(self) -> str:
        return f"thread {self.thread_id} in mailbox {self.mailbox_id}"


class NeverLog(AccountOwned):
    """An address or a whole domain whose mail is never stored.

    Without an employee it applies to the whole account (set by an Admin);
    with one, only to that employee's mailbox. The account's own domains
    are never logged without an entry (mail among colleagues).
    """

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="never_log_entries",
    )
    value = models.CharField(
        max_length=254, help_text="An address (ann@example.com) or a domain."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "employee", "value"], name="never_log_once"
            )
        ]

    def __str__(self) -> str:
        return self.value


class ThreadReadState(models.Model):
    """When an employee last opened a thread.

    The thread is unread for them while it has activity after ``read_at``;
    a thread they never opened is unread.
    """

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="read_states"
    )
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "thread"], name="thread_read_once_per_employee"
            )
        ]

    def __str__(self) -> str:
        return f"thread {self.thread_id} read by {self.employee_id}"
