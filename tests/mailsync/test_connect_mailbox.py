"""Connecting a mailbox through allauth's real flow and the sandbox."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mailsync.models import Mailbox
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl
from tests.mailsync.oauth_browser import connect_through_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def gina(
    client: Client, settings_employee: User, google_sandbox: GoogleSandboxControl
) -> Client:
    google_sandbox.create_user("gina@gmail.test", "Gina")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    return client


def test_connecting_gmail_makes_a_connected_mailbox(
    gina: Client, settings_employee: User
) -> None:
    answer = connect_through_consent(gina, "google", account="gina@gmail.test")

    assert answer.status_code == 302
    assert answer["Location"] == reverse("profile")
    mailbox = Mailbox.objects.get(employee=settings_employee)
    assert mailbox.provider == Mailbox.Provider.GMAIL
    assert mailbox.address == "gina@gmail.test"
    assert mailbox.is_connected and mailbox.is_current
    assert mailbox.access_token and mailbox.refresh_token
    assert "https://www.googleapis.com/auth/gmail.send" in mailbox.granted_scopes
    page = gina.get(reverse("profile"))
    assert b"Connected" in page.content and b"gina@gmail.test" in page.content


def test_connecting_outlook_makes_a_connected_mailbox(
    client: Client,
    settings_employee: User,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    microsoft_sandbox.create_user("owen@outlook.test", "Owen")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")

    answer = connect_through_consent(client, "microsoft", account="owen@outlook.test")

    assert answer.status_code == 302, answer.content
    mailbox = Mailbox.objects.get(employee=settings_employee)
    assert mailbox.provider == Mailbox.Provider.OUTLOOK
    assert mailbox.address == "owen@outlook.test"
    assert mailbox.is_connected
    assert mailbox.refresh_token


def test_allauth_keeps_no_social_account_or_token(gina: Client) -> None:
    from allauth.socialaccount.models import SocialAccount, SocialToken

    connect_through_consent(gina, "google", account="gina@gmail.test")

    assert not SocialAccount.objects.exists()
    assert not SocialToken.objects.exists()


def test_a_denied_consent_connects_nothing_and_says_so(gina: Client) -> None:
    answer = connect_through_consent(
        gina, "google", account="gina@gmail.test", allow=False
    )

    assert not Mailbox.objects.exists()
    page = gina.get(answer["Location"], follow=True)
    assert b"nothing was connected" in page.content.lower()


def test_a_consent_without_send_is_refused_and_revoked(
    gina: Client, google_sandbox: GoogleSandboxControl
) -> None:
    answer = connect_through_consent(
        gina, "google", account="gina@gmail.test", untick=("gmail.send",)
    )

    assert not Mailbox.objects.exists()
    page = gina.get(answer["Location"])
    assert b"Send email on your behalf" in page.content
    assert google_sandbox.revoke_grant("gina@gmail.test") == 0  # already revoked


def test_the_popup_flow_ends_on_the_page_that_closes_the_window(gina: Client) -> None:
    answer = connect_through_consent(
        gina, "google", account="gina@gmail.test", popup=True
    )

    assert answer["Location"].startswith(reverse("mailsync:connect_done") + "?popup=1")
    closer = gina.get(answer["Location"])
    assert b"connect-popup.js" in closer.content
    assert Mailbox.objects.get().is_connected


def test_reconnecting_the_same_address_keeps_the_mailbox(
    gina: Client, settings_employee: User
) -> None:
    connect_through_consent(gina, "google", account="gina@gmail.test")
    first = Mailbox.objects.get()
    first.last_synced_at = first.connected_at
    first.state = Mailbox.State.DISCONNECTED
    first.save()

    connect_through_consent(gina, "google", account="gina@gmail.test")

    again = Mailbox.objects.get()
    assert again.pk == first.pk
    assert again.state == Mailbox.State.ACTIVE  # resumes from its cursor


def test_a_different_address_waits_for_confirmation(
    gina: Client, google_sandbox: GoogleSandboxControl, settings_employee: User
) -> None:
    google_sandbox.create_user("gina.other@gmail.test", "Gina")
    connect_through_consent(gina, "google", account="gina@gmail.test")

    answer = connect_through_consent(gina, "google", account="gina.other@gmail.test")

    pending = Mailbox.objects.get(state=Mailbox.State.PENDING)
    assert answer["Location"] == reverse(
        "mailsync:confirm_replacement", args=[pending.pk]
    )
    assert Mailbox.objects.get(is_current=True).address == "gina@gmail.test"

    gina.post(answer["Location"], {"confirm": "1"})

    current = Mailbox.objects.get(is_current=True)
    assert current.address == "gina.other@gmail.test"
    old = Mailbox.objects.get(address="gina@gmail.test")
    assert old.state == Mailbox.State.DISCONNECTED
    assert not old.refresh_token_encrypted


def test_disconnect_revokes_and_keeps_the_row(
    gina: Client, google_sandbox: GoogleSandboxControl
) -> None:
    connect_through_consent(gina, "google", account="gina@gmail.test")

    gina.post(reverse("mailsync:disconnect"))

    mailbox = Mailbox.objects.get()
    assert mailbox.state == Mailbox.State.DISCONNECTED
    assert mailbox.state_reason == "You disconnected it"
    assert not mailbox.refresh_token_encrypted
    assert google_sandbox.revoke_grant("gina@gmail.test") == 0


def test_a_callback_without_the_sessions_state_connects_nothing(
    gina: Client, settings_employee: User, google_sandbox: GoogleSandboxControl
) -> None:
    from urllib.parse import urlsplit

    from tests.mailsync.oauth_browser import consent

    start = gina.post(reverse("google_login") + "?process=connect", {"next": "/"})
    callback = urlsplit(consent(start["Location"], account="gina@gmail.test"))
    tampered = callback.query.replace("state=", "state=forged")

    answer = gina.get(f"{callback.path}?{tampered}")

    assert not Mailbox.objects.exists()
    assert answer.status_code == 302


def test_another_employees_session_cannot_complete_someone_elses_flow(
    gina: Client, settings_employee: User
) -> None:
    from urllib.parse import urlsplit

    from tests.factories import AdminFactory
    from tests.mailsync.oauth_browser import consent

    start = gina.post(reverse("google_login") + "?process=connect", {"next": "/"})
    callback = urlsplit(consent(start["Location"], account="gina@gmail.test"))
    admin = AdminFactory(account=settings_employee.account)
    other = Client()
    other.force_login(admin, backend="accounts.backends.EmployeeBackend")

    other.get(f"{callback.path}?{callback.query}")

    assert not Mailbox.objects.exists()


def test_the_flow_never_signs_anyone_in(
    client: Client, google_sandbox: GoogleSandboxControl
) -> None:
    from urllib.parse import urlsplit

    from tests.mailsync.oauth_browser import consent

    google_sandbox.create_user("stranger@gmail.test")
    start = client.post(reverse("google_login") + "?process=login", {})
    callback = urlsplit(consent(start["Location"], account="stranger@gmail.test"))

    answer = client.get(f"{callback.path}?{callback.query}")

    assert "_auth_user_id" not in client.session
    assert not Mailbox.objects.exists()
    assert not User.objects.filter(email="stranger@gmail.test").exists()
    assert answer["Location"] == reverse("account_login")


def test_aliases_are_read_from_each_provider(
    client: Client,
    settings_employee: User,
    google_sandbox: GoogleSandboxControl,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    google_sandbox.create_user("gina@gmail.test", "Gina", aliases=["sales@gmail.test"])
    microsoft_sandbox.create_user(
        "owen@outlook.test", "Owen", proxy_addresses=["smtp:o.w@outlook.test"]
    )
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")

    connect_through_consent(client, "google", account="gina@gmail.test")
    gmail = Mailbox.objects.get(is_current=True)
    connect_through_consent(client, "microsoft", account="owen@outlook.test")
    client.post(
        reverse(
            "mailsync:confirm_replacement",
            args=[Mailbox.objects.get(state=Mailbox.State.PENDING).pk],
        ),
        {"confirm": "1"},
    )
    outlook = Mailbox.objects.get(is_current=True)

    assert gmail.aliases == ["sales@gmail.test"]
    assert outlook.provider == Mailbox.Provider.OUTLOOK
    assert outlook.aliases == ["o.w@outlook.test"]


def test_an_outlook_consent_without_send_is_refused_and_says_what_to_do(
    client: Client,
    settings_employee: User,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    microsoft_sandbox.create_user("owen@outlook.test", "Owen")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")

    answer = connect_through_consent(
        client, "microsoft", account="owen@outlook.test", untick=("Mail.Send",)
    )

    assert not Mailbox.objects.exists()
    page = client.get(answer["Location"]).content.decode()
    assert "to read and to send your email" in page
    assert "leave every permission ticked" in page
    assert "revoked or expired" not in page


def test_the_same_address_at_the_other_provider_asks_to_replace(
    client: Client,
    settings_employee: User,
    google_sandbox: GoogleSandboxControl,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    google_sandbox.create_user("sam@northwind.test", "Sam")
    microsoft_sandbox.create_user("sam@northwind.test", "Sam")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    connect_through_consent(client, "google", account="sam@northwind.test")

    answer = connect_through_consent(client, "microsoft", account="sam@northwind.test")

    pending = Mailbox.objects.get(state=Mailbox.State.PENDING)
    assert pending.provider == Mailbox.Provider.OUTLOOK
    assert answer["Location"] == reverse(
        "mailsync:confirm_replacement", args=[pending.pk]
    )
    current = Mailbox.objects.get(is_current=True)
    assert current.provider == Mailbox.Provider.GMAIL and current.is_connected


def test_a_next_to_another_employees_page_still_connects_only_the_signed_in_one(
    gina: Client, settings_employee: User
) -> None:
    from urllib.parse import urlsplit

    from tests.factories import EmployeeFactory
    from tests.mailsync.oauth_browser import consent

    colleague = EmployeeFactory(account=settings_employee.account)
    elsewhere = reverse("staff:edit", args=[colleague.pk])
    start = gina.post(reverse("google_login") + "?process=connect", {"next": elsewhere})
    callback = urlsplit(consent(start["Location"], account="gina@gmail.test"))

    gina.get(f"{callback.path}?{callback.query}")

    mailbox = Mailbox.objects.get()
    assert mailbox.employee == settings_employee
    assert not Mailbox.objects.filter(employee=colleague).exists()


def test_disconnecting_outlook_says_where_to_withdraw_the_permission(
    client: Client,
    settings_employee: User,
    microsoft_sandbox: MicrosoftSandboxControl,
) -> None:
    microsoft_sandbox.create_user("owen@outlook.test", "Owen")
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    connect_through_consent(client, "microsoft", account="owen@outlook.test")

    page = client.post(reverse("mailsync:disconnect"), follow=True)

    mailbox = Mailbox.objects.get()
    assert mailbox.state == Mailbox.State.DISCONNECTED
    assert not mailbox.refresh_token_encrypted
    assert "myapps.microsoft.com" in page.content.decode()
