"""The full-text index of message text, which only PostgreSQL builds.

The expression is the one ``conversations.selectors.message_search_document``
compiles to, so the inbox search can read the index. SQLite searches with
a plain substring match instead, and this migration does nothing there.
"""

from django.db import migrations

INDEX = "message_search_document"
DEFINITION = (
    "conversations_message USING gin ("
    "to_tsvector('simple'::regconfig,"
    " COALESCE(subject, '') || ' ' || COALESCE(text_body, '')))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {DEFINITION}")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_thread_read_state"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
