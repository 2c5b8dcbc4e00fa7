import pytest

from contacts.selectors import (
    PAGE_SIZE,
    ContactPaginator,
    contact_page,
    search_contacts,
)
from tests.contacts.factories import ContactFactory
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    account = AccountFactory()
    return {
        "ann": ContactFactory(
            account=account,
            first_name="Ann",
            last_name="Lee",
            company="Acme",
            addresses=["ann.lee@acme.com", "ann@home.net"],
        ),
        "bo": ContactFactory(
            account=account,
            first_name="Bo",
            last_name="Anders",
            company="Initech",
            addresses=["bo@initech.com"],
        ),
        "cy": ContactFactory(
            account=account,
            first_name="Cy",
            last_name="Young",
            company="Acme Labs",
            addresses=["cy@young.org"],
        ),
    }


def found(people, query: str, sort: str = "name") -> list[str]:
    account = people["ann"].account
    names = {contact.pk: key for key, contact in people.items()}
    return [
        names[c.pk] for c in search_contacts(account=account, query=query, sort=sort)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("an", ["bo", "ann"]),  # Ann's first name, Anders's last name
        ("ann", ["ann"]),
        ("LEE", ["ann"]),
        ("ann lee", ["ann"]),
        ("acme", ["ann", "cy"]),
        ("acme lab", ["cy"]),
        ("bo@initech.com", ["bo"]),
        ("BO@INITECH.COM", ["bo"]),
        ("ann@", ["ann"]),
        ("@acme.com", ["ann"]),
        ("@initech", ["bo"]),
        ("nobody", []),
        ("", ["bo", "ann", "cy"]),
    ],
)
def test_search_matches_the_start_of_names_companies_and_addresses(
    people, query: str, expected: list[str]
) -> None:
    assert found(people, query) == expected


def test_search_does_not_match_the_middle_of_a_word(people) -> None:
    assert found(people, "nn") == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["bo", "ann", "cy"]),
        ("-name", ["cy", "ann", "bo"]),
        ("company", ["ann", "cy", "bo"]),
        ("-company", ["bo", "cy", "ann"]),
        ("created", ["ann", "bo", "cy"]),
        ("-created", ["cy", "bo", "ann"]),
        ("nonsense", ["bo", "ann", "cy"]),
    ],
)
def test_the_list_sorts_by_name_company_or_date_added(
    people, sort: str, expected: list[str]
) -> None:
    assert found(people, "", sort) == expected


def test_sorting_also_orders_search_results(people) -> None:
    assert found(people, "acme", "-name") == ["cy", "ann"]


def test_search_sees_only_the_accounts_own_contacts(people) -> None:
    ContactFactory(first_name="Ann", addresses=["ann.lee@acme.com"])

    assert found(people, "an") == ["bo", "ann"]
    assert found(people, "ann.lee@acme.com") == ["ann"]


def test_the_list_is_paginated() -> None:
    account = AccountFactory()
    ContactFactory.create_batch(PAGE_SIZE + 2, account=account)

    first = contact_page(account=account)
    last = contact_page(account=account, number="2")
    beyond = contact_page(account=account, number="99")

    assert first.paginator.count == PAGE_SIZE + 2
    assert len(first.object_list) == PAGE_SIZE
    assert len(last.object_list) == 2
    assert beyond.number == 2


def test_a_search_stops_counting_at_its_limit(settings, monkeypatch) -> None:
    monkeypatch.setattr("contacts.selectors.SEARCH_COUNT_LIMIT", 3)
    account = AccountFactory()
    ContactFactory.create_batch(5, account=account, company="Acme")

    page = contact_page(account=account, query="acme")

    assert isinstance(page.paginator, ContactPaginator)
    assert page.paginator.count == 3
    assert page.paginator.more
