"""The layout on a narrow screen: the sidebar is a menu that the keyboard
opens and closes, and its links are out of reach while it is closed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import NewPage, Site, screenshot
from tests.browser.journey import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused_text(page: object) -> str:
    return str(
        page.evaluate(  # type: ignore[attr-defined]
            "() => document.activeElement.getAttribute('aria-label')"
            " || document.activeElement.textContent.trim()"
        )
    )


def test_on_a_phone_the_keyboard_opens_the_menu_and_skips_it_when_closed(
    sam: User, site: Site, new_page: NewPage
) -> None:
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, site, sam.email, PASSWORD)
    sidebar = page.locator(".sidebar")
    expect(sidebar.get_by_role("link", name="Contacts")).not_to_be_visible()

    # Closed: Tab goes from the skip link to the menu, then past the hidden
    # sidebar straight to the top bar's Sign out.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused_text(page) == "Menu"
    page.keyboard.press("Tab")
    assert focused_text(page) == "Sign out"

    # Space on the menu opens it; its links are then reachable.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    expect(sidebar.get_by_role("link", name="Contacts")).to_be_visible()
    expect(sidebar.get_by_text("Settings", exact=True)).to_be_visible()
    page.wait_for_timeout(300)  # the slide-in
    screenshot(page, "narrow-menu-open")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused_text(page) == "Home"

    # The close button in the menu closes it again.
    sidebar.locator(".nav-close").click()
    expect(sidebar.get_by_role("link", name="Contacts")).not_to_be_visible()
