"""Factories for the rows most tests need: accounts and the people in them."""

from __future__ import annotations

import factory

from accounts.models import Account, User

PASSWORD = "correct horse battery staple"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Business {n}")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"employee{n}@example.com")
    full_name = factory.Faker("name")
    account = factory.SubFactory(AccountFactory)
    role = User.Role.USER
    password = factory.django.Password(PASSWORD)


class AdminFactory(EmployeeFactory):
    role = User.Role.ADMIN


class SupportUserFactory(EmployeeFactory):
    account = None
    is_staff = True
    is_superuser = True
