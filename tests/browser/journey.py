"""The steps of the user journey, as a person does them in the browser.

Each step clicks and types what the page shows (link texts, labels and
buttons), so a test that uses them reads like the README's walk-through.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Site, invitation_link, screenshot

PERMISSION_LABELS = ("Conversations", "Contacts", "Settings")


def sign_in(page: Any, site: Site, email: str, password: str) -> None:
    page.goto(site("/accounts/login/"))
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def add_employee(
    page: Any,
    site: Site,
    *,
    name: str,
    email: str,
    permissions: tuple[str, ...] = PERMISSION_LABELS,
) -> None:
    """As an Admin: Settings > My Staff > Add Employee, then Edit to set
    the permissions."""
    page.goto(site("/"))
    page.get_by_role("link", name="My Staff").click()
    page.get_by_role("link", name="Add Employee").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Business email").fill(email)
    page.get_by_role("button", name="Save and send invitation").click()
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("Invited")

    row.get_by_role("link", name="Edit").click()
    for label in PERMISSION_LABELS:
        page.get_by_role("checkbox", name=label, exact=True).set_checked(
            label in permissions
        )
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.get_by_role("row").filter(has_text=email)
    for label in PERMISSION_LABELS:
        badge = row.locator(".badge", has_text=label)
        expect(badge).to_have_count(1 if label in permissions else 0)


def accept_invitation(page: Any, email: str, password: str) -> None:
    """As the new employee: open the emailed link, set a password."""
    page.goto(invitation_link(email))
    page.get_by_label("New password", exact=True).fill(password)
    page.get_by_label("New password confirmation").fill(password)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def connect_mailbox(
    page: Any, *, button: str, account: str, screenshot_as: str = ""
) -> None:
    """On My Profile: click Connect (or Reconnect), choose the account on
    the provider's consent screen in the pop-up and allow; the pop-up
    closes itself and My Profile, reloaded, names the connected address."""
    page.get_by_role("link", name="My Profile").click()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name=button).click()
    popup = popup_info.value
    popup.get_by_role("radio", name=account).check()
    if screenshot_as:
        screenshot(popup, screenshot_as)
    # Both wait from before the click: the pop-up may be gone at once.
    with page.expect_navigation(), popup.expect_event("close"):
        popup.get_by_role("button", name=re.compile("^(Allow|Accept)$")).click()
    expect(page.locator("#email-sync")).to_contain_text(account)


def open_conversations_tab(page: Any, site: Site, contact_name: str) -> None:
    page.goto(site("/"))
    page.locator(".sidebar").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name=contact_name).click()
    page.get_by_role("navigation", name="Contact").get_by_role(
        "link", name="Conversations"
    ).click()


def write_email(page: Any, *, to: str, subject: str, text: str) -> None:
    """In the composer of a contact's Conversations tab; the new thread
    opens."""
    composer = page.locator("#composer")
    composer.get_by_label(to).check()
    composer.get_by_label("Subject").fill(subject)
    composer.get_by_label("Message").fill(text)
    composer.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your email is on its way.")).to_be_visible()
