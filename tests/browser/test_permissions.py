"""An employee without the Conversations permission sees no email."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from tests.browser.conftest import NewPage, Site
from tests.browser.journey import accept_invitation, add_employee, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_without_conversations_the_tab_is_gone_and_its_address_forbidden(
    avery: User, maria: Any, site: Site, new_page: NewPage
) -> None:
    admin = new_page()
    sign_in(admin, site, avery.email, PASSWORD)
    add_employee(
        admin,
        site,
        name="Cleo Contacts",
        email="cleo@northwind.test",
        permissions=("Contacts", "Settings"),
    )

    page = new_page()
    accept_invitation(page, "cleo@northwind.test", "a long employee password")
    page.locator(".sidebar").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Maria Lopez").click()

    tabs = page.get_by_role("navigation", name="Contact")
    expect(tabs.get_by_role("link", name="Overview")).to_be_visible()
    expect(tabs.get_by_role("link", name="Conversations")).to_have_count(0)
    expect(
        page.locator(".sidebar").get_by_role("link", name="Conversations")
    ).to_have_count(0)
    for path in (
        reverse("contacts:conversations", args=[maria.pk]),
        reverse("conversations:inbox"),
    ):
        response = page.goto(site(path))
        assert response is not None and response.status == 403, path
