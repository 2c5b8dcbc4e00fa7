"""Time contact search in an account with 100,000 contacts on PostgreSQL.

Usage::

    .venv/bin/python benchmarks/contacts_search.py \
        [--database-url postgres://postgres@127.0.0.1:5432/revstackr_bench] \
        [--contacts 100000] [--runs 200] \
        [--output var/benchmarks/contacts_search.json]

The database is created and migrated if missing, and the contacts are
loaded once (a second run reuses them). Each search runs through
``contacts.selectors.search_contacts`` and evaluates the first page the way
the list view does: the count, 25 rows and their addresses. The target is
under 20 ms at the 95th percentile for an exact address and for a name
prefix. Not run in CI: loading takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/revstackr_bench"

FIRST_NAMES = [
    "Aaliyah",
    "Aaron",
    "Abigail",
    "Adam",
    "Adrian",
    "Aisha",
    "Alan",
    "Albert",
    "Alex",
    "Alice",
    "Amelia",
    "Amir",
    "Ana",
    "Andrea",
    "Andrew",
    "Angela",
    "Anna",
    "Anthony",
    "Arjun",
    "Ava",
    "Barbara",
    "Beatriz",
    "Benjamin",
    "Bianca",
    "Brian",
    "Camila",
    "Carlos",
    "Carmen",
    "Caroline",
    "Catherine",
    "Charles",
    "Chen",
    "Chloe",
    "Christopher",
    "Claire",
    "Daniel",
    "David",
    "Deborah",
    "Diana",
    "Diego",
    "Dmitri",
    "Elena",
    "Elijah",
    "Elizabeth",
    "Emily",
    "Emma",
    "Eric",
    "Ethan",
    "Fatima",
    "Felix",
    "Fiona",
    "Francesca",
    "Gabriel",
    "George",
    "Grace",
    "Hannah",
    "Harper",
    "Hiroshi",
    "Ibrahim",
    "Isabella",
    "Ivan",
    "Jack",
    "James",
    "Jane",
    "Javier",
    "Jennifer",
    "Jessica",
    "John",
    "Jose",
    "Joseph",
    "Julia",
    "Karen",
    "Kenji",
    "Kevin",
    "Laura",
    "Leo",
    "Liam",
    "Linda",
    "Lucas",
    "Lucia",
    "Maria",
    "Mark",
    "Martin",
    "Mary",
    "Mateo",
    "Matthew",
    "Mei",
    "Michael",
    "Mohammed",
    "Nadia",
    "Natalia",
    "Noah",
    "Olivia",
    "Omar",
    "Oscar",
    "Patricia",
    "Paul",
    "Priya",
    "Rachel",
    "Rahul",
    "Ricardo",
    "Robert",
    "Rosa",
    "Ryan",
    "Samuel",
    "Sara",
    "Sofia",
    "Sophie",
    "Stephen",
    "Susan",
    "Thomas",
    "Valentina",
    "Victor",
    "William",
    "Yuki",
    "Zara",
    "Zoe",
]
LAST_NAMES = [
    "Adams",
    "Ahmed",
    "Ali",
    "Allen",
    "Alvarez",
    "Anderson",
    "Bailey",
    "Baker",
    "Bennett",
    "Brooks",
    "Brown",
    "Campbell",
    "Carter",
    "Castro",
    "Chen",
    "Clark",
    "Collins",
    "Cook",
    "Cooper",
    "Cruz",
    "Davis",
    "Diaz",
    "Edwards",
    "Evans",
    "Fernandez",
    "Fischer",
    "Flores",
    "Garcia",
    "Gomez",
    "Gonzalez",
    "Gray",
    "Green",
    "Gupta",
    "Hall",
    "Harris",
    "Hernandez",
    "Hill",
    "Hughes",
    "Ito",
    "Jackson",
    "James",
    "Jimenez",
    "Johnson",
    "Jones",
    "Kaur",
    "Kelly",
    "Khan",
    "Kim",
    "King",
    "Kumar",
    "Lee",
    "Lewis",
    "Li",
    "Lopez",
    "Martin",
    "Martinez",
    "Meyer",
    "Miller",
    "Mitchell",
    "Moore",
    "Morales",
    "Morgan",
    "Murphy",
    "Nakamura",
    "Nelson",
    "Nguyen",
    "Novak",
    "Ortiz",
    "Parker",
    "Patel",
    "Perez",
    "Peterson",
    "Phillips",
    "Ramirez",
    "Reed",
    "Reyes",
    "Richardson",
    "Rivera",
    "Roberts",
    "Robinson",
    "Rodriguez",
    "Rogers",
    "Ross",
    "Ruiz",
    "Sanchez",
    "Sato",
    "Schmidt",
    "Scott",
    "Shah",
    "Silva",
    "Singh",
    "Smith",
    "Stewart",
    "Suzuki",
    "Tanaka",
    "Taylor",
    "Thomas",
    "Thompson",
    "Torres",
    "Turner",
    "Walker",
    "Wang",
    "Ward",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Wu",
    "Yamamoto",
    "Young",
    "Zhang",
]
COMPANY_WORDS = [
    "Acme",
    "Apex",
    "Atlas",
    "Beacon",
    "Blue",
    "Bright",
    "Cedar",
    "Cobalt",
    "Crest",
    "Delta",
    "Eagle",
    "Echo",
    "Evergreen",
    "Falcon",
    "Form",
    "Frontier",
    "Granite",
    "Harbor",
    "Horizon",
    "Iron",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Meridian",
    "Nimbus",
    "North",
    "Oak",
    "Orbit",
    "Pacific",
    "Peak",
    "Pine",
    "Pioneer",
    "Prism",
    "Quantum",
    "Redwood",
    "River",
    "Silver",
    "Solar",
    "Summit",
    "Terra",
    "True",
    "Union",
    "Vertex",
    "Vista",
    "West",
    "Willow",
    "Zenith",
]
COMPANY_KINDS = [
    "Labs",
    "Systems",
    "Logistics",
    "Foods",
    "Partners",
    "Health",
    "Energy",
    "Media",
    "Works",
]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "revstackr.settings")
    sys.path.insert(0, str(BASE_DIR))
    _create_database(database_url)

    import django

    django.setup()

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _create_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    server, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            )


def load_contacts(account_name: str, count: int, rng: random.Random) -> Any:
    """Create the account with ``count`` contacts unless it has them."""
    from accounts.models import Account
    from contacts.models import Contact, ContactEmail

    account, _ = Account.objects.get_or_create(name=account_name)
    have = Contact.objects.for_account(account).count()
    if have >= count:
        return account

    companies = [
        (
            f"{a} {b} {kind}",
            f"{a}{b}{kind}".lower() + rng.choice((".com", ".io", ".co")),
        )
        for a in COMPANY_WORDS
        for b in COMPANY_WORDS
        if a != b
        for kind in rng.sample(COMPANY_KINDS, 2)
    ]
    started = time.perf_counter()
    for start in range(have, count, 5000):
        batch = []
        for _ in range(start, min(start + 5000, count)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            company, domain = rng.choice(companies)
            batch.append(
                Contact(
                    account=account, first_name=first, last_name=last, company=company
                )
            )
            batch[-1].domain = domain  # type: ignore[attr-defined]
        contacts = Contact.objects.bulk_create(batch)

        emails = []
        for contact in contacts:
            local = f"{contact.first_name}.{contact.last_name}{contact.pk}".lower()
            domains = [contact.domain, rng.choice(("gmail.com", "outlook.com"))]  # type: ignore[attr-defined]
            for index in range(rng.choice((1, 1, 2, 2, 3))):
                address = (
                    f"{local}@{domains[index % 2]}"
                    if index < 2
                    else f"{local}.{index}@{domains[0]}"
                )
                emails.append(
                    ContactEmail(
                        account=account,
                        contact=contact,
                        address=address,
                        normalized=address,
                        domain=address.rpartition("@")[2],
                        is_primary=index == 0,
                    )
                )
        ContactEmail.objects.bulk_create(emails)
        print(
            f"  loaded {min(start + 5000, count):,} contacts into {account_name}",
            flush=True,
        )

    from django.db import connection

    # What autovacuum does soon after a bulk load on a real server.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_contact")
        cursor.execute("VACUUM ANALYZE contacts_contactemail")
    print(f"  in {time.perf_counter() - started:.0f} s", flush=True)
    return account


def first_page(account: Any, query: str) -> int:
    """What the list view does for one search: count, 25 rows, addresses."""
    from contacts.selectors import contact_page

    page = contact_page(account=account, query=query)
    for contact in page.object_list:
        contact.primary_address  # noqa: B018 - reads the prefetched addresses
    return page.paginator.count


def time_searches(
    account: Any, queries: list[str], run: Callable[[Any, str], int]
) -> dict[str, float]:
    for query in queries[:20]:
        run(account, query)  # warm the cache, as a busy server's is

    timings = []
    matches = []
    for query in queries:
        started = time.perf_counter()
        matches.append(run(account, query))
        timings.append((time.perf_counter() - started) * 1000)

    timings.sort()
    return {
        "runs": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "max_ms": round(timings[-1], 2),
        "median_matches": statistics.median(matches),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--output", default=str(BASE_DIR / "var/benchmarks/contacts_search.json")
    )
    options = parser.parse_args()

    setup_django(options.database_url)
    from django.db import connection

    from contacts.models import ContactEmail

    print("Loading contacts (once)...", flush=True)
    loading = random.Random(4)
    account = load_contacts("Benchmark Traders", options.contacts, loading)
    load_contacts("Benchmark Neighbours", options.contacts // 5, loading)

    # The searches have a generator of their own: a run that reuses the
    # loaded contacts then times the same searches as the run that loaded
    # them.
    rng = random.Random(5)
    every_address = list(
        ContactEmail.objects.for_account(account)
        .order_by("pk")
        .values_list("address", flat=True)
    )
    addresses = rng.sample(every_address, min(options.runs, len(every_address)))
    names = [rng.choice(FIRST_NAMES + LAST_NAMES) for _ in range(options.runs)]
    searches = {
        "exact email": [address.upper() for address in addresses],
        "name prefix (3 letters)": [name[:3] for name in names],
        "name prefix (whole name)": names,
        "first and last name": [
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)[:2]}"
            for _ in range(options.runs)
        ],
        "address prefix (ann.lee@)": [
            address.partition("@")[0] + "@" for address in addresses
        ],
        "email domain (@acme.com)": [
            "@" + address.rpartition("@")[2] for address in addresses
        ],
    }

    results = {
        name: time_searches(account, queries, first_page)
        for name, queries in searches.items()
    }

    print()
    print(
        f"{'search':28} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'max ms':>8} {'matches':>8}"
    )
    for name, result in results.items():
        print(
            f"{name:28} {result['runs']:>5} {result['p50_ms']:>8} "
            f"{result['p95_ms']:>8} "
            f"{result['max_ms']:>8} {result['median_matches']:>8}"
        )

    output = Path(options.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "contacts_in_account": options.contacts,
                "database": connection.vendor,
                "server_version": connection.cursor().connection.info.server_version,
                "target_p95_ms": 20,
                "searches": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\nWrote {output}")


if __name__ == "__main__":
    main()
