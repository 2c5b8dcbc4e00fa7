import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account, User
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_create_account_makes_the_business_and_its_first_admin() -> None:
    call_command(
        "create_account",
        name="Acme",
        admin_email="Boss@Acme.test",
        admin_name="Bo Ss",
        password="a long enough password",
    )

    admin = User.objects.get(email="boss@acme.test")
    assert admin.account == Account.objects.get(name="Acme")
    assert admin.is_account_admin
    assert not admin.is_staff
    assert admin.check_password("a long enough password")


def test_create_account_refuses_a_login_that_exists() -> None:
    EmployeeFactory(email="boss@acme.test")

    with pytest.raises(CommandError, match="already used"):
        call_command(
            "create_account", name="Acme", admin_email="BOSS@acme.test", admin_name="B"
        )

    assert not Account.objects.filter(name="Acme").exists()


def test_create_support_user_makes_staff_without_an_account() -> None:
    call_command(
        "create_support_user", email="help@revstackr.test", password="pw-123-long"
    )

    user = User.objects.get(email="help@revstackr.test")
    assert user.is_staff
    assert user.account is None
