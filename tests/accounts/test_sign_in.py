import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, EmployeeFactory

pytestmark = pytest.mark.django_db


def sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_sign_in_page_is_served_to_anonymous_visitors(client: Client) -> None:
    response = client.get(reverse("account_login"))

    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_employee_signs_in_with_email_and_password(client: Client) -> None:
    employee = EmployeeFactory(email="ana@example.com")

    response = sign_in(client, "ana@example.com")

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == employee


def test_email_is_matched_case_insensitively(client: Client) -> None:
    EmployeeFactory(email="ana@example.com")

    response = sign_in(client, "  Ana@Example.COM")

    assert response.status_code == 302


def test_wrong_password_is_refused_without_signing_in(client: Client) -> None:
    EmployeeFactory(email="ana@example.com")

    response = sign_in(client, "ana@example.com", "not the password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_deactivated_employee_cannot_sign_in(client: Client) -> None:
    EmployeeFactory(email="ana@example.com", is_active=False)

    sign_in(client, "ana@example.com")

    assert "_auth_user_id" not in client.session


def test_pages_redirect_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_sign_out_ends_the_session(client: Client) -> None:
    employee = EmployeeFactory()
    client.force_login(employee, backend="accounts.backends.EmployeeBackend")

    client.post(reverse("account_logout"))

    assert "_auth_user_id" not in client.session


def test_nobody_can_sign_up(client: Client) -> None:
    before = User.objects.count()

    page = client.get(reverse("account_signup"))
    client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert b"Sign Up Closed" in page.content
    assert User.objects.count() == before
    assert b"sign up" not in client.get(reverse("account_login")).content.lower()


def test_password_reset_mails_a_link_to_a_known_address(
    client: Client, mailoutbox
) -> None:
    EmployeeFactory(email="ana@example.com")

    client.post(reverse("account_reset_password"), {"email": "ana@example.com"})

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ana@example.com"]
    assert "/accounts/password/reset/key/" in mailoutbox[0].body
