"""Email sync settings (Admins), the own never-log list, and My Staff's
mailbox column."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from conversations.models import NeverLog
from mailsync.models import Mailbox
from tests.factories import AdminFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> tuple[Client, User]:
    admin = AdminFactory(email="avery@northwind.test")
    client.force_login(admin, backend="accounts.backends.EmployeeBackend")
    return client, admin


def test_an_admin_sets_the_import_window(admin_client: tuple[Client, User]) -> None:
    client, admin = admin_client

    client.post(
        reverse("mailsync:email_settings"),
        {"save_window": "1", "import_window_days": "30"},
    )

    account = admin.employer
    account.refresh_from_db()
    assert account.import_window_days == 30


def test_a_bad_import_window_is_refused_and_kept(
    admin_client: tuple[Client, User],
) -> None:
    client, admin = admin_client

    page = client.post(
        reverse("mailsync:email_settings"),
        {"save_window": "1", "import_window_days": "0"},
    )

    assert b"between 1 and 3650" in page.content
    assert b'value="0"' in page.content
    account = admin.employer
    account.refresh_from_db()
    assert account.import_window_days == 90


def test_an_admin_adds_and_removes_account_never_log_entries(
    admin_client: tuple[Client, User],
) -> None:
    client, _ = admin_client

    client.post(
        reverse("mailsync:email_settings"),
        {"add_entry": "1", "value": "  @Private.Example "},
    )
    entry = NeverLog.objects.get()
    page = client.get(reverse("mailsync:email_settings"))
    client.post(reverse("mailsync:remove_account_never_log", args=[entry.pk]))

    assert entry.value == "private.example" and entry.employee is None
    assert b"northwind.test" in page.content  # the own domain, always
    assert not NeverLog.objects.exists()


def test_a_value_that_is_no_address_or_domain_is_refused(
    admin_client: tuple[Client, User],
) -> None:
    client, _ = admin_client

    page = client.post(
        reverse("mailsync:email_settings"), {"add_entry": "1", "value": "not a domain"}
    )

    assert b"neither an email address nor a domain" in page.content
    assert not NeverLog.objects.exists()


def test_an_employee_keeps_an_own_never_log_list(client: Client) -> None:
    employee = EmployeeFactory()
    employee.user_permissions.add(Permission.objects.get(codename="access_settings"))
    client.force_login(employee, backend="accounts.backends.EmployeeBackend")

    client.post(reverse("mailsync:add_own_never_log"), {"value": "lawyer@firm.example"})
    page = client.get(reverse("profile"))

    entry = NeverLog.objects.get()
    assert entry.employee == employee
    assert b"lawyer@firm.example" in page.content


def test_my_staff_shows_each_employees_mailbox_state(
    admin_client: tuple[Client, User],
) -> None:
    client, admin = admin_client
    gina = EmployeeFactory(account=admin.account, email="gina@northwind.test")
    Mailbox.objects.create(
        account=admin.employer,
        employee=gina,
        provider=Mailbox.Provider.GMAIL,
        address="gina@gmail.test",
        state=Mailbox.State.DISCONNECTED,
        state_reason="Google no longer accepts RevStackr's access",
    )

    page = client.get(reverse("staff:list")).content.decode()

    assert "gina@gmail.test" in page
    assert "Disconnected" in page and "no longer accepts" in page
    assert "Not connected" in page  # the Admin has no mailbox
