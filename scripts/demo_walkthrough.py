"""Walk through the README's journey against a running demo, in Chromium,
and save the README's pictures in docs/images/.

Start the demo first (``make demo``), then::

    .venv/bin/python scripts/demo_walkthrough.py [--url http://127.0.0.1:8000]

It signs in as Gina, connects Gmail through the sandbox's consent screen,
waits for the first import, writes to Maria Lopez from her record, and
waits for the demo's live mail to answer. It fails loudly at the first
step that does not work as the README says. Gina's mailbox stays
connected afterwards; start from a fresh data folder to walk it again.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

PASSWORD = "revstackr-demo"  # noqa: S105 - the demo's published password
IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
# Who connects what, whom they write to, and a thread the import brings in.
MAILBOXES = [
    (
        "gina@northwind.test",
        "Connect Gmail",
        "gina@gmail.test",
        "Maria Lopez",
        "Spring catalogue order",
    ),
    (
        "owen@northwind.test",
        "Connect Outlook",
        "owen@outlook.test",
        "Priya Raman",
        "Holiday toy line: order volumes",
    ),
]
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    options = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)

    args = (["--no-sandbox"] if os.geteuid() == 0 else []) + CHROMIUM_ARGS
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=options.chromium, args=args, headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(20_000)
        walk(page, options.url.rstrip("/"))
        browser.close()


def walk(page: Any, url: str) -> None:
    step("1. Avery, the Admin, looks at My Staff")
    sign_in(page, url, "admin@northwind.test")
    page.get_by_role("link", name="My Staff").click()
    expect(page.get_by_role("cell", name="gina@northwind.test")).to_be_visible()
    picture(page, "my-staff")
    sign_out(page)

    for login, button, address, contact, known in MAILBOXES:
        step(f"2. {login} connects {address} on My Profile ({button})")
        sign_in(page, url, login)
        connect(page, button=button, address=address)

        step("3. The worker imports the mail (the box says when it is done)")
        wait_for_import(page)
        picture(page, f"profile-connected-{provider_of(address)}")

        step(f"4. {contact}'s record shows the mail with them, from every folder")
        open_contact(page, contact)
        expect(page.get_by_role("link", name=known)).to_be_visible()
        picture(page, f"contact-conversations-{provider_of(address)}")

        step(f"5. Writing to {contact} from the composer")
        composer = page.locator("#composer")
        composer.get_by_label("Subject").fill("Autumn prices")
        composer.get_by_label("Message").fill("Our autumn prices are ready.")
        composer.get_by_role("button", name="Send").click()
        expect(page.get_by_text("Your email is on its way.")).to_be_visible()
        sent = page.locator("#latest .badge", has_text=re.compile("^Sent$"))
        expect(sent).to_be_visible(timeout=90_000)
        page.evaluate("() => window.scrollTo(0, 0)")  # the thread's heading too
        picture(page, f"thread-sent-{provider_of(address)}")
        sign_out(page)

    step("6. The Conversations page lists every thread Gina may see")
    sign_in(page, url, "gina@northwind.test")
    page.locator(".sidebar").get_by_role("link", name="Conversations").click()

    step("7. A contact answers (the demo's live mail), with no reload")
    rows = page.locator("tr.thread-row")
    before = rows.all_inner_texts()
    page.evaluate("() => { window.stillTheSamePage = true; }")
    deadline = time.monotonic() + 150
    while rows.all_inner_texts() == before:
        if time.monotonic() > deadline:
            raise SystemExit("no live mail reached the Conversations page")
        page.wait_for_timeout(2000)
    if page.evaluate("() => window.stillTheSamePage") is not True:
        raise SystemExit("the Conversations page reloaded instead of updating")
    picture(page, "conversations-live")
    sign_out(page)

    step("8. Support staff see every mailbox in the Django admin")
    page.goto(f"{url}/admin/login/")
    page.get_by_label("Email address").fill("support@revstackr.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Mailboxes").click()
    for _, _, address, _, _ in MAILBOXES:
        expect(page.get_by_role("link", name=address)).to_be_visible()
    picture(page, "admin-mailboxes")
    print("walkthrough finished: pictures in", IMAGES, flush=True)


def connect(page: Any, *, button: str, address: str) -> None:
    page.get_by_role("link", name="My Profile").click()
    with page.expect_popup() as popup_info:
        page.get_by_role("button", name=button).click()
    popup = popup_info.value
    popup.get_by_role("radio", name=address).check()
    picture(popup, f"consent-{provider_of(address)}")
    with popup.expect_event("close"):
        popup.get_by_role("button", name=re.compile("^(Allow|Accept)$")).click()
    expect(page.locator("#email-sync")).to_contain_text(address)


def wait_for_import(page: Any) -> None:
    box = page.locator("#email-sync")
    deadline = time.monotonic() + 180
    while "synced at" not in box.inner_text():
        if time.monotonic() > deadline:
            raise SystemExit("the first import did not finish in 3 minutes")
        time.sleep(3)
        page.reload()


def sign_in(page: Any, url: str, login: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def open_contact(page: Any, name: str) -> None:
    page.locator(".sidebar").get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name=name).click()
    page.get_by_role("navigation", name="Contact").get_by_role(
        "link", name="Conversations"
    ).click()


def provider_of(address: str) -> str:
    """ "gmail" or "outlook", from the demo's sandbox addresses."""
    return address.partition("@")[2].split(".")[0]


def picture(page: Any, name: str) -> None:
    page.screenshot(path=str(IMAGES / f"{name}.png"))


def step(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    main()
