"""Re-encrypt every stored token under the first TOKEN_ENCRYPTION_KEYS key."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from mailsync.crypto import reencrypt_token
from mailsync.models import Mailbox


class Command(BaseCommand):
    help = (
        "Re-encrypt stored provider tokens with the first key of "
        "TOKEN_ENCRYPTION_KEYS; afterwards the older keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for mailbox in Mailbox.objects.select_for_update().exclude(
                refresh_token_encrypted=""
            ):
                mailbox.access_token_encrypted = reencrypt_token(
                    mailbox.access_token_encrypted
                )
                mailbox.refresh_token_encrypted = reencrypt_token(
                    mailbox.refresh_token_encrypted
                )
                mailbox.save(
                    update_fields=["access_token_encrypted", "refresh_token_encrypted"]
                )
                count += 1
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the tokens of {count} mailboxes.")
        )
