"""Make the signed-in employee's Account available as ``request.account``."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from accounts.tenancy import request_account


class AccountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.account = SimpleLazyObject(  # type: ignore[attr-defined]
            lambda: request_account(request)
        )
        return self.get_response(request)
