"""Create the mail sync's periodic tasks in django-q2 (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from mailsync.schedules import ensure_schedules


class Command(BaseCommand):
    help = "Create or update the periodic tasks of the mail sync."

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ensure_schedules():
            self.stdout.write(f"scheduled: {name}")
