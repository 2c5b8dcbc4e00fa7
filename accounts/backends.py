"""Authentication and permissions for employees."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.models import EMPLOYEE_PERMISSIONS, User


class EmployeeBackend(ModelBackend):
    """Sign in by email, case-insensitively; inactive people are refused.

    An account's Admins hold every employee permission whatever their
    stored permissions say, so an Admin can never lock themselves out.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = kwargs.get("email") or username
        if email is None or password is None:
            return None
        try:
            user = User.objects.get_by_natural_key(email)
        except User.DoesNotExist:
            # Hash anyway so that a missing address takes as long as a
            # wrong password and does not reveal which addresses exist.
            User().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        permissions = super().get_all_permissions(user_obj, obj)
        if user_obj.is_active and getattr(user_obj, "is_account_admin", False):
            permissions = {*permissions, *EMPLOYEE_PERMISSIONS}
        return permissions
