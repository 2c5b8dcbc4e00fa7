"""The whole journey, for Gmail and for Outlook, in a real browser.

An Admin adds an employee on My Staff; the employee sets a password from
the invitation, connects their mailbox through the provider's consent
screen in a pop-up that closes itself, writes to a contact from the
contact's Conversations tab, and sees the contact's reply arrive in the
thread while looking at it.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from contacts.models import Contact
from conversations.models import Message
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sending import send_outbound_message
from tests.browser.conftest import NewPage, Site, as_the_worker, screenshot
from tests.browser.journey import (
    accept_invitation,
    add_employee,
    connect_mailbox,
    open_conversations_tab,
    sign_in,
    write_email,
)
from tests.factories import PASSWORD
from tests.mailsync.conftest import sync_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMPLOYEE_PASSWORD = "a long employee password"
MARIA = "maria.lopez@contoso.test"
MARIA_FROM = f"Maria Lopez <{MARIA}>"
SUBJECT = "Your spring order"
REPLY = "Thanks! Please book 40 cases for the 14th."

MAILBOXES = [
    pytest.param("gmail", "gina@gmail.test", "Connect Gmail", id="gmail"),
    pytest.param("outlook", "owen@outlook.test", "Connect Outlook", id="outlook"),
]


@pytest.fixture(autouse=True)
def quick_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    # A thread page asks for new messages every second instead of every 15.
    monkeypatch.setattr("conversations.views.POLL_SECONDS", 1)


@pytest.mark.parametrize(("provider", "address", "button"), MAILBOXES)
def test_from_invitation_to_a_contact_reply_arriving_live(
    provider: str,
    address: str,
    button: str,
    avery: User,
    maria: Contact,
    site: Site,
    new_page: NewPage,
    google: GoogleSandboxControl,
    microsoft: MicrosoftSandboxControl,
) -> None:
    # The employee's mailbox at the provider already holds mail with Maria.
    if provider == "gmail":
        google.create_user(address, "Sam Seller")
        google.deliver(
            from_=MARIA_FROM,
            to=[address],
            mailbox=address,
            subject="Spring catalogue",
            text="Could you send the spring catalogue with trade prices?",
        )
    else:
        microsoft.create_user(address, "Sam Seller")
        microsoft.deliver(
            address,
            sender=MARIA_FROM,
            subject="Spring catalogue",
            text="Could you send the spring catalogue with trade prices?",
        )

    # The Admin adds Sam on My Staff.
    admin = new_page()
    sign_in(admin, site, avery.email, PASSWORD)
    add_employee(admin, site, name="Sam Seller", email="sam@northwind.test")
    screenshot(admin, "my-staff")

    # Sam sets a password from the invitation and connects the mailbox.
    page = new_page()
    accept_invitation(page, "sam@northwind.test", EMPLOYEE_PASSWORD)
    connect_mailbox(
        page, button=button, account=address, screenshot_as=f"consent-{provider}"
    )
    box = page.locator("#email-sync")
    expect(box).to_contain_text("Connected")
    expect(box).to_contain_text(address)
    mailbox = Mailbox.objects.get(employee__email="sam@northwind.test")
    assert (mailbox.provider, mailbox.address) == (provider, address)

    # The worker's first import brings in the mail with Maria.
    as_the_worker(lambda: sync_until_idle(mailbox))
    page.reload()
    expect(box).to_contain_text("Connected")
    screenshot(page, f"profile-connected-{provider}")
    open_conversations_tab(page, site, "Maria Lopez")
    expect(page.get_by_role("link", name="Spring catalogue")).to_be_visible()

    # Sam writes to Maria and lands on the new thread, where it is Sending
    # until the worker sends it through Sam's own mailbox; then it says
    # Sent without a reload.
    write_email(page, to=MARIA, subject=SUBJECT, text="Our trade prices attached.")
    badge = page.locator("#latest .badge")
    expect(badge).to_have_text("Sending")
    page.evaluate("() => { window.stillTheSamePage = true; }")
    sent = Message.objects.get(subject=SUBJECT)
    assert as_the_worker(lambda: send_outbound_message(message_id=sent.pk)) == "sent"
    expect(badge).to_have_text("Sent")
    sent.refresh_from_db()
    if provider == "gmail":
        in_sent = google.messages(address, label="SENT")
        assert [m["rfc822MessageId"] for m in in_sent] == [sent.rfc_message_id]
    else:
        in_sent = microsoft.folder_messages(address, "sentitems")
        assert [m["internet_message_id"] for m in in_sent] == [sent.rfc_message_id]
    screenshot(page, f"thread-sent-{provider}")

    # Sam keeps looking at the thread while Maria answers.
    expect(page.locator("#latest")).to_contain_text("Our trade prices attached.")
    # Maria answers a moment later: a Date header counts whole seconds, and
    # the thread lists messages by date.
    page.wait_for_timeout(1100)
    if provider == "gmail":
        google.deliver(
            from_=MARIA_FROM,
            to=[address],
            mailbox=address,
            subject=f"Re: {SUBJECT}",
            text=REPLY,
            in_reply_to=in_sent[0]["id"],
        )
    else:
        microsoft.deliver(
            address,
            sender=MARIA_FROM,
            subject=f"RE: {SUBJECT}",
            text=REPLY,
            reply_to_internet_message_id=sent.rfc_message_id,
        )
    as_the_worker(lambda: sync_until_idle(mailbox))

    expect(page.locator("#latest")).to_contain_text(REPLY)
    assert page.evaluate("() => window.stillTheSamePage") is True
    assert Message.objects.filter(thread=sent.thread).count() == 2
    screenshot(page, f"thread-live-reply-{provider}")
