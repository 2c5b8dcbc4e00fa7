"""Create a member of RevStackr's support staff (Django admin only)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import create_support_user


class Command(BaseCommand):
    help = "Create a support-staff user who can use the Django admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = create_support_user(
                email=options["email"],
                full_name=options["name"],
                password=options["password"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Created support user {user.email}"))
