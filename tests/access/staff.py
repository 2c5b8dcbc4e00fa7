"""My Staff is for Admins; the invitation pages are public."""

from __future__ import annotations

from typing import Any

from tests.access import ADMIN, PUBLIC, Entry, World
from tests.factories import EmployeeFactory
from tests.staff.factories import invite


def teammate(world: World) -> dict[str, Any]:
    return {"pk": EmployeeFactory(account=world.account).pk}


def invited_teammate(world: World) -> dict[str, Any]:
    return {"pk": invite(account=world.account)[0].employee.pk}


def deactivated_teammate(world: World) -> dict[str, Any]:
    return {"pk": EmployeeFactory(account=world.account, is_active=False).pk}


def invitation_token(world: World) -> dict[str, Any]:
    return {"token": invite(account=world.account)[1]}


ENTRIES = [
    Entry("staff:list", ADMIN),
    Entry("staff:add", ADMIN),
    Entry("staff:edit", ADMIN, kwargs=teammate),
    Entry("staff:deactivate", ADMIN, kwargs=teammate),
    Entry(
        "staff:reactivate",
        ADMIN,
        kwargs=deactivated_teammate,
        method="post",
        status=302,
    ),
    Entry(
        "staff:resend_invitation",
        ADMIN,
        kwargs=invited_teammate,
        method="post",
        status=302,
    ),
    # The token is the secret; whoever holds the link may set the password.
    Entry("staff:accept_invitation", PUBLIC, kwargs=invitation_token),
    Entry("staff:request_invitation", PUBLIC),
]
