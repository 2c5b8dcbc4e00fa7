from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from tests.factories import EmployeeFactory


@pytest.fixture
def contacts_user(admin_user: User) -> User:
    """An employee (not an Admin) who has the Contacts permission."""
    user = EmployeeFactory(account=admin_user.account)
    user.user_permissions.add(Permission.objects.get(codename="access_contacts"))
    return user


@pytest.fixture
def contacts_client(contacts_user: User, signed_in: Callable[[User], Client]) -> Client:
    return signed_in(contacts_user)
