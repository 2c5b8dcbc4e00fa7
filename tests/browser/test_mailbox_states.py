"""A revoked grant shows Disconnected on My Profile; Reconnect brings the
mailbox back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from mailsync.services.sync import sync_mailbox
from tests.browser.conftest import NewPage, Site, as_the_worker, screenshot
from tests.browser.journey import connect_mailbox, sign_in
from tests.factories import PASSWORD
from tests.mailsync.conftest import sync_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAILBOXES = [
    pytest.param("gmail", "gina@gmail.test", "Connect Gmail", id="gmail"),
    pytest.param("outlook", "owen@outlook.test", "Connect Outlook", id="outlook"),
]


@pytest.mark.parametrize(("provider", "address", "button"), MAILBOXES)
def test_a_revoked_grant_shows_disconnected_and_reconnect_brings_it_back(
    provider: str,
    address: str,
    button: str,
    sam: User,
    site: Site,
    new_page: NewPage,
    google: GoogleSandboxControl,
    microsoft: MicrosoftSandboxControl,
) -> None:
    if provider == "gmail":
        google.create_user(address, "Sam Seller")
    else:
        microsoft.create_user(address, "Sam Seller")
    page = new_page()
    sign_in(page, site, sam.email, PASSWORD)
    connect_mailbox(page, button=button, account=address)
    mailbox = Mailbox.objects.get(employee=sam, is_current=True)
    as_the_worker(lambda: sync_until_idle(mailbox))

    # The person revokes RevStackr's access at the provider; the next sync
    # finds out.
    if provider == "gmail":
        google.revoke_grant(address)
    else:
        microsoft.revoke(address)
    as_the_worker(lambda: sync_mailbox(mailbox_id=mailbox.pk))

    page.reload()
    box = page.locator("#email-sync")
    expect(box).to_contain_text("Disconnected")
    expect(page.get_by_role("alert").filter(has_text="disconnected")).to_be_visible()
    screenshot(page, f"profile-disconnected-{provider}")

    connect_mailbox(page, button="Reconnect", account=address)

    expect(box).to_contain_text("Connected")
    expect(box).not_to_contain_text("Disconnected")
    reconnected = Mailbox.objects.get(employee=sam, is_current=True)
    assert reconnected.is_connected
    assert reconnected.address == address
