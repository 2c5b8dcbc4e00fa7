import pytest
from django.contrib.auth.models import Permission

from accounts.models import EMPLOYEE_PERMISSIONS
from tests.factories import AdminFactory, EmployeeFactory

pytestmark = pytest.mark.django_db


def test_an_admin_holds_every_employee_permission() -> None:
    admin = AdminFactory()

    assert all(admin.has_perm(permission) for permission in EMPLOYEE_PERMISSIONS)


def test_a_user_holds_only_the_permissions_turned_on() -> None:
    employee = EmployeeFactory()
    employee.user_permissions.add(Permission.objects.get(codename="access_contacts"))

    assert employee.has_perm("accounts.access_contacts")
    assert not employee.has_perm("accounts.access_conversations")
    assert not employee.has_perm("accounts.access_settings")


def test_a_deactivated_admin_holds_nothing() -> None:
    admin = AdminFactory(is_active=False)

    assert not admin.has_perm("accounts.access_contacts")
