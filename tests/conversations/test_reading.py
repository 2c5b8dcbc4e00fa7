"""Reading a contact's conversations: the tab, a thread, bodies, files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts.models import Contact
from conversations.models import Attachment, Message
from mailsync.models import Mailbox
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import (
    MailboxFactory,
    add_message,
    outbound,
    thread_with,
)
from tests.factories import EmployeeFactory
from tests.staff.factories import grant

pytestmark = pytest.mark.django_db

HOSTILE = '<img src=x onerror=alert("pwned")>'


def test_the_tab_lists_the_contacts_threads_newest_first(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    older = thread_with(carol, sams_mailbox, subject="Older", messages=2)
    newer = thread_with(carol, sams_mailbox, subject="Newer")
    add_message(newer, sams_mailbox)
    thread_with(ContactFactory(account=carol.account), sams_mailbox, subject="Other")

    response = as_sam.get(reverse("contacts:conversations", args=[carol.pk]))

    text = response.text
    assert response.status_code == 200
    assert text.index("Newer") < text.index("Older")
    assert "Other" not in text
    assert reverse("conversations:thread", args=[older.pk]) in text
    assert "Carol Client" in text and "Sam Seller" in text


def test_a_thread_shows_its_messages_in_order_in_the_viewers_time_zone(
    sam: User, as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    User.objects.filter(pk=sam.pk).update(time_zone="Asia/Tokyo")
    thread = thread_with(carol, sams_mailbox, messages=0)
    add_message(
        thread,
        sams_mailbox,
        text_body="First words",
        sent_at=datetime(2025, 3, 3, 9, 0, tzinfo=UTC),
        cc=[{"address": "boss@client.example", "name": "Boss"}],
    )
    reply = outbound(
        thread, sams_mailbox, sam, text_body="Second words", status=Message.Status.SENT
    )
    Message.objects.filter(pk=reply.pk).update(
        sent_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    )

    response = as_sam.get(reverse("conversations:thread", args=[thread.pk]))

    text = response.text
    assert text.index("First words") < text.index("Second words")
    assert "18:00" in text and "19:00" in text  # 09:00 and 10:00 UTC in Tokyo
    assert "Carol Client &lt;carol@client.example&gt;" in text
    assert "Cc: Boss &lt;boss@client.example&gt;" in text
    assert "in the mailbox of Sam Seller" in text
    assert "sent by Sam Seller" in text


def test_hostile_subjects_names_and_file_names_are_escaped(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    Contact.objects.filter(pk=carol.pk).update(first_name=HOSTILE)
    thread = thread_with(
        carol, sams_mailbox, subject=HOSTILE, sender_name=HOSTILE, text_body=HOSTILE
    )
    Attachment.objects.create(
        message=thread.messages.get(), filename=f"{HOSTILE}.pdf", part_path="2"
    )

    pages = [
        as_sam.get(reverse("conversations:thread", args=[thread.pk])),
        as_sam.get(reverse("contacts:conversations", args=[carol.pk])),
        as_sam.get(reverse("conversations:inbox")),
    ]

    for page in pages:
        assert page.status_code == 200
        assert HOSTILE not in page.text
        assert "&lt;img src=x onerror=alert(&quot;pwned&quot;)&gt;" in page.text


def test_an_html_body_is_framed_from_its_own_url_under_a_strict_policy(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(
        carol,
        sams_mailbox,
        html_body=(
            '<p onclick="x()">Hello</p><script>alert(1)</script>'
            '<img src="https://tracker.example/open.gif">'
        ),
    )
    message = thread.messages.get()
    body_url = reverse("conversations:message_body", args=[message.pk])

    page = as_sam.get(reverse("conversations:thread", args=[thread.pk]))
    body = as_sam.get(body_url)
    with_images = as_sam.get(body_url, {"images": "1"})

    frame = page.text[page.text.index("<iframe") :]
    frame = frame[: frame.index(">")]
    assert f'src="{body_url}"' in frame
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame
    policy = body["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "img-src data:;" in policy
    assert "script-src" not in policy and "allow-scripts" not in policy
    assert body["X-Frame-Options"] == "SAMEORIGIN"
    assert "<script" not in body.text and "onclick" not in body.text
    assert "tracker.example" not in body.text
    # Show images is offered beside the frame and reloads only the frame.
    assert "Show images" not in body.text
    offer = page.text[page.text.index("Images from the web are hidden") :]
    assert f'href="{body_url}?images=1" target="message-body-{message.pk}"' in offer
    assert f'name="message-body-{message.pk}"' in frame
    assert "img-src https: http: data:" in with_images["Content-Security-Policy"]
    assert 'src="https://tracker.example/open.gif"' in with_images.text
    # Everywhere else, the site still refuses to be framed.
    assert page["X-Frame-Options"] == "DENY"


def test_a_plain_text_body_is_shown_escaped_with_links(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(
        carol, sams_mailbox, text_body="<b>not bold</b> see https://example.com/x"
    )

    text = as_sam.get(reverse("conversations:thread", args=[thread.pk])).text

    assert "&lt;b&gt;not bold&lt;/b&gt;" in text
    assert (
        '<a href="https://example.com/x" target="_blank" rel="noopener noreferrer">'
        in text
    )


def test_a_file_written_in_the_crm_downloads_as_an_attachment(
    sam: User, as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(carol, sams_mailbox)
    message = outbound(thread, sams_mailbox, sam, has_attachments=True)
    attachment = Attachment(
        message=message, filename='quote"\r\n;evil.html', content_type="text/html"
    )
    attachment.upload.save("quote.html", ContentFile(b"<script>1</script>"))

    response = as_sam.get(reverse("conversations:attachment", args=[attachment.pk]))

    assert response.status_code == 200
    assert response.getvalue() == b"<script>1</script>"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    assert '"quote_;evil.html"' in disposition or "quote_" in disposition
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_accounts_thread_and_message_are_not_found(
    as_sam: Client, sams_mailbox: Mailbox
) -> None:
    stranger = EmployeeFactory()
    theirs = thread_with(
        ContactFactory(account=stranger.account),
        MailboxFactory(employee=stranger),
        html_body="<p>secret</p>",
    )
    message = theirs.messages.get()

    for url in [
        reverse("conversations:thread", args=[theirs.pk]),
        reverse("conversations:message_body", args=[message.pk]),
        reverse("conversations:reply", args=[message.pk]),
    ]:
        assert as_sam.get(url).status_code == 404


def test_the_tab_and_the_sidebar_entry_need_the_conversations_permission(
    admin_user: User, sign_in, carol: Contact
) -> None:
    contacts_only = grant(
        EmployeeFactory(account=carol.account), "accounts.access_contacts"
    )
    client = sign_in(contacts_only)

    record = client.get(reverse("contacts:detail", args=[carol.pk]))
    tab = client.get(reverse("contacts:conversations", args=[carol.pk]))

    assert reverse("contacts:conversations", args=[carol.pk]) not in record.text
    assert reverse("conversations:inbox") not in record.text
    assert tab.status_code == 403
    admin_page = sign_in(admin_user).get(reverse("contacts:detail", args=[carol.pk]))
    assert reverse("conversations:inbox") in admin_page.text


def test_the_tab_shows_a_private_thread_without_its_subject(
    as_sam: Client, pat: User, carol: Contact
) -> None:
    private = MailboxFactory(employee=pat, sharing=Mailbox.Sharing.EXISTENCE)
    thread_with(carol, private, subject="Salary talk")

    text = as_sam.get(reverse("contacts:conversations", args=[carol.pk])).text

    assert "Salary talk" not in text
    assert "Private conversation" in text
