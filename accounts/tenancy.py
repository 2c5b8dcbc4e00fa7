"""Scoping tenant-owned rows to the signed-in employee's Account.

Every view and selector that reads or changes tenant-owned data goes through
``for_account`` or ``get_for_account_or_404``. Another account's row is a
404, never a 403, so its existence is not revealed. The Django admin is the
one deliberate exception: support staff see across accounts there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.http import Http404, HttpRequest

if TYPE_CHECKING:
    from accounts.models import Account

M = TypeVar("M", bound=models.Model)


class AccountQuerySet(models.QuerySet[M]):
    def for_account(self, account: Account | None) -> AccountQuerySet[M]:
        if account is None:
            return self.none()
        return self.filter(account=account)


class AccountOwned(models.Model):
    """Base for every model whose rows belong to one Account."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+"
    )

    objects = AccountQuerySet.as_manager()

    class Meta:
        abstract = True


def request_account(request: HttpRequest) -> Account | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user.account


def for_account(
    model_or_queryset: type[M] | models.QuerySet[M], request: HttpRequest
) -> models.QuerySet[M]:
    """Return the rows of the signed-in employee's account, and no others."""
    queryset = (
        model_or_queryset._default_manager.all()
        if isinstance(model_or_queryset, type)
        else model_or_queryset
    )
    account = request_account(request)
    if account is None:
        return queryset.none()
    return queryset.filter(account=account)


def get_for_account_or_404(
    model_or_queryset: type[M] | models.QuerySet[M],
    request: HttpRequest,
    **lookups: Any,
) -> M:
    try:
        return for_account(model_or_queryset, request).get(**lookups)
    except (models.ObjectDoesNotExist, ValueError) as error:
        raise Http404("No such record in this account.") from error
