"""A hostile HTML email opens without running anything and without a
single request to its sender's server until the reader asks for images."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from accounts.models import User
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from tests.browser.conftest import NewPage, Site, as_the_worker, screenshot
from tests.browser.journey import connect_mailbox, open_conversations_tab, sign_in
from tests.factories import PASSWORD
from tests.mailsync.conftest import sync_until_idle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ATTACKER = "attacker.invalid"
PIXEL = f"http://{ATTACKER}/pixel.png"
# One transparent pixel, for the attacker's server the test plays.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
HOSTILE_HTML = f"""<html><head>
<link rel="stylesheet" href="http://{ATTACKER}/style.css">
<style>body {{ background-image: url("http://{ATTACKER}/body.png"); }}</style>
<script>alert("script ran")</script>
</head><body onload="alert('onload ran')">
<p>Our new price list is below.</p>
<img src="{PIXEL}" alt="logo" width="1" height="1">
<img src="broken" onerror="alert('onerror ran')">
<div style="background: url(http://{ATTACKER}/div.png)">Spring prices</div>
<svg onload="alert('svg ran')"><circle r="1"/></svg>
<iframe src="http://{ATTACKER}/frame.html"></iframe>
<a href="javascript:alert('link ran')">Open the list</a>
<form action="http://{ATTACKER}/steal"><input name="password"></form>
</body></html>"""


@dataclass
class Reader:
    page: Any
    dialogs: list[str]
    to_attacker: list[str]

    @property
    def body(self) -> Any:
        return self.page.frame_locator("iframe.message-frame")


@pytest.fixture
def reader(
    sam: User,
    maria: Any,
    site: Site,
    new_page: NewPage,
    google: GoogleSandboxControl,
) -> Reader:
    """Sam, with the hostile email from Maria open in front of them; every
    dialog and every request to the attacker's host is noted."""
    google.create_user("sam@gmail.test", "Sam Seller")
    google.deliver(
        from_="Maria Lopez <maria.lopez@contoso.test>",
        to=["sam@gmail.test"],
        mailbox="sam@gmail.test",
        subject="Price list",
        text="Our new price list is below.",
        html=HOSTILE_HTML,
    )
    reader = Reader(new_page(), [], [])
    page = reader.page

    def note_dialog(dialog: Any) -> None:
        reader.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", note_dialog)

    def attacker_server(route: Any) -> None:
        reader.to_attacker.append(route.request.url)
        route.fulfill(status=200, body=PNG, content_type="image/png")

    page.context.route(f"**://{ATTACKER}/**", attacker_server)
    sign_in(page, site, sam.email, PASSWORD)
    connect_mailbox(page, button="Connect Gmail", account="sam@gmail.test")
    mailbox = Mailbox.objects.get(employee=sam, is_current=True)
    as_the_worker(lambda: sync_until_idle(mailbox))

    open_conversations_tab(page, site, "Maria Lopez")
    page.get_by_role("link", name="Price list").click()
    page.locator("iframe.message-frame").scroll_into_view_if_needed()
    expect(reader.body.get_by_text("Our new price list is below.")).to_be_visible()
    expect(reader.body.get_by_text("Spring prices")).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    return reader


def test_a_hostile_email_opens_without_running_or_fetching_anything(
    reader: Reader,
) -> None:
    screenshot(reader.page, "hostile-email-images-hidden")

    assert reader.dialogs == []
    assert reader.to_attacker == []
    expect(reader.page.get_by_role("link", name="Show images")).to_be_visible()


def test_show_images_loads_the_images_and_still_runs_nothing(reader: Reader) -> None:
    reader.page.get_by_role("link", name="Show images").click()
    expect(reader.body.get_by_text("Our new price list is below.")).to_be_visible()
    reader.page.wait_for_load_state("networkidle")
    for _ in range(25):
        if PIXEL in reader.to_attacker:
            break
        reader.page.wait_for_timeout(200)

    assert PIXEL in reader.to_attacker
    assert reader.dialogs == []
