"""Message metadata for support staff: who, when, where; never bodies."""

from django.contrib import admin

from conversations.models import Message, MessageLink, NeverLog, Thread


class MessageLinkInline(admin.TabularInline):
    model = MessageLink
    fields = ("mailbox", "provider_message_id", "folder", "deleted_in_provider_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = (
        "subject",
        "sender_address",
        "sent_at",
        "direction",
        "status",
        "account",
    )
    list_filter = ("direction", "status")
    search_fields = ("rfc_message_id", "sender_address", "subject")
    list_select_related = ("account",)
    # Bodies stay out of the admin: support sees metadata only.
    fields = (
        "account",
        "thread",
        "rfc_message_id",
        "in_reply_to",
        "subject",
        "sent_at",
        "sender_address",
        "direction",
        "status",
        "failure_reason",
        "send_attempts",
        "has_attachments",
        "parse_problems",
    )
    readonly_fields = fields
    inlines = [MessageLinkInline]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("subject", "message_count", "last_message_at", "account")
    search_fields = ("subject",)
    list_select_related = ("account",)
    readonly_fields = ("account", "subject", "message_count", "last_message_at")
    fields = readonly_fields


@admin.register(NeverLog)
class NeverLogAdmin(admin.ModelAdmin):
    list_display = ("value", "account", "employee", "created_at")
    search_fields = ("value",)
