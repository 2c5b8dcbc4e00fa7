"""The Django admin: RevStackr support staff only, never an employee.

Every admin page goes through ``AdminSite.admin_view``, which sends anyone
who is not ``is_staff`` to the admin's sign-in page. So one rule covers
the whole ``admin`` namespace, checked on a sample of its pages.
"""

from __future__ import annotations

from tests.access import (
    PUBLIC,
    REDIRECT,
    SUPPORT,
    SUPPORT_STAFF,
    Entry,
    Route,
    Rule,
)


def _is_django_admin(route: Route) -> bool:
    return route.namespace == "admin"


RULES = [
    Rule(
        "Django admin: support staff only; employees go to the admin's sign-in",
        covers=_is_django_admin,
        samples=[
            Entry("admin:index", SUPPORT),
            Entry("admin:accounts_account_changelist", SUPPORT),
            Entry("admin:accounts_user_changelist", SUPPORT),
            Entry(
                "admin:accounts_user_change",
                SUPPORT,
                kwargs=lambda world: {"object_id": world.admin.pk},
            ),
            Entry(
                "admin:accounts_user_delete",
                SUPPORT,
                kwargs=lambda world: {"object_id": world.admin.pk},
            ),
            # Signed-in employees see the page saying they lack access;
            # support staff are already in and go to the index.
            Entry("admin:login", PUBLIC, expect={SUPPORT_STAFF: REDIRECT}),
            Entry(
                "admin:no-such-page", SUPPORT, status=404, path="/admin/no-such-page/"
            ),
        ],
    ),
]
