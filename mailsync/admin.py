"""Support staff's view of mailboxes: states, cursors, sync runs, resync.

Tokens are never shown (not even encrypted), nor are message bodies.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone

from mailsync.models import Mailbox, SyncRun

RECENT_RUNS = 20


class RecentSyncRuns(BaseInlineFormSet):
    """The mailbox's own latest runs; its whole log is on the Sync runs
    page, filtered by mailbox."""

    def get_queryset(self) -> QuerySet[SyncRun]:
        return super().get_queryset()[:RECENT_RUNS]


class SyncRunInline(admin.TabularInline):
    model = SyncRun
    fields = (
        "kind",
        "started_at",
        "finished_at",
        "fetched",
        "stored",
        "linked",
        "removed",
        "skipped",
        "error",
    )
    readonly_fields = fields
    formset = RecentSyncRuns
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-started_at",)
    verbose_name_plural = f"latest {RECENT_RUNS} sync runs (all on the Sync runs page)"


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = (
        "address",
        "provider",
        "employee",
        "account",
        "state",
        "state_reason",
        "last_synced_at",
        "import_progress",
        "is_current",
    )
    list_filter = ("provider", "state", "is_current")
    search_fields = ("address", "employee__email", "account__name")
    list_select_related = ("employee", "account")
    actions = ["full_resync"]
    inlines = [SyncRunInline]
    fields = (
        "account",
        "employee",
        "provider",
        "address",
        "aliases",
        "is_current",
        "state",
        "state_reason",
        "granted_scopes",
        "access_token_expires_at",
        "connected_at",
        "disconnected_at",
        "last_synced_at",
        "last_error",
        "failure_count",
        "backoff_until",
        "import_done",
        "import_total",
        "cursor",
        "backfill_addresses",
        "lease_owner",
        "lease_expires_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Import")
    def import_progress(self, mailbox: Mailbox) -> str:
        if mailbox.import_total:
            return f"{mailbox.import_done} of {mailbox.import_total}"
        return str(mailbox.import_done or "")

    @admin.action(description="Run a full resync (re-list from the import window)")
    def full_resync(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        # A re-list stores nothing twice: known messages are only skipped.
        # Taking the lease back stops a sync under way from writing its
        # cursor over the cleared one.
        count = queryset.exclude(state=Mailbox.State.DISCONNECTED).update(
            lease_owner="",
            lease_expires_at=None,
            cursor={},
            state=Mailbox.State.IMPORTING,
            import_done=0,
            import_total=None,
            backoff_until=None,
            last_error="",
        )
        self.message_user(
            request,
            f"{count} mailboxes will re-list their mail on the next sweep "
            f"({timezone.now():%H:%M} + at most a minute).",
            messages.SUCCESS,
        )


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "mailbox",
        "kind",
        "started_at",
        "finished_at",
        "fetched",
        "stored",
        "linked",
        "removed",
        "error",
    )
    list_filter = ("kind", "mailbox__provider", "mailbox")
    search_fields = ("mailbox__address",)
    list_select_related = ("mailbox",)
    readonly_fields = [field.name for field in SyncRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
