"""contacts.signals.contact_addresses_added, which mailsync listens to."""

from collections.abc import Iterator

import pytest
from django.db import transaction

from contacts.models import ContactImport
from contacts.services import (
    ContactDetails,
    add_contact_addresses,
    create_contact,
    plan_contact_import,
    run_contact_import,
    update_contact,
)
from contacts.signals import contact_addresses_added
from tests.contacts.factories import ContactFactory
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[dict[str, object]]]:
    calls: list[dict[str, object]] = []

    def receiver(**kwargs: object) -> None:
        calls.append(
            {key: kwargs[key] for key in ("account_id", "contact_id", "addresses")}
        )

    contact_addresses_added.connect(receiver)
    yield calls
    contact_addresses_added.disconnect(receiver)


def test_creating_a_contact_announces_its_addresses_once_on_commit(
    heard, django_capture_on_commit_callbacks
) -> None:
    employee = EmployeeFactory()

    with django_capture_on_commit_callbacks(execute=True):
        contact = create_contact(
            account=employee.account,
            details=ContactDetails(),
            addresses=["Ann@X.com", "ann.lee@y.com"],
        )
        assert heard == []  # not before the commit

    assert heard == [
        {
            "account_id": employee.account_id,
            "contact_id": contact.pk,
            "addresses": ["ann@x.com", "ann.lee@y.com"],
        }
    ]


def test_an_edit_announces_only_the_new_address(
    heard, django_capture_on_commit_callbacks
) -> None:
    contact = ContactFactory(addresses=["old@x.com", "gone@x.com"])

    with django_capture_on_commit_callbacks(execute=True):
        update_contact(
            contact=contact,
            details=ContactDetails(),
            addresses=["OLD@x.com", "new@x.com"],
        )

    assert [call["addresses"] for call in heard] == [["new@x.com"]]


def test_an_edit_without_new_addresses_announces_nothing(
    heard, django_capture_on_commit_callbacks
) -> None:
    contact = ContactFactory(addresses=["old@x.com"])

    with django_capture_on_commit_callbacks(execute=True):
        update_contact(
            contact=contact, details=ContactDetails(phone="1"), addresses=["old@x.com"]
        )
        add_contact_addresses(contact=contact, addresses=["Old@x.com"])

    assert heard == []


def test_a_rolled_back_change_announces_nothing(
    heard, django_capture_on_commit_callbacks
) -> None:
    contact = ContactFactory(addresses=["old@x.com"])

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                add_contact_addresses(contact=contact, addresses=["new@x.com"])
                raise RuntimeError("undo")
        except RuntimeError:
            pass

    assert heard == []


def test_an_import_announces_each_contact_it_gives_addresses_to(
    heard, django_capture_on_commit_callbacks
) -> None:
    employee = EmployeeFactory()
    existing = ContactFactory(account=employee.account, addresses=["ann@x.com"])
    text = "Name,Emails\nAnn Lee,ann@x.com;ann@home.com\nBo Berg,bo@x.com\n"
    staged = ContactImport.objects.create(
        account=employee.account, uploaded_by=employee, file_name="a.csv", content=text
    )
    assert len(plan_contact_import(account=employee.account, text=text).rows) == 2

    with django_capture_on_commit_callbacks(execute=True):
        run_contact_import(contact_import=staged)

    assert len(heard) == 2
    assert heard[0]["contact_id"] == existing.pk
    assert heard[0]["addresses"] == ["ann@home.com"]
    assert heard[1]["addresses"] == ["bo@x.com"]
