"""Storing mail with contacts, and queueing mail written in the CRM.

``record_inbound_messages`` is what the sync hands parsed mail to, a batch
at a time; it decides what is stored, threads it and links it to the
mailbox, idempotently. ``queue_outbound_email`` puts a message written in
the CRM in the outbox and asks mailsync to send it once the transaction
commits.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Now
from django.utils import timezone

from contacts.models import ContactEmail
from conversations.models import (
    Attachment,
    Message,
    MessageLink,
    Thread,
    ThreadContact,
    ThreadLink,
    ThreadReadState,
)
from conversations.never_log import NeverLogRules, never_log_rules
from conversations.sanitize import has_remote_images, html_as_text
from mailsync.models import Mailbox
from mailsync.parsing import Address, ParsedMessage

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

SNIPPET_LENGTH = 200
# References kept per message; threading needs only the nearest ones.
MAX_REFERENCES = 20


@dataclass(frozen=True)
class IncomingMessage:
    """One provider message of one mailbox, parsed."""

    provider_message_id: str
    provider_thread_id: str
    parsed: ParsedMessage
    folder: str = ""


@dataclass(frozen=True)
class MailboxRef:
    """The mailbox the batch came from, as conversations needs to know it."""

    id: int
    account_id: int
    employee_id: int
    addresses: frozenset[str]  # the mailbox's address and aliases


@dataclass
class RecordResult:
    stored: int = 0  # new Messages
    linked: int = 0  # new links to Messages another mailbox brought in
    skipped: Counter[str] = field(default_factory=Counter)


def record_inbound_messages(
    *, mailbox: MailboxRef, messages: list[IncomingMessage]
) -> RecordResult:
    """Store the messages of ``messages`` that involve a contact.

    A message is stored when a participant is an address of one of the
    account's contacts that no never-log rule blocks. Running the same
    batch again changes nothing. A race with another mailbox of the account
    storing the same email falls back to storing one message at a time.
    """
    result = RecordResult()
    if not messages:
        return result

    known = set(
        MessageLink.objects.filter(
            mailbox_id=mailbox.id,
            provider_message_id__in=[m.provider_message_id for m in messages],
        ).values_list("provider_message_id", flat=True)
    )
    fresh = [m for m in messages if m.provider_message_id not in known]
    if len(fresh) < len(messages):
        result.skipped["already stored"] += len(messages) - len(fresh)

    rules = never_log_rules(
        account_id=mailbox.account_id, employee_id=mailbox.employee_id
    )
    contacts_by_address = _contacts_by_address(mailbox.account_id, fresh, rules)
    wanted: list[tuple[IncomingMessage, set[int]]] = []
    for message in fresh:
        contact_ids = {
            contacts_by_address[address]
            for address in message.parsed.participants
            if address in contacts_by_address
        }
        if contact_ids:
            wanted.append((message, contact_ids))
        else:
            result.skipped[_skip_reason(message.parsed, rules)] += 1

    try:
        with transaction.atomic():
            _store(mailbox, wanted, result)
    except IntegrityError:
        logger.info(
            "concurrent store in account %s; storing one by one", mailbox.account_id
        )
        result.stored = result.linked = 0
        for item in wanted:
            try:
                with transaction.atomic():
                    _store(mailbox, [item], result)
            except IntegrityError:
                # The other mailbox's worker stored it between our reads
                # and writes; a second pass sees it and only links it.
                with transaction.atomic():
                    _store(mailbox, [item], result)
    return result


def _skip_reason(parsed: ParsedMessage, rules: NeverLogRules) -> str:
    if parsed.participants and all(rules.blocks(a) for a in parsed.participants):
        return "never-log"
    return "no contact"


def _contacts_by_address(
    account_id: int, messages: list[IncomingMessage], rules: NeverLogRules
) -> dict[str, int]:
    addresses = {a for m in messages for a in m.parsed.participants}
    addresses = {a for a in addresses if not rules.blocks(a)}
    if not addresses:
        return {}
    return dict(
        ContactEmail.objects.filter(
            account_id=account_id, normalized__in=addresses
        ).values_list("normalized", "contact_id")
    )


def _message_id(mailbox_id: int, message: IncomingMessage) -> str:
    if message.parsed.message_id:
        return message.parsed.message_id
    # Without a Message-ID the same email cannot be recognised in another
    # mailbox; the provider id still keeps this mailbox's copy unique.
    return (
        f"<revstackr.{mailbox_id}.{message.provider_message_id}@no-message-id.invalid>"
    )


def _store(
    mailbox: MailboxRef,
    wanted: list[tuple[IncomingMessage, set[int]]],
    result: RecordResult,
) -> None:
    if not wanted:
        return
    account_id = mailbox.account_id
    ids = [_message_id(mailbox.id, message) for message, _ in wanted]

    existing = {
        row.rfc_message_id: row
        for row in Message.objects.filter(account_id=account_id, rfc_message_id__in=ids)
    }
    thread_of_provider_thread = dict(
        ThreadLink.objects.filter(
            mailbox_id=mailbox.id,
            provider_thread_id__in={m.provider_thread_id for m, _ in wanted} - {""},
        ).values_list("provider_thread_id", "thread_id")
    )
    referenced = {
        ref
        for message, _ in wanted
        for ref in [message.parsed.in_reply_to, *message.parsed.references]
        if ref
    }
    thread_of_message_id = dict(
        Message.objects.filter(
            account_id=account_id, rfc_message_id__in=referenced
        ).values_list("rfc_message_id", "thread_id")
    )

    new_messages: list[Message] = []
    new_links: list[MessageLink] = []
    thread_links: dict[str, int] = {}
    thread_contacts: set[tuple[int, int]] = set()
    touched_threads: set[int] = set()
    attachments: list[tuple[Message, ParsedMessage]] = []

    for (message, contact_ids), rfc_id in zip(wanted, ids, strict=True):
        stored = existing.get(rfc_id)
        if stored is None:
            thread_id = _thread_for(
                message, thread_of_provider_thread, thread_of_message_id
            )
            if thread_id is None:
                thread = Thread.objects.create(
                    account_id=account_id,
                    subject=conversation_subject(message.parsed.subject)[:998],
                )
                thread_id = thread.pk
            stored = _new_message(account_id, thread_id, rfc_id, message, mailbox)
            new_messages.append(stored)
            existing[rfc_id] = stored
            thread_of_message_id[rfc_id] = thread_id
            if message.parsed.attachments:
                attachments.append((stored, message.parsed))
            result.stored += 1
        else:
            result.linked += 1
        if message.provider_thread_id:
            thread_of_provider_thread[message.provider_thread_id] = stored.thread_id
            thread_links[message.provider_thread_id] = stored.thread_id
        new_links.append(
            MessageLink(
                message=stored,
                mailbox_id=mailbox.id,
                provider_message_id=message.provider_message_id,
                provider_thread_id=message.provider_thread_id,
                folder=message.folder,
            )
        )
        thread_contacts |= {
            (stored.thread_id, contact_id) for contact_id in contact_ids
        }
        touched_threads.add(stored.thread_id)

    Message.objects.bulk_create(new_messages)
    MessageLink.objects.bulk_create(new_links)
    ThreadLink.objects.bulk_create(
        [
            ThreadLink(
                thread_id=thread_id, mailbox_id=mailbox.id, provider_thread_id=key
            )
            for key, thread_id in thread_links.items()
        ],
        ignore_conflicts=True,
    )
    ThreadContact.objects.bulk_create(
        [ThreadContact(thread_id=t, contact_id=c) for t, c in thread_contacts],
        ignore_conflicts=True,
    )
    Attachment.objects.bulk_create(
        [
            Attachment(
                message=stored,
                filename=info.filename[:255],
                content_type=info.content_type[:255],
                size=info.size,
                part_path=info.part_path,
                content_id=info.content_id[:255],
                inline=info.inline,
            )
            for stored, parsed in attachments
            for info in parsed.attachments
        ]
    )
    refresh_thread_summaries(touched_threads)


# "Re:", "Fwd:" and their common translations, repeated or numbered.
_REPLY_PREFIX = re.compile(
    r"^(?:\s*(?:re|fw|fwd|aw|wg|sv|vs|antw|rif|tr)(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)


def conversation_subject(subject: str) -> str:
    """The subject a thread goes by: the email's, without the reply and
    forward prefixes that mail clients add ("Re: Fwd: Prices")."""
    stripped = _REPLY_PREFIX.sub("", subject).strip()
    return stripped or subject.strip()


def _thread_for(
    message: IncomingMessage,
    thread_of_provider_thread: dict[str, int],
    thread_of_message_id: dict[str, int],
) -> int | None:
    """The CRM thread a new message joins, if any.

    The mailbox's own provider thread comes first; then any message it
    replies to or references, which joins mail of different mailboxes.
    """
    if message.provider_thread_id in thread_of_provider_thread:
        return thread_of_provider_thread[message.provider_thread_id]
    for ref in [message.parsed.in_reply_to, *reversed(message.parsed.references)]:
        if ref and ref in thread_of_message_id:
            return thread_of_message_id[ref]
    return None


def _new_message(
    account_id: int,
    thread_id: int,
    rfc_id: str,
    message: IncomingMessage,
    mailbox: MailboxRef,
) -> Message:
    parsed = message.parsed
    sender = parsed.sender.address if parsed.sender else ""
    outbound = sender in mailbox.addresses
    text_body = parsed.text_body
    if not text_body.strip() and parsed.html_body:
        # Mail with only an HTML part is searched and summed up by its
        # words; the page still shows the HTML itself.
        text_body = html_as_text(parsed.html_body)
    return Message(
        account_id=account_id,
        thread_id=thread_id,
        rfc_message_id=rfc_id[:998],
        in_reply_to=parsed.in_reply_to[:998],
        references=parsed.references[-MAX_REFERENCES:],
        subject=parsed.subject[:998],
        sent_at=parsed.sent_at,
        sender_address=sender,
        sender_name=(parsed.sender.name if parsed.sender else "")[:200],
        to=_people(parsed.to),
        cc=_people(parsed.cc),
        bcc=_people(parsed.bcc),
        text_body=text_body,
        html_body=parsed.html_body,
        has_remote_images=has_remote_images(parsed.html_body),
        snippet=message_snippet(text_body),
        has_attachments=bool(parsed.attachments),
        direction=Message.Direction.OUTBOUND if outbound else Message.Direction.INBOUND,
        status=Message.Status.SENT if outbound else Message.Status.RECEIVED,
        parse_problems=parsed.problems,
    )


def _people(addresses: list[Address]) -> list[dict[str, str]]:
    return [{"address": a.address, "name": a.name} for a in addresses]


def message_snippet(text_body: str) -> str:
    """The start of a message's text, on one line."""
    return " ".join(text_body.split())[:SNIPPET_LENGTH]


def refresh_thread_summaries(thread_ids: set[int]) -> None:
    """Recount the threads' messages and their last activity, in one query."""
    if not thread_ids:
        return
    summary = (
        Message.objects.filter(thread=OuterRef("pk"))
        .order_by()
        .values("thread")
        .annotate(count=Count("pk"), latest=Max("sent_at"))
    )
    Thread.objects.filter(pk__in=thread_ids).update(
        message_count=Subquery(summary.values("count")),
        last_message_at=Coalesce(Subquery(summary.values("latest")), Now()),
    )


def mark_deleted_in_provider(
    *, mailbox_id: int, provider_message_ids: list[str]
) -> int:
    """Mark copies deleted at the provider; the CRM keeps the messages."""
    return MessageLink.objects.filter(
        mailbox_id=mailbox_id,
        provider_message_id__in=provider_message_ids,
        deleted_in_provider_at__isnull=True,
    ).update(deleted_in_provider_at=timezone.now())


def restore_in_provider(*, mailbox_id: int, provider_message_ids: list[str]) -> int:
    """Unmark copies seen again (moved back, or replayed by a delta)."""
    return MessageLink.objects.filter(
        Q(mailbox_id=mailbox_id)
        & Q(provider_message_id__in=provider_message_ids)
        & Q(deleted_in_provider_at__isnull=False)
    ).update(deleted_in_provider_at=None)


def new_message_id(domain: str) -> str:
    return f"<revstackr.{uuid.uuid4().hex}@{domain or 'revstackr.invalid'}>"


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    content: bytes


class ComposeError(ValueError):
    """An email that cannot be queued; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# Gmail's API takes up to 25 MB of attachments; Outlook more through upload
# sessions. One limit for both keeps the composer's promise simple.
MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024


def queue_outbound_email(
    *,
    author_id: int,
    account_id: int,
    sending_mailbox_id: int,
    sender_address: str,
    sender_name: str,
    to: list[Address],
    cc: list[Address] | None = None,
    bcc: list[Address] | None = None,
    subject: str,
    text_body: str,
    html_body: str = "",
    reply_to: Message | None = None,
    contact_ids: list[int] | None = None,
    attachments: list[OutgoingFile] | None = None,
) -> Message:
    """Put an email written in the CRM in the outbox, and have it sent.

    A reply joins ``reply_to``'s thread and carries In-Reply-To and
    References, so it threads in the recipients' mail apps too; without
    ``reply_to`` the email starts a new thread. ``contact_ids`` puts the
    thread on those contacts' timelines. The send task is enqueued once the
    transaction commits.
    """
    from django.core.files.base import ContentFile
    from django_q.tasks import async_task

    cc, bcc, attachments = cc or [], bcc or [], attachments or []
    if "\r" in subject or "\n" in subject:
        raise ComposeError("subject", "The subject cannot contain line breaks.")
    if not (to or cc or bcc):
        raise ComposeError("to", "Add at least one recipient.")
    if sum(len(item.content) for item in attachments) > MAX_ATTACHMENTS_BYTES:
        raise ComposeError("attachments", "Attachments may add up to 25 MB at most.")

    with transaction.atomic():
        if reply_to is not None:
            thread = reply_to.thread
            in_reply_to = reply_to.rfc_message_id
            references = [*reply_to.references, reply_to.rfc_message_id]
        else:
            thread = Thread.objects.create(account_id=account_id, subject=subject)
            in_reply_to, references = "", []

        message = Message.objects.create(
            account_id=account_id,
            thread=thread,
            rfc_message_id=new_message_id(sender_address.rpartition("@")[2]),
            in_reply_to=in_reply_to,
            references=references[-MAX_REFERENCES:],
            subject=subject,
            sender_address=sender_address,
            sender_name=sender_name,
            to=_people(to),
            cc=_people(cc),
            bcc=_people(bcc),
            text_body=text_body,
            html_body=html_body,
            snippet=message_snippet(text_body),
            has_attachments=bool(attachments),
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.QUEUED,
            author_id=author_id,
            sending_mailbox_id=sending_mailbox_id,
        )
        for item in attachments:
            stored = Attachment(
                message=message,
                filename=item.filename[:255],
                content_type=item.content_type[:255],
                size=len(item.content),
            )
            stored.upload.save(item.filename, ContentFile(item.content), save=False)
            stored.save()
        ThreadContact.objects.bulk_create(
            [ThreadContact(thread=thread, contact_id=c) for c in contact_ids or []],
            ignore_conflicts=True,
        )
        refresh_thread_summaries({thread.pk})
        transaction.on_commit(
            lambda: async_task("mailsync.tasks.send_message", message.pk)
        )
    return message


def write_email(
    *,
    author: User,
    mailbox: Mailbox,
    to: list[Address],
    cc: list[Address],
    subject: str,
    text_body: str,
    attachments: list[OutgoingFile],
    reply_to: Message | None = None,
    contact_ids: list[int] | None = None,
) -> Message:
    """Queue an email the employee wrote in the composer.

    Besides ``contact_ids`` (the record it was written on), the thread goes
    on the timeline of every contact among the recipients.
    """
    from conversations.selectors import contact_ids_for

    recipients = [person.address for person in [*to, *cc]]
    contacts = {
        *(contact_ids or []),
        *contact_ids_for(account=mailbox.account, addresses=recipients),
    }
    return queue_outbound_email(
        author_id=author.pk,
        account_id=mailbox.account_id,
        sending_mailbox_id=mailbox.pk,
        sender_address=mailbox.address,
        sender_name=author.full_name,
        to=to,
        cc=cc,
        subject=subject,
        text_body=text_body,
        reply_to=reply_to,
        contact_ids=sorted(contacts),
        attachments=attachments,
    )


def retry_outbound_email(*, message: Message) -> bool:
    """Put a failed email back in the outbox; False if it is not failed.

    The attempts are not reset: from the second on, the provider first
    checks whether an earlier try got through, so a retry never sends the
    same email twice.
    """
    from django_q.tasks import async_task

    with transaction.atomic():
        requeued = Message.objects.filter(
            pk=message.pk, status=Message.Status.FAILED
        ).update(status=Message.Status.QUEUED, failure_reason="")
        if requeued:
            transaction.on_commit(
                lambda: async_task("mailsync.tasks.send_message", message.pk)
            )
    return bool(requeued)


def mark_thread_read(*, employee: User, thread: Thread) -> None:
    """Record that the employee has seen the thread as it is now."""
    # A message dated in the future (a wrong clock) would otherwise keep
    # the thread unread until that date.
    read_at = max(timezone.now(), thread.last_message_at or timezone.now())
    ThreadReadState.objects.update_or_create(
        employee=employee, thread=thread, defaults={"read_at": read_at}
    )


def set_mailbox_sharing(*, employee: User, sharing: str) -> int:
    """Apply the employee's sharing choice to all of their mailboxes.

    Replaced mailboxes follow the current one's choice: the mail they
    brought in is the same person's mail.
    """
    return Mailbox.objects.filter(employee=employee).update(sharing=sharing)


def delete_contact_mail(*, account_id: int, contact_id: int) -> int:
    """Delete the threads on a contact's timeline that no other contact
    takes part in; return how many.

    A thread shared with another contact stays, since it is on that
    contact's timeline too.
    """
    own_threads = Thread.objects.filter(
        account_id=account_id, contacts=contact_id
    ).exclude(
        pk__in=ThreadContact.objects.exclude(contact_id=contact_id).values("thread_id")
    )
    deleted, by_model = own_threads.delete()
    threads = by_model.get(Thread._meta.label, 0)
    logger.info(
        "deleted %s threads (%s rows) of contact %s", threads, deleted, contact_id
    )
    return threads
