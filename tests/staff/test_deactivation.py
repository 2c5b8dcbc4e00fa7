import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, AdminFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def sign_in_with_password(user: User) -> Client:
    client = Client()
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302, "sign-in failed"
    return client


def test_deactivating_an_employee_ends_their_live_sessions(
    signed_in, admin_user
) -> None:
    ana = EmployeeFactory(account=admin_user.account)
    laptop = sign_in_with_password(ana)
    phone = sign_in_with_password(ana)
    assert laptop.get(reverse("home")).status_code == 200

    response = signed_in(admin_user).post(reverse("staff:deactivate", args=[ana.pk]))

    assert response.status_code == 302
    for device in (laptop, phone):
        next_request = device.get(reverse("home"))
        assert next_request.status_code == 302
        assert next_request["Location"].startswith(reverse("account_login"))
    assert not Session.objects.filter(
        session_key__in=[laptop.session.session_key, phone.session.session_key]
    ).exists()


def test_a_deactivated_employee_cannot_sign_in(signed_in, admin_user) -> None:
    ana = EmployeeFactory(account=admin_user.account, email="ana@acme.test")
    signed_in(admin_user).post(reverse("staff:deactivate", args=[ana.pk]))

    response = Client().post(
        reverse("account_login"), {"login": "ana@acme.test", "password": PASSWORD}
    )

    assert not User.objects.get(pk=ana.pk).is_active
    assert response.status_code != 302 or response["Location"] != reverse("home")
    assert "_auth_user_id" not in Client().session


def test_reactivation_lets_them_sign_in_again_but_revives_no_old_session(
    signed_in, admin_user
) -> None:
    ana = EmployeeFactory(account=admin_user.account)
    old_session = sign_in_with_password(ana)
    admin = signed_in(admin_user)
    admin.post(reverse("staff:deactivate", args=[ana.pk]))

    response = admin.post(reverse("staff:reactivate", args=[ana.pk]))

    assert response.status_code == 302
    assert User.objects.get(pk=ana.pk).is_active
    assert old_session.get(reverse("home")).status_code == 302
    assert sign_in_with_password(ana).get(reverse("home")).status_code == 200


def test_the_deactivate_page_asks_before_acting(signed_in, admin_user) -> None:
    ana = EmployeeFactory(account=admin_user.account)

    response = signed_in(admin_user).get(reverse("staff:deactivate", args=[ana.pk]))

    assert response.status_code == 200
    assert User.objects.get(pk=ana.pk).is_active


def test_the_last_admin_cannot_deactivate_themselves(signed_in, admin_user) -> None:
    EmployeeFactory(account=admin_user.account)  # a User, not an Admin

    response = signed_in(admin_user).post(
        reverse("staff:deactivate", args=[admin_user.pk])
    )

    assert response.status_code == 200
    assert b"the only active Admin of this account" in response.content
    assert User.objects.get(pk=admin_user.pk).is_active


def test_an_admin_may_deactivate_another_admin(signed_in, admin_user) -> None:
    other_admin = AdminFactory(account=admin_user.account)

    signed_in(admin_user).post(reverse("staff:deactivate", args=[other_admin.pk]))

    assert not User.objects.get(pk=other_admin.pk).is_active


def test_a_deactivated_admin_does_not_count_as_the_remaining_admin(
    signed_in, admin_user
) -> None:
    AdminFactory(account=admin_user.account, is_active=False)

    signed_in(admin_user).post(reverse("staff:deactivate", args=[admin_user.pk]))

    assert User.objects.get(pk=admin_user.pk).is_active


def test_another_accounts_employee_is_not_found(signed_in, admin_user) -> None:
    stranger = EmployeeFactory()

    response = signed_in(admin_user).post(
        reverse("staff:deactivate", args=[stranger.pk])
    )

    assert response.status_code == 404
    assert User.objects.get(pk=stranger.pk).is_active
