"""Who may open which page: the entries of tests/test_access_matrix.py.

Every URL pattern the project routes must be accounted for here, or the
matrix test fails. Each module of this package speaks for one app (or one
third-party package) and exports two lists:

``ENTRIES``
    One ``Entry`` per URL pattern name of the app. The matrix requests the
    URL as each of the ``ACTORS`` and checks the answer against what the
    entry's ``access`` promises (see ``expected_outcome``).

``RULES`` (optional)
    A ``Rule`` accounts for a group of patterns at once, for third-party
    packages whose views share one guard (the Django admin). Its
    ``samples`` are checked like entries.

To add a page:

1. Name the pattern in the app's ``urls.py`` (``app_name`` gives the
   namespace: ``contacts:detail``).
2. Add an ``Entry`` to ``tests/access/<app>.py`` (create the module, with
   ``ENTRIES = [...]``, for a new app). ``access`` is ``PUBLIC``,
   ``VISITOR``, ``SIGNED_IN``, ``EMPLOYEE``, ``ADMIN``, ``SUPPORT``,
   ``FLOW``, a permission such as ``"accounts.access_contacts"``, or
   several joined by `` & `` when the page needs each of them.
3. If the URL takes arguments, give ``kwargs``: a function that receives
   the ``World`` (an account, its Admin, another account), creates what
   the URL names inside ``world.account`` and returns the URL's kwargs.
   It is called once per request, so each actor gets fresh rows. A URL
   with kwargs names a row of the account: the other account's Admin
   must get a 404 there.
4. A view that only takes POST gets ``method="post"`` (and ``data`` when
   the view needs some) and usually ``status=302``.
5. ``expect`` overrides the outcome for single actors when a page has a
   good reason to differ; say the reason in a comment.

Outcomes are a status code or one of ``SIGN_IN`` (a redirect to the
sign-in page), ``ADMIN_SIGN_IN`` (to the Django admin's), ``REDIRECT``
(a redirect anywhere else) and ``ANY_BUT_ERROR`` (anything below 500).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accounts.models import Account, User

# Kinds of access an entry can promise, beside a permission name.
PUBLIC = "public"  # anybody, signed in or not
VISITOR = "visitor"  # people not signed in; signed-in people are sent on
SIGNED_IN = "signed in"  # anybody signed in, support staff too
EMPLOYEE = "employee"  # any employee of an account
ADMIN = "admin"  # an Admin of the account
SUPPORT = "support"  # RevStackr support staff (the Django admin)
FLOW = "flow"  # a step in the middle of a flow: never a server error

# Who asks.
ANONYMOUS = "anonymous"
WITHOUT = "employee without the permission"
WITH = "employee with the permission"
ACCOUNT_ADMIN = "Admin"
OUTSIDER = "Admin of another account"
SUPPORT_STAFF = "support staff"
ACTORS = (ANONYMOUS, WITHOUT, WITH, ACCOUNT_ADMIN, OUTSIDER, SUPPORT_STAFF)

# Outcomes that are not a single status code.
SIGN_IN = "redirect to sign-in"
ADMIN_SIGN_IN = "redirect to the admin's sign-in"
REDIRECT = "redirect elsewhere"
ANY_BUT_ERROR = "anything below 500"

Outcome = int | str


@dataclass(frozen=True)
class World:
    """The rows a URL may name: ``account`` is the one the actors are in."""

    account: Account
    admin: User
    other_account: Account


KwargsBuilder = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Entry:
    name: str
    access: str
    kwargs: KwargsBuilder | None = None
    method: str = "get"
    data: Mapping[str, Any] | None = None
    status: Outcome = 200
    expect: Mapping[str, Outcome] = field(default_factory=dict)
    # A literal path, for a sample of a pattern that has no name.
    path: str | None = None

    @property
    def names_a_row(self) -> bool:
        return self.kwargs is not None


@dataclass(frozen=True)
class Route:
    """One routed URL pattern, as the matrix sees it."""

    key: str  # "namespace:name", or the route itself when unnamed
    namespace: str
    route: str
    module: str


@dataclass(frozen=True)
class Rule:
    description: str
    covers: Callable[[Route], bool]
    samples: Sequence[Entry] = ()


def expected_outcome(entry: Entry, actor: str) -> Outcome:
    """Return what ``actor`` should get from the entry's URL."""
    if actor in entry.expect:
        return entry.expect[actor]

    allowed = entry.status
    if entry.access == PUBLIC:
        return allowed
    if entry.access == FLOW:
        return ANY_BUT_ERROR
    if entry.access == VISITOR:
        return allowed if actor == ANONYMOUS else REDIRECT
    if entry.access == SIGNED_IN:
        return SIGN_IN if actor == ANONYMOUS else allowed
    if entry.access == SUPPORT:
        return allowed if actor == SUPPORT_STAFF else ADMIN_SIGN_IN

    # An employee page: EMPLOYEE, ADMIN or a permission.
    if actor == ANONYMOUS:
        return SIGN_IN
    if actor == SUPPORT_STAFF:
        return 403
    if actor == OUTSIDER:
        return 404 if entry.names_a_row else allowed
    if actor == WITHOUT and entry.access != EMPLOYEE:
        return 403
    if actor == WITH and entry.access == ADMIN:
        return 403
    return allowed
