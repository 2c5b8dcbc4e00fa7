import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import AdminFactory, EmployeeFactory, SupportUserFactory

pytestmark = pytest.mark.django_db


def test_support_staff_reach_the_admin_and_find_accounts(client: Client) -> None:
    employee = EmployeeFactory(email="ana@acme.test", account__name="Acme")
    client.force_login(SupportUserFactory())

    index = client.get(reverse("admin:index"))
    accounts = client.get(reverse("admin:accounts_account_changelist"), {"q": "Acme"})
    users = client.get(reverse("admin:accounts_user_changelist"), {"q": "ana@acme"})

    assert index.status_code == 200
    assert b"Acme" in accounts.content
    assert employee.email.encode() in users.content


def test_an_admin_employee_cannot_reach_the_django_admin(client: Client) -> None:
    client.force_login(AdminFactory())

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_support_staff_have_no_account_pages(client: Client) -> None:
    client.force_login(
        SupportUserFactory(), backend="accounts.backends.EmployeeBackend"
    )

    assert client.get(reverse("home")).status_code == 403


def test_an_employee_can_never_be_support_staff() -> None:
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        EmployeeFactory(is_staff=True)
