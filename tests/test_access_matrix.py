"""Every routed URL, asked for by everyone who might ask.

The entries live in tests/access/ (one module per app; its docstring says
how to add one). A URL pattern that no entry or rule accounts for fails
``test_every_routed_url_is_accounted_for``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests.access
from accounts.models import EMPLOYEE_PERMISSIONS, User
from tests.access import (
    ACCOUNT_ADMIN,
    ACTORS,
    ADMIN_SIGN_IN,
    ANONYMOUS,
    ANY_BUT_ERROR,
    OUTSIDER,
    REDIRECT,
    SIGN_IN,
    SUPPORT_STAFF,
    WITH,
    WITHOUT,
    Entry,
    Outcome,
    Route,
    Rule,
    World,
    expected_outcome,
)
from tests.factories import AdminFactory, EmployeeFactory, SupportUserFactory
from tests.staff.factories import grant


def _access_modules() -> list:
    return [
        importlib.import_module(f"tests.access.{module.name}")
        for module in pkgutil.iter_modules(tests.access.__path__)
    ]


ENTRIES: list[Entry] = [
    entry for module in _access_modules() for entry in getattr(module, "ENTRIES", [])
]
RULES: list[Rule] = [
    rule for module in _access_modules() for rule in getattr(module, "RULES", [])
]
SAMPLES: list[Entry] = [sample for rule in RULES for sample in rule.samples]


def routed_urls(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[Route]:
    """Walk the URL configuration and yield every pattern in it."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = (
                f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            )
            yield from routed_urls(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            yield Route(
                key=f"{namespace}{pattern.name}" if pattern.name else route,
                namespace=namespace.rstrip(":"),
                route=route,
                module=getattr(pattern.callback, "__module__", ""),
            )


def test_every_routed_url_is_accounted_for() -> None:
    declared = {entry.name for entry in ENTRIES}

    unaccounted = [
        f"{route.key} ({route.route}, {route.module})"
        for route in routed_urls()
        if route.key not in declared and not any(rule.covers(route) for rule in RULES)
    ]

    assert not unaccounted, (
        "URL patterns with no entry in tests/access/ (see its docstring):\n  "
        + "\n  ".join(unaccounted)
    )


def test_every_entry_names_a_routed_url() -> None:
    routed = {route.key for route in routed_urls()}

    stale = [entry.name for entry in ENTRIES if entry.name not in routed]

    assert not stale, f"Entries for URLs that are no longer routed: {stale}"


def test_each_url_has_one_entry() -> None:
    names = [entry.name for entry in ENTRIES]

    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.fixture
def world(db: None) -> World:
    admin = AdminFactory()
    return World(
        account=admin.account,
        admin=admin,
        other_account=AdminFactory().account,
    )


def _actor(world: World, actor: str, entry: Entry) -> User | None:
    """Create the person who asks; the permissions depend on the entry."""
    needed = entry.access.split(" & ")
    if all(permission in EMPLOYEE_PERMISSIONS for permission in needed):
        # Without: every permission but the first one needed.
        granted = {
            WITH: needed,
            WITHOUT: [p for p in EMPLOYEE_PERMISSIONS if p != needed[0]],
        }
    else:
        granted = {WITH: list(EMPLOYEE_PERMISSIONS), WITHOUT: []}

    if actor == ANONYMOUS:
        return None
    if actor == ACCOUNT_ADMIN:
        return world.admin
    if actor == OUTSIDER:
        return AdminFactory(account=world.other_account)
    if actor == SUPPORT_STAFF:
        return SupportUserFactory()
    return grant(EmployeeFactory(account=world.account), *granted[actor])


def _url(entry: Entry, world: World) -> str:
    if entry.path is not None:
        return entry.path
    kwargs = entry.kwargs(world) if entry.kwargs else {}
    return reverse(entry.name, kwargs=kwargs)


def _answer(response: HttpResponse) -> str:
    location = response.get("Location", "")
    return f"{response.status_code} {location}".strip()


def _matches(expected: Outcome, response: HttpResponse) -> bool:
    status = response.status_code
    redirected_to = urlsplit(response.get("Location", "")).path
    sign_in_pages = {reverse("account_login"), reverse("admin:login")}
    if expected == SIGN_IN:
        return status == 302 and redirected_to == reverse("account_login")
    if expected == ADMIN_SIGN_IN:
        return status == 302 and redirected_to == reverse("admin:login")
    if expected == REDIRECT:
        return 300 <= status < 400 and redirected_to not in sign_in_pages
    if expected == ANY_BUT_ERROR:
        return status < 500
    return status == expected


@pytest.mark.parametrize(
    "entry", [*ENTRIES, *SAMPLES], ids=lambda entry: entry.path or entry.name
)
def test_each_person_gets_the_expected_answer(entry: Entry, world: World) -> None:
    wrong = []
    for actor in ACTORS:
        client = Client()
        person = _actor(world, actor, entry)
        if person is not None:
            client.force_login(person, backend="accounts.backends.EmployeeBackend")
        url = _url(entry, world)

        response = getattr(client, entry.method)(url, data=entry.data or {})

        expected = expected_outcome(entry, actor)
        if not _matches(expected, response):
            wrong.append(f"{actor}: expected {expected}, got {_answer(response)}")

    assert not wrong, f"{entry.method.upper()} {entry.name}:\n  " + "\n  ".join(wrong)
