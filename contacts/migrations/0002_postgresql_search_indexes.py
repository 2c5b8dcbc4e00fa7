"""Prefix-search indexes that only PostgreSQL can build.

``LIKE 'ann%'`` uses a b-tree index only when the index compares bytes, not
the database's collation: that is what ``text_pattern_ops`` is for. The
expressions match what ``contacts.selectors.search_contacts`` filters on,
``lower(column)``, ``normalized`` and ``domain``, each after ``account_id``;
the equality-only unique index on ``(account_id, normalized)`` stays for
matching whole addresses. SQLite has
no operator classes and reads a few thousand rows quickly, so this
migration does nothing there.
"""

from django.db import migrations

INDEXES = {
    "contact_prefix_first_name": (
        "contacts_contact (account_id, lower(first_name) text_pattern_ops)"
    ),
    "contact_prefix_last_name": (
        "contacts_contact (account_id, lower(last_name) text_pattern_ops)"
    ),
    "contact_prefix_company": (
        "contacts_contact (account_id, lower(company) text_pattern_ops)"
    ),
    # The contact id is included so an address search reads the index only.
    "contact_email_prefix": (
        "contacts_contactemail (account_id, normalized varchar_pattern_ops)"
        " INCLUDE (contact_id)"
    ),
    "contact_email_domain_prefix": (
        "contacts_contactemail (account_id, domain varchar_pattern_ops)"
        " INCLUDE (contact_id)"
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
