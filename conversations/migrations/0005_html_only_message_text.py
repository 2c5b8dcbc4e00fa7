"""Give mail stored with only an HTML part the words of that HTML as its
text, so search and the snippet find it as they find mail with a text part.

The text index of migration 0003 reads ``text_body`` and so covers the
new text without changes. Going back leaves the text in place: it is
derived from ``html_body`` and harmless to older code.
"""

from django.db import migrations

BATCH = 500


def derive_text(apps, schema_editor):
    # The rendering and the snippet as they are now: migrations run with the
    # current code, as new mail is stored.
    from conversations.sanitize import html_as_text
    from conversations.services import message_snippet

    Message = apps.get_model("conversations", "Message")
    html_only = (
        Message.objects.filter(text_body__regex=r"^\s*$")
        .exclude(html_body="")
        .only("pk", "html_body")
    )
    changed = []
    for message in html_only.iterator(chunk_size=BATCH):
        message.text_body = html_as_text(message.html_body)
        message.snippet = message_snippet(message.text_body)
        changed.append(message)
        if len(changed) >= BATCH:
            Message.objects.bulk_update(changed, ["text_body", "snippet"])
            changed = []
    Message.objects.bulk_update(changed, ["text_body", "snippet"])


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0004_message_has_remote_images"),
    ]

    operations = [
        migrations.RunPython(derive_text, migrations.RunPython.noop),
    ]
