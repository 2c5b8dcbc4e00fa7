from django.apps import AppConfig


class MailsyncConfig(AppConfig):
    name = "mailsync"
    verbose_name = "Mail sync"

    def ready(self) -> None:
        from contacts.signals import contact_addresses_added
        from mailsync.receivers import fetch_past_mail_of_new_addresses

        contact_addresses_added.connect(
            fetch_past_mail_of_new_addresses, dispatch_uid="mailsync-backfill"
        )
