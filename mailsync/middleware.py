"""Let the consent pop-up tell My Profile that it is done.

Django's default Cross-Origin-Opener-Policy (``same-origin``) puts a
pop-up in a browsing context group of its own as soon as it shows a page
of another origin, such as the provider's consent screen; back on
RevStackr's pages it has lost ``window.opener`` and cannot reload My
Profile or close itself. So My Profile, which opens the pop-up, answers
``same-origin-allow-popups``, and the pages the pop-up passes through (the
connect start, the OAuth callback and the final page) answer
``unsafe-none``. Every other page keeps the strict default.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Cross-Origin-Opener-Policy"
# URL names, as django-allauth and this project name them.
OPENER_PAGES = frozenset({"profile"})
POPUP_PAGES = frozenset(
    {
        "google_login",
        "google_callback",
        "microsoft_login",
        "microsoft_callback",
        "mailsync:connect_done",
    }
)


class ConsentPopupOpenerMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if match is None:
            return response

        # SecurityMiddleware only fills the header in where it is missing.
        if match.view_name in POPUP_PAGES:
            response[HEADER] = "unsafe-none"
        elif match.view_name in OPENER_PAGES:
            response[HEADER] = "same-origin-allow-popups"
        return response
