"""View decorators for pages that only employees of an account may open."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import Account, User

View = Callable[..., HttpResponse]


class EmployeeRequest(HttpRequest):
    """The request that views behind ``employee_required`` receive."""

    user: User
    account: Account


def employee_required(view: View) -> View:
    """Require a signed-in employee; support staff have no account pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.account_id is None:  # type: ignore[union-attr]
            raise PermissionDenied("Only employees of an account can open this page.")
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def employee_permission_required(permission: str) -> Callable[[View], View]:
    """Require a signed-in employee who holds ``permission`` (else 403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied("Your Admin has not given you this permission.")
            return view(request, *args, **kwargs)

        return employee_required(wrapper)

    return decorator


def admin_required(view: View) -> View:
    """Require a signed-in Admin of an account (else 403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_account_admin:  # type: ignore[union-attr]
            raise PermissionDenied("Only your account's Admins can open this page.")
        return view(request, *args, **kwargs)

    return employee_required(wrapper)
