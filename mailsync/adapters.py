"""django-allauth adapter: OAuth here connects mailboxes, nothing else.

allauth's Google and Microsoft providers run the consent screen and the
code exchange. This adapter then takes the tokens into an encrypted
Mailbox of the signed-in employee and stops allauth there, so allauth
never signs anyone in or up and keeps no social account or token rows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base.constants import AuthError, AuthProcess
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse

from mailsync.models import Mailbox
from mailsync.services.connection import (
    ConnectionRefused,
    ConsentResult,
    connect_mailbox,
)

PROVIDER_OF_SOCIAL_APP = {
    "google": Mailbox.Provider.GMAIL,
    "microsoft": Mailbox.Provider.OUTLOOK,
}


class MailboxConnectionAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        user = request.user
        process = sociallogin.state.get("process")
        if process != AuthProcess.CONNECT or not user.is_authenticated:
            messages.error(
                request,
                "Sign in with your email and password. Connecting Gmail or "
                "Outlook never signs you in.",
            )
            raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))
        if user.account_id is None or not user.has_perm("accounts.access_settings"):
            raise PermissionDenied("You cannot connect a mailbox.")

        popup = _is_popup(sociallogin.state.get("next"))
        try:
            mailbox = connect_mailbox(
                employee=user,
                consent=_consent_from(sociallogin),
            )
        except ConnectionRefused as refused:
            messages.error(request, refused.message)
            raise ImmediateHttpResponse(_finish(popup)) from refused

        if mailbox.state == Mailbox.State.PENDING:
            url = reverse("mailsync:confirm_replacement", args=[mailbox.pk])
            raise ImmediateHttpResponse(_finish(popup, url))
        messages.success(request, f"Connected {mailbox.address}.")
        raise ImmediateHttpResponse(_finish(popup))

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        state = (extra_context or {}).get("state") or {}
        if error == AuthError.CANCELLED:
            text = "You cancelled the connection; nothing was connected."
        elif not state:
            text = (
                "The connection could not be verified (it was started in another "
                "window or has expired). Start again from My Profile."
            )
        else:
            text = (
                f"{provider.name} could not complete the connection. Nothing was "
                "connected; try again."
            )
        if request.user.is_authenticated:
            messages.error(request, text)
            raise ImmediateHttpResponse(_finish(_is_popup(state.get("next"))))
        messages.error(request, text)
        raise ImmediateHttpResponse(HttpResponseRedirect(reverse("account_login")))


def _consent_from(sociallogin: SocialLogin) -> ConsentResult:
    account = sociallogin.account
    data = account.extra_data or {}
    address = (
        data.get("email") or data.get("mail") or data.get("userPrincipalName") or ""
    )
    token = sociallogin.token
    return ConsentResult(
        provider=PROVIDER_OF_SOCIAL_APP[account.provider],
        address=address,
        provider_user_id=str(account.uid),
        access_token=token.token,
        refresh_token=token.token_secret,
        expires_at=token.expires_at,
    )


def _is_popup(next_url: str | None) -> bool:
    """Whether the flow runs in the pop-up (only our own page can say so)."""
    if not next_url:
        return False
    parts = urlsplit(next_url)
    if parts.netloc:
        return False
    try:
        match = resolve(parts.path)
    except Resolver404:
        return False
    return match.view_name == "mailsync:connect_done" and "popup=1" in parts.query


def _finish(popup: bool, url: str | None = None) -> HttpResponseRedirect:
    """Where the OAuth callback ends: the profile, via the pop-up closer."""
    target = url or reverse("profile")
    if popup:
        return HttpResponseRedirect(
            f"{reverse('mailsync:connect_done')}?popup=1&then={target}"
        )
    return HttpResponseRedirect(target)
