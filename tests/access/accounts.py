"""The pages of the accounts app: home and My Profile."""

from tests.access import (
    ACCOUNT_ADMIN,
    EMPLOYEE,
    OUTSIDER,
    PUBLIC,
    REDIRECT,
    WITH,
    Entry,
)

ENTRIES = [
    # Home sends whoever may open Contacts there; the rest see a welcome.
    Entry(
        "home",
        EMPLOYEE,
        expect={WITH: REDIRECT, ACCOUNT_ADMIN: REDIRECT, OUTSIDER: REDIRECT},
    ),
    Entry("profile", "accounts.access_settings"),
    # allauth's pages for login addresses and third-party connections are
    # switched off for everybody.
    Entry("email_not_offered", PUBLIC, status=404),
    Entry("connections_not_offered", PUBLIC, status=404),
]
