"""Create a customer Account with its first Admin."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.services import create_account_with_admin


class Command(BaseCommand):
    help = "Create an Account and its first Admin employee."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The business's name.")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)
        parser.add_argument(
            "--password",
            help="The Admin's password; without it they set one by password reset.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            admin = create_account_with_admin(
                name=options["name"],
                admin_email=options["admin_email"],
                admin_name=options["admin_name"],
                password=options["password"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Created account {admin.account} with Admin {admin.email}"
            )
        )
