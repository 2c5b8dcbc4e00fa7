"""django-allauth's pages: sign-in, passwords, two-factor, sessions, OAuth.

allauth guards its own pages; these entries pin down what each gives, so
that a setting or an upgrade that opens one up shows here. Pages that only
mean something in the middle of a flow (a code to confirm, a provider's
callback) are ``FLOW``: nobody may get a server error from them.
"""

from __future__ import annotations

from tests.access import (
    FLOW,
    PUBLIC,
    REDIRECT,
    SIGNED_IN,
    VISITOR,
    Entry,
    Route,
    Rule,
)

ENTRIES = [
    # Sign-in and sign-up (which is closed: Admins add employees).
    Entry("account_login", VISITOR),
    Entry("account_signup", VISITOR),
    Entry("account_logout", SIGNED_IN),
    Entry("account_inactive", PUBLIC),
    Entry("account_confirm_login_code", FLOW),
    # Confirming who you are before a sensitive change.
    Entry("account_reauthenticate", SIGNED_IN),
    # Codes by email are off: a signed-in person is sent to the password.
    Entry("account_request_reauthentication_code", SIGNED_IN, status=REDIRECT),
    Entry("account_confirm_reauthentication_code", SIGNED_IN, status=REDIRECT),
    # Email addresses and passwords.
    # Shadowed by "email_not_offered" (tests/access/accounts.py).
    Entry("account_email", PUBLIC, status=404),
    Entry("account_email_verification_sent", PUBLIC),
    Entry(
        "account_confirm_email",
        PUBLIC,
        kwargs=lambda world: {"key": "not-a-real-key"},
    ),
    Entry("account_change_password", SIGNED_IN),
    # Everyone here has a password already, so "set" becomes "change".
    Entry("account_set_password", SIGNED_IN, status=REDIRECT),
    Entry("account_reset_password", PUBLIC),
    Entry("account_reset_password_done", PUBLIC),
    Entry(
        "account_reset_password_from_key",
        PUBLIC,
        kwargs=lambda world: {"uidb36": "0", "key": "not-a-real-key"},
    ),
    Entry("account_reset_password_from_key_done", PUBLIC),
    # Two-factor sign-in (Settings > Two-factor sign-in).
    Entry("mfa_index", SIGNED_IN),
    Entry("mfa_authenticate", FLOW),
    # Without an authenticator there is nothing to confirm with: sent on.
    Entry("mfa_reauthenticate", SIGNED_IN, status=REDIRECT),
    # Sent on to confirm the password first; tests/staff/test_two_factor.py
    # signs in for real and activates an authenticator.
    Entry("mfa_activate_totp", SIGNED_IN, status=REDIRECT),
    Entry("mfa_generate_recovery_codes", SIGNED_IN, status=REDIRECT),
    # Nothing to deactivate or show before an authenticator exists.
    Entry("mfa_deactivate_totp", SIGNED_IN, status=404),
    Entry("mfa_view_recovery_codes", SIGNED_IN, status=404),
    Entry("mfa_download_recovery_codes", SIGNED_IN, status=404),
    # Which sessions are signed in (deactivating an employee ends them).
    Entry("usersessions_list", SIGNED_IN),
    # Social accounts: the mailbox connection flow of mailsync uses these.
    # Shadowed by "connections_not_offered" (tests/access/accounts.py).
    Entry("socialaccount_connections", PUBLIC, status=404),
    Entry("socialaccount_login_cancelled", PUBLIC),
    Entry("socialaccount_login_error", PUBLIC, status=401),
    Entry("socialaccount_signup", FLOW),
    Entry("google_login", FLOW),
    Entry("google_callback", FLOW),
    Entry("google_login_by_token", FLOW),
    Entry("microsoft_login", FLOW),
    Entry("microsoft_callback", FLOW),
]


def _is_old_social_address(route: Route) -> bool:
    return route.key == route.route and route.route.startswith("accounts/social/")


RULES = [
    Rule(
        "allauth's old /accounts/social/ addresses redirect to /accounts/3rdparty/",
        covers=_is_old_social_address,
        samples=[
            Entry(
                "accounts/social/connections/",
                PUBLIC,
                status=REDIRECT,
                path="/accounts/social/connections/",
            ),
        ],
    ),
]
