import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_step_of_clock_drift(settings) -> None:
    # A code computed just before a 30-second step ends is still accepted,
    # so the test does not fail on the boundary.
    settings.MFA_TOTP_TOLERANCE = 1


def code_for(secret: str, *, steps_ahead: int = 0) -> str:
    """Compute what an authenticator app shows now (or a step later)."""
    counter = int(time.time()) // 30 + steps_ahead
    return format_hotp_value(hotp_value(secret, counter))


def sign_in(client: Client, user: User):
    return client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )


def confirm_password(client: Client) -> None:
    # allauth asks for the password again before a security change.
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def activate_authenticator(client: Client) -> None:
    confirm_password(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.get("Location")
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": code_for(secret)})
    assert response.status_code == 302, response.context["form"].errors


def test_an_admin_finds_two_factor_sign_in_under_settings(
    signed_in, admin_user
) -> None:
    response = signed_in(admin_user).get(reverse("mfa_index"))

    assert response.status_code == 200
    assert b"Two-factor sign-in" in response.content
    assert b"Authenticator App" in response.content


def test_an_admin_turns_on_an_authenticator_app_with_a_correct_code(
    client: Client, admin_user
) -> None:
    sign_in(client, admin_user)
    asked_to_confirm = client.get(reverse("mfa_activate_totp"))
    confirm_password(client)

    page = client.get(reverse("mfa_activate_totp"))
    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    activate_authenticator(client)

    assert asked_to_confirm["Location"].startswith(reverse("account_reauthenticate"))
    assert page.status_code == 200
    assert b"RevStackr" in page.content  # our layout around allauth's page
    assert wrong.status_code == 200
    assert Authenticator.objects.filter(
        user=admin_user, type=Authenticator.Type.TOTP
    ).exists()


def test_once_on_signing_in_asks_for_the_code(client: Client, admin_user) -> None:
    sign_in(client, admin_user)
    activate_authenticator(client)
    secret = decrypt(
        Authenticator.objects.get(user=admin_user, type=Authenticator.Type.TOTP).data[
            "secret"
        ]
    )
    client.post(reverse("account_logout"))

    password_only = sign_in(client, admin_user)
    assert password_only["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    client.post(reverse("mfa_authenticate"), {"code": code_for(secret, steps_ahead=1)})
    assert client.session["_auth_user_id"] == str(admin_user.pk)
