"""Deleting a contact keeps their mail unless the person asks otherwise."""

from __future__ import annotations

import pytest

from accounts.models import User
from contacts.models import Contact
from contacts.services import delete_contact
from conversations.models import Message, Thread
from mailsync.models import Mailbox
from tests.contacts.factories import ContactFactory
from tests.conversations.factories import thread_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def dave(sam: User) -> Contact:
    return ContactFactory(account=sam.account, addresses=["dave@client.example"])


def test_also_deleting_their_email_removes_only_threads_no_one_else_is_on(
    carol: Contact, dave: Contact, sams_mailbox: Mailbox
) -> None:
    carols_own = thread_with(carol, sams_mailbox, messages=3, subject="Just Carol")
    shared = thread_with(carol, sams_mailbox, subject="Carol and Dave")
    shared.contacts.add(dave)
    daves_own = thread_with(dave, sams_mailbox, subject="Just Dave")

    delete_contact(contact=carol, delete_email=True)

    assert set(Thread.objects.values_list("pk", flat=True)) == {shared.pk, daves_own.pk}
    assert not Message.objects.filter(thread_id=carols_own.pk).exists()
    assert list(shared.contacts.all()) == [dave]


def test_keeping_their_email_leaves_every_thread_and_message(
    carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread = thread_with(carol, sams_mailbox, messages=2)

    delete_contact(contact=carol, delete_email=False)

    assert Message.objects.filter(thread=thread).count() == 2
    assert list(Thread.objects.get(pk=thread.pk).contacts.all()) == []


def test_another_accounts_threads_are_never_touched(
    carol: Contact, sams_mailbox: Mailbox
) -> None:
    thread_with(carol, sams_mailbox)
    elsewhere = ContactFactory(addresses=["carol@client.example"])
    other_mailbox = Mailbox.objects.create(
        account=elsewhere.account,
        employee=User.objects.create_user(
            "x@elsewhere.test", "pw-elsewhere-1", account=elsewhere.account
        ),
        provider=Mailbox.Provider.GMAIL,
        address="x@gmail.test",
    )
    kept = thread_with(elsewhere, other_mailbox)

    delete_contact(contact=carol, delete_email=True)

    assert list(Thread.objects.all()) == [kept]
