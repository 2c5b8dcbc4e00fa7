"""Factories for contacts and their addresses."""

from __future__ import annotations

from typing import Any

import factory

from contacts.models import Contact, ContactEmail
from tests.factories import AccountFactory


class ContactFactory(factory.django.DjangoModelFactory):
    """A contact with one primary address, or the ``addresses`` given."""

    class Meta:
        model = Contact
        skip_postgeneration_save = True

    account = factory.SubFactory(AccountFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")

    @factory.post_generation
    def addresses(self, create: bool, extracted: list[str] | None, **_: Any) -> None:
        if not create:
            return
        for index, address in enumerate(extracted or [f"person{self.pk}@example.com"]):
            ContactEmail.objects.create(
                account=self.account,
                contact=self,
                address=address,
                is_primary=index == 0,
            )
