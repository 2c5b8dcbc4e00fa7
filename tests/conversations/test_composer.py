"""Writing from the contact's tab: refused with the field marked, or queued
and shown at once as Sending."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message, Thread
from conversations.services import MAX_ATTACHMENTS_BYTES
from mailsync.models import Mailbox
from tests.conversations.conftest import CAROL
from tests.conversations.factories import MailboxFactory, outbound, thread_with

pytestmark = pytest.mark.django_db


def compose(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "to_contact": [CAROL],
        "to": "",
        "cc": "",
        "subject": "Our proposal",
        "body": "Please find it attached.",
    }
    data.update(overrides)
    return data


def write(client: Client, contact: Contact, **overrides: Any) -> Any:
    return client.post(
        reverse("conversations:write", args=[contact.pk]), compose(**overrides)
    )


def test_the_composer_offers_the_contacts_addresses_and_the_signature(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    text = as_sam.get(reverse("contacts:conversations", args=[carol.pk])).text

    assert f'value="{CAROL}"' in text and 'value="carol@home.example"' in text
    assert text.index(CAROL) < text.index("carol@home.example")
    assert "checked" in text[text.index(f'value="{CAROL}"') - 120 :][:240]
    assert "-- \nSam Seller\nNorthwind" in text
    assert "From Sam Seller &lt;sam@gmail.test&gt;" in text


def test_without_a_connected_mailbox_the_composer_points_to_my_profile(
    as_sam: Client, carol: Contact, sam: User
) -> None:
    MailboxFactory(employee=sam, state=Mailbox.State.DISCONNECTED)

    page = as_sam.get(reverse("contacts:conversations", args=[carol.pk]))
    refused = write(as_sam, carol)

    assert reverse("profile") in page.text
    assert "Connect your mailbox on My Profile" in page.text
    assert refused.status_code == 200
    assert not Message.objects.exists()


def test_a_sent_email_shows_at_once_as_sending(
    as_sam: Client,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = write(
            as_sam, carol, to="Extra Person <extra@partner.example>", cc="cc@x.example"
        )

    message = Message.objects.get()
    assert response.status_code == 302
    assert len(callbacks) == 1  # the send task, once committed
    assert message.status == Message.Status.QUEUED
    assert message.sending_mailbox == sams_mailbox
    assert [p["address"] for p in message.to] == [CAROL, "extra@partner.example"]
    assert [p["address"] for p in message.cc] == ["cc@x.example"]
    assert list(message.thread.contacts.all()) == [carol]
    thread = as_sam.get(reverse("conversations:thread", args=[message.thread_id]))
    assert "Sending" in thread.text and "Our proposal" in thread.text


def test_a_new_thread_opens_on_its_own_page_showing_sending(
    as_sam: Client,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        response = write(as_sam, carol)

    message = Message.objects.get()
    thread_url = reverse("conversations:thread", args=[message.thread_id])
    assert response.status_code == 302
    assert response["Location"] == f"{thread_url}#latest"
    page = as_sam.get(response["Location"]).text
    assert 'badge-warn">Sending' in page and "Our proposal" in page
    assert "Your email is on its way." in page


@pytest.mark.parametrize(
    ("overrides", "field", "error"),
    [
        ({"to": "carol@", "to_contact": []}, "to", "is not an email address"),
        ({"to": "ok@x.example, not an address"}, "to", "is not an email address"),
        ({"cc": "a@b.example\r\nBcc: all@x.example"}, "cc", "line breaks"),
        ({"subject": "Hi\r\nBcc: all@evil.example"}, "subject", "line breaks"),
        ({"subject": "Hi\u2028there"}, "subject", "line breaks"),
        ({"to_contact": [], "to": ""}, "to", "Add at least one recipient"),
        ({"to_contact": ["someone@else.example"]}, "to_contact", "Select a valid"),
    ],
)
def test_a_bad_form_is_refused_with_the_field_marked_and_kept(
    as_sam: Client,
    carol: Contact,
    sams_mailbox: Mailbox,
    overrides: dict[str, Any],
    field: str,
    error: str,
) -> None:
    response = write(as_sam, carol, body="My carefully typed words", **overrides)

    assert response.status_code == 200
    form = response.context["form"]
    assert any(error in message for message in form.errors[field])
    assert "field-invalid" in response.text
    assert "My carefully typed words" in response.text
    assert not Message.objects.exists()


def test_attachments_over_the_limit_are_refused_and_must_be_chosen_again(
    as_sam: Client, carol: Contact, sams_mailbox: Mailbox
) -> None:
    half = MAX_ATTACHMENTS_BYTES // 2 + 1
    files = [
        SimpleUploadedFile("a.bin", b"a" * half),
        SimpleUploadedFile("b.bin", b"b" * half),
    ]

    response = write(as_sam, carol, attachments=files, subject="Big files")

    assert response.status_code == 200
    assert "25 MB" in response.context["form"].errors["attachments"][0]
    assert "select them again" in response.text
    assert 'value="Big files"' in response.text
    assert not Message.objects.exists()


def test_attachments_within_the_limit_are_kept_for_sending(
    as_sam: Client,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    files = [
        SimpleUploadedFile("plan.pdf", b"%PDF-1.4", content_type="application/pdf"),
        SimpleUploadedFile("notes.txt", b"notes", content_type="text/plain"),
    ]

    with django_capture_on_commit_callbacks(execute=False):
        write(as_sam, carol, attachments=files)

    message = Message.objects.get()
    assert sorted(a.filename for a in message.attachments.all()) == [
        "notes.txt",
        "plan.pdf",
    ]


def test_sent_and_failed_states_are_shown_and_failed_mail_can_be_retried(
    sam: User,
    as_sam: Client,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    thread = thread_with(carol, sams_mailbox)
    sent = outbound(thread, sams_mailbox, sam, text_body="Went out", status="sent")
    failed = outbound(
        thread,
        sams_mailbox,
        sam,
        text_body="Stuck",
        status=Message.Status.FAILED,
        failure_reason="Gmail refused the recipient.",
    )

    page = as_sam.get(reverse("conversations:thread", args=[thread.pk])).text
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        retried = as_sam.post(reverse("conversations:retry", args=[failed.pk]))

    assert sent.pk and 'badge-ok">Sent' in page
    assert "Failed" in page and "Gmail refused the recipient." in page
    assert reverse("conversations:retry", args=[failed.pk]) in page
    assert retried.status_code == 302
    failed.refresh_from_db()
    assert failed.status == Message.Status.QUEUED and failed.failure_reason == ""
    assert len(callbacks) == 1


def test_only_the_author_may_retry(
    pat: User, sign_in: Any, carol: Contact, sams_mailbox: Mailbox, sam: User
) -> None:
    thread = thread_with(carol, sams_mailbox)
    failed = outbound(thread, sams_mailbox, sam, status=Message.Status.FAILED)

    response = sign_in(pat).post(reverse("conversations:retry", args=[failed.pk]))

    assert response.status_code == 404
    failed.refresh_from_db()
    assert failed.status == Message.Status.FAILED


def test_a_reply_form_is_prefilled_and_joins_the_thread(
    as_sam: Client,
    carol: Contact,
    sams_mailbox: Mailbox,
    django_capture_on_commit_callbacks: Any,
) -> None:
    thread = thread_with(carol, sams_mailbox, subject="Question")
    question = thread.messages.get()

    form_page = as_sam.get(reverse("conversations:reply", args=[question.pk]))
    with django_capture_on_commit_callbacks(execute=False):
        response = as_sam.post(
            reverse("conversations:reply", args=[question.pk]),
            {"to": CAROL, "cc": "", "subject": "Re: Question", "body": "Answer"},
        )

    initial = form_page.context["form"].initial
    assert initial["to"] == CAROL and initial["subject"] == "Re: Question"
    assert response.status_code == 302
    answer = Message.objects.get(text_body="Answer")
    assert answer.thread_id == thread.pk
    assert answer.in_reply_to == question.rfc_message_id
    assert Thread.objects.count() == 1
