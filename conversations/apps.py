from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        from contacts.signals import contact_deleting
        from conversations.receivers import delete_mail_of_deleted_contact

        contact_deleting.connect(
            delete_mail_of_deleted_contact, dispatch_uid="conversations-delete-mail"
        )
