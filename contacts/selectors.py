"""Reads of contacts that views, exports and other apps share.

Search is by prefix. Each word of the query must begin the contact's first
name, last name or company, or the whole query must begin the company. A
word with an "@" in it is matched against addresses instead: "ann@" and
"ann@acme.com" begin an address, "@acme" begins the part after the "@".
Prefixes rather than substrings keep every search on an index, so it stays
fast in an account with hundreds of thousands of contacts (see
benchmarks/contacts_search.py). Name words are one condition on one table
so that PostgreSQL can combine the indexes of the three columns; addresses
are a second table, searched only when asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.core.paginator import Page, Paginator
from django.db.models import Func, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat, Lower
from django.utils.functional import cached_property

from contacts.models import Contact, ContactEmail, normalize_address

if TYPE_CHECKING:
    from accounts.models import Account

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("last_key", "first_key", "id"),
    "-name": ("-last_key", "-first_key", "-id"),
    "company": ("company_key", "last_key", "id"),
    "-company": ("-company_key", "-last_key", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
DEFAULT_SORT = "name"
PAGE_SIZE = 25
# A search counts its matches up to this many: past it, counting would cost
# more than finding the page, and "1,000+" says enough.
SEARCH_COUNT_LIMIT = 1000


class ContactPaginator(Paginator):
    """A paginator that stops counting at ``count_limit`` matches."""

    def __init__(
        self, object_list: QuerySet[Contact], per_page: int, count_limit: int | None
    ) -> None:
        super().__init__(object_list, per_page)
        self.contacts = object_list
        self.count_limit = count_limit
        self.more = False

    @cached_property
    def count(self) -> int:
        if self.count_limit is None:
            return super().count
        counted = self.contacts.order_by()[: self.count_limit + 1].count()
        self.more = counted > self.count_limit
        return min(counted, self.count_limit)


def search_words(query: str) -> list[str]:
    """Split a search into lower-case words; at most five count."""
    words = [normalize_address(word) for word in query.split()]
    return [word for word in words if word != "@"][:5]


def _word_condition(account: Account, word: str) -> Q:
    if "@" not in word:
        return (
            Q(first_lower__startswith=word)
            | Q(last_lower__startswith=word)
            | Q(company_lower__startswith=word)
        )

    emails = ContactEmail.objects.for_account(account)
    if word.startswith("@"):
        emails = emails.filter(domain__startswith=word[1:])
    else:
        emails = emails.filter(normalized__startswith=word)
    return Q(id__in=emails.values("contact_id"))


def search_contacts(
    *, account: Account, query: str = "", sort: str = DEFAULT_SORT
) -> QuerySet[Contact]:
    """The account's contacts that match ``query``, in the order ``sort``.

    An unknown sort falls back to the default, so a hand-edited URL still
    shows the list.
    """
    words = search_words(query)
    contacts = (
        Contact.objects.for_account(account)
        .alias(
            first_lower=Lower("first_name"),
            last_lower=Lower("last_name"),
            company_lower=Lower("company"),
        )
        .alias(**_sort_keys(searching=bool(words)))
        .select_related("owner")
        .prefetch_related(
            Prefetch("emails", queryset=ContactEmail.objects.order_by("normalized"))
        )
    )

    if words:
        condition = Q()
        for word in words:
            condition &= _word_condition(account, word)
        if len(words) > 1 and "@" not in query:
            # "acme lab" finds Acme Labs, whose second word begins no field.
            condition |= Q(company_lower__startswith=" ".join(words))
        contacts = contacts.filter(condition)

    return contacts.order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def contact_page(
    *,
    account: Account,
    query: str = "",
    sort: str = DEFAULT_SORT,
    number: int | str | None = 1,
) -> Page[Contact]:
    """One page of ``search_contacts``, as the contact list shows it.

    ``number`` is the page asked for, as given in the URL; a bad one gives
    the nearest page that exists.
    """
    contacts = search_contacts(account=account, query=query, sort=sort)
    count_limit = SEARCH_COUNT_LIMIT if search_words(query) else None
    return ContactPaginator(contacts, PAGE_SIZE, count_limit).get_page(number)


def _sort_keys(*, searching: bool) -> dict[str, Func]:
    """The expressions the list sorts by.

    Unfiltered, they are the expressions of the sort indexes, so the first
    page is read straight from an index. Filtered, they are wrapped in a
    no-op so that PostgreSQL sorts the matches it found through the search
    indexes instead of walking a sort index in search of them: it cannot
    know that a last-name search and a last-name sort pick rows from the
    same end of that index, and a search for "wri" would read nearly all of
    it.
    """
    keys: dict[str, Func] = {
        "first_key": Lower("first_name"),
        "last_key": Lower("last_name"),
        "company_key": Lower("company"),
    }
    if searching:
        keys = {name: Concat(key, Value("")) for name, key in keys.items()}
    return keys


def find_address_owners(
    *, account: Account, addresses: Iterable[str], exclude: Contact | None = None
) -> dict[str, Contact]:
    """Map each given address that belongs to a contact to that contact.

    Keys are normalised addresses; ``exclude`` leaves one contact out, the
    one being edited.
    """
    wanted = sorted({normalize_address(address) for address in addresses})
    owners: dict[str, Contact] = {}
    for start in range(0, len(wanted), 500):
        emails = (
            ContactEmail.objects.for_account(account)
            .filter(normalized__in=wanted[start : start + 500])
            .select_related("contact")
        )
        if exclude is not None:
            emails = emails.exclude(contact=exclude)
        owners.update({email.normalized: email.contact for email in emails})
    return owners


def contact_for_address(*, account: Account, address: str) -> Contact | None:
    """The account's contact that has ``address``, if any."""
    return find_address_owners(account=account, addresses=[address]).get(
        normalize_address(address)
    )


def addresses_of(contacts: Sequence[Contact]) -> dict[int, set[str]]:
    """Map contact ids to their normalised addresses, in few queries."""
    addresses: dict[int, set[str]] = {contact.pk: set() for contact in contacts}
    ids = sorted(addresses)
    for start in range(0, len(ids), 500):
        rows = ContactEmail.objects.filter(
            contact_id__in=ids[start : start + 500]
        ).values_list("contact_id", "normalized")
        for contact_id, normalized in rows:
            addresses[contact_id].add(normalized)
    return addresses
