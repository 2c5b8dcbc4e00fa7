"""Load the demo account, its employees and contacts (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from demo.services import load_demo_account


class Command(BaseCommand):
    help = "Create the demo account with an Admin, two employees and contacts."

    def handle(self, *args: Any, **options: Any) -> None:
        account = load_demo_account()
        self.stdout.write(self.style.SUCCESS(f"Demo account ready: {account}"))
