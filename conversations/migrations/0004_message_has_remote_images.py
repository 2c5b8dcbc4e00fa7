from django.db import migrations, models

BATCH = 500


def note_remote_images(apps, schema_editor):
    # The cleaner as it is now: migrations run with the current code, and
    # the flag only decides whether "Show images" is offered.
    from conversations.sanitize import has_remote_images

    Message = apps.get_model("conversations", "Message")
    changed = []
    html_mail = Message.objects.exclude(html_body="").only("pk", "html_body")
    for message in html_mail.iterator(chunk_size=BATCH):
        if has_remote_images(message.html_body):
            message.has_remote_images = True
            changed.append(message)
        if len(changed) >= BATCH:
            Message.objects.bulk_update(changed, ["has_remote_images"])
            changed = []
    Message.objects.bulk_update(changed, ["has_remote_images"])


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0003_postgresql_message_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="has_remote_images",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(note_remote_images, migrations.RunPython.noop),
    ]
