"""The sync engine: pull a mailbox's changes and store those with contacts.

One worker syncs a mailbox at a time, the one holding its lease (a
conditional UPDATE, so the database guarantees it on PostgreSQL and
SQLite alike). A task works for a short budget and then hands the rest of
a long first import to a fresh task, renewing the lease after every page,
so a live import is never taken for a crashed worker; a crashed worker's
lease runs out and the next sweep takes the mailbox up again.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, Q, Value, When
from django.utils import timezone

from contacts.models import ContactEmail
from conversations.models import MessageLink
from conversations.never_log import NeverLogRules, never_log_rules
from conversations.services import (
    IncomingMessage,
    MailboxRef,
    mark_deleted_in_provider,
    record_inbound_messages,
    restore_in_provider,
)
from mailsync.errors import ProviderError
from mailsync.models import Mailbox, SyncRun
from mailsync.parsing import parse_message
from mailsync.providers.base import (
    CursorExpired,
    MailProvider,
    PullPage,
    PullRequest,
    provider_for,
)
from mailsync.services.connection import mark_disconnected
from mailsync.services.tokens import REFRESH_AHEAD, fresh_access_token

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
TASK_BUDGET_SECONDS = 40.0
PAGE_SIZE = 100
MAX_BACKOFF = timedelta(hours=1)
SYNCABLE_STATES = (
    Mailbox.State.IMPORTING,
    Mailbox.State.ACTIVE,
    Mailbox.State.BACKING_OFF,
)


@dataclass(frozen=True)
class SyncOutcome:
    ran: bool  # False when another worker held the mailbox
    more: bool = False  # True when the import continues in another task


def due_mailbox_ids() -> list[int]:
    """Mailboxes a sweep should sync now: connected, of active employees,
    not backing off and not held by a live worker."""
    now = timezone.now()
    return list(
        Mailbox.objects.filter(
            is_current=True, employee__is_active=True, state__in=SYNCABLE_STATES
        )
        .filter(Q(backoff_until__isnull=True) | Q(backoff_until__lte=now))
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .values_list("pk", flat=True)
    )


def claim_mailbox(mailbox_id: int, owner: str) -> bool:
    now = timezone.now()
    claimed = (
        Mailbox.objects.filter(pk=mailbox_id)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_owner=owner, lease_expires_at=now + LEASE)
    )
    return claimed == 1


def _renew(mailbox_id: int, owner: str) -> None:
    Mailbox.objects.filter(pk=mailbox_id, lease_owner=owner).update(
        lease_expires_at=timezone.now() + LEASE
    )


def release_mailbox(mailbox_id: int, owner: str) -> None:
    Mailbox.objects.filter(pk=mailbox_id, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None
    )


def request_backfill(*, account_id: int, addresses: list[str]) -> int:
    """Ask every connected mailbox of the account for these addresses' past
    mail; return how many mailboxes will fetch it."""
    wanted = sorted({address.lower() for address in addresses if address})
    count = 0
    with transaction.atomic():
        for mailbox in Mailbox.objects.select_for_update().filter(
            account_id=account_id, is_current=True, state__in=SYNCABLE_STATES
        ):
            mailbox.backfill_addresses = sorted({*mailbox.backfill_addresses, *wanted})
            mailbox.save(update_fields=["backfill_addresses"])
            count += 1
    return count


def sync_mailbox(
    *, mailbox_id: int, budget_seconds: float = TASK_BUDGET_SECONDS
) -> SyncOutcome:
    """Sync one mailbox for at most ``budget_seconds``."""
    owner = uuid.uuid4().hex
    if not claim_mailbox(mailbox_id, owner):
        return SyncOutcome(ran=False)
    released = False
    try:
        outcome, released = _sync_claimed(mailbox_id, owner, budget_seconds)
        return outcome
    finally:
        if not released:
            release_mailbox(mailbox_id, owner)


def _sync_claimed(
    mailbox_id: int, owner: str, budget_seconds: float
) -> tuple[SyncOutcome, bool]:
    """Sync the claimed mailbox; return the outcome and whether the lease
    was already given back."""
    mailbox = Mailbox.objects.select_related("employee", "account").get(pk=mailbox_id)
    if (
        not mailbox.is_current
        or mailbox.state not in SYNCABLE_STATES
        or not mailbox.employee.is_active
    ):
        return SyncOutcome(ran=False), False

    # Written once, when the task ends: an idle poll then costs one query
    # for its log line instead of two.
    run = SyncRun(
        mailbox=mailbox,
        kind="incremental" if mailbox.last_synced_at else "import",
    )
    session = _SyncSession(mailbox, run, owner=owner)
    deadline = time.monotonic() + budget_seconds
    caught_up = False
    refreshed_after_401 = False
    try:
        while True:
            try:
                page = session.step(deadline=deadline)
            except CursorExpired:
                logger.info("mailbox %s: cursor expired; listing again", mailbox.pk)
                session.reset_cursor()
                continue
            except ProviderError as error:
                if error.auth_expired and not refreshed_after_401:
                    refreshed_after_401 = True
                    fresh_access_token(mailbox_id=mailbox.pk, force=True)
                    session.provider = None
                    continue
                raise
            if page.caught_up:
                caught_up = True
                break
            if time.monotonic() >= deadline:
                break
            _renew(mailbox.pk, owner)
    except ProviderError as error:
        run.error = error.reason[:1000]
        _record_failure(mailbox, error, progressed=bool(run.fetched))
        return SyncOutcome(ran=True), False
    except LeaseLost:
        # Support started a full resync, or this task outlived its lease
        # and another worker holds the mailbox now: that one goes on.
        logger.info("mailbox %s: lease taken back; stopping", mailbox.pk)
        run.error = "Stopped: the mailbox was taken over (a resync?)."
        return SyncOutcome(ran=True), True
    finally:
        run.finished_at = timezone.now()
        run.save()

    released = _record_success(mailbox, caught_up, owner=owner)
    logger.info(
        "mailbox %s synced: fetched %s, stored %s, linked %s, skipped %s",
        mailbox.pk,
        run.fetched,
        run.stored,
        run.linked,
        dict(run.skipped),
    )
    return SyncOutcome(ran=True, more=not caught_up), released


class LeaseLost(Exception):
    """The mailbox's lease is no longer this task's: it must not write."""


class _SyncSession:
    """The state of one task's work on one mailbox."""

    def __init__(self, mailbox: Mailbox, run: SyncRun, *, owner: str) -> None:
        self.mailbox = mailbox
        self.run = run
        self.owner = owner
        self.provider: MailProvider | None = None
        self.addresses = frozenset([mailbox.address, *mailbox.aliases])
        self.ref = MailboxRef(
            id=mailbox.pk,
            account_id=mailbox.account_id,
            employee_id=mailbox.employee_id,
            addresses=self.addresses,
        )
        self._contact_addresses: frozenset[str] | None = None
        self._rules: NeverLogRules | None = None
        # The row was read just after the claim: its token and backfill
        # requests are fresh for the first step, which saves an idle poll
        # two queries. Later steps read them again.
        self._first_step = True

    def contact_addresses(self) -> frozenset[str]:
        if self._contact_addresses is None:
            rules = never_log_rules(
                account_id=self.mailbox.account_id, employee_id=self.mailbox.employee_id
            )
            every = ContactEmail.objects.filter(
                account_id=self.mailbox.account_id
            ).values_list("normalized", flat=True)
            self._rules = rules
            self._contact_addresses = frozenset(a for a in every if not rules.blocks(a))
        return self._contact_addresses

    def skip_reason(self, participants: set[str]) -> str | None:
        """Why mail among ``participants`` is not stored (the reasons the
        store step gives), or None when it is."""
        contacts = self.contact_addresses()
        if not contacts.isdisjoint(participants):
            return None
        others = participants - self.addresses
        rules = self._rules
        if others and rules is not None and all(rules.blocks(a) for a in others):
            return "never-log"
        return "no contact"

    def already_stored(self, provider_ids: list[str]) -> set[str]:
        if not provider_ids:
            return set()
        return set(
            MessageLink.objects.filter(
                mailbox_id=self.mailbox.pk, provider_message_id__in=provider_ids
            ).values_list("provider_message_id", flat=True)
        )

    def reset_cursor(self) -> None:
        Mailbox.objects.filter(pk=self.mailbox.pk).update(cursor={})
        self.mailbox.cursor = {}

    def step(self, *, deadline: float | None = None) -> PullPage:
        mailbox = self.mailbox
        first_step, self._first_step = self._first_step, False
        if self.provider is None:
            expires_at = mailbox.access_token_expires_at
            if (
                first_step
                and expires_at is not None
                and expires_at - timezone.now() > REFRESH_AHEAD
            ):
                token = mailbox.access_token
            else:
                token = fresh_access_token(mailbox_id=mailbox.pk)
            self.provider = provider_for(mailbox.provider, token)
        provider = self.provider

        if first_step:
            backfill = list(mailbox.backfill_addresses)
        else:
            backfill = list(
                Mailbox.objects.filter(pk=mailbox.pk).values_list(
                    "backfill_addresses", flat=True
                )[0]
            )
        cursor = dict(mailbox.cursor)
        if backfill:
            cursor["backfill"] = sorted({*cursor.get("backfill", []), *backfill})
            if self._contact_addresses is not None and not (
                self._contact_addresses.issuperset(backfill)
            ):
                # Contacts were added since this task read them; a listing
                # that takes the request up must see them.
                self._contact_addresses = None
        # Contact addresses are read when a provider first asks, which an
        # idle poll never does; providers ask outside any event loop.
        window_start = timezone.now() - timedelta(
            days=mailbox.account.import_window_days
        )
        page = provider.pull(
            PullRequest(
                cursor=cursor,
                window_start=window_start,
                contact_addresses=lambda: sorted(self.contact_addresses()),
                skip_reason=self.skip_reason,
                already_stored=self.already_stored,
                max_messages=PAGE_SIZE,
                deadline=deadline,
            )
        )
        self._store(page)
        self._advance(page, consumed_backfill=page.backfill_taken)
        return page

    def _store(self, page: PullPage) -> None:
        incoming = [
            IncomingMessage(
                provider_message_id=fetched.provider_message_id,
                provider_thread_id=fetched.provider_thread_id,
                parsed=parse_message(fetched.raw),
                folder=fetched.folder[:255],
            )
            for fetched in page.messages
        ]
        result = record_inbound_messages(mailbox=self.ref, messages=incoming)
        if page.removed:
            self.run.removed += mark_deleted_in_provider(
                mailbox_id=self.mailbox.pk, provider_message_ids=page.removed
            )
        if page.restored:
            restore_in_provider(
                mailbox_id=self.mailbox.pk, provider_message_ids=page.restored
            )
        self.run.fetched += len(page.messages)
        self.run.stored += result.stored
        self.run.linked += result.linked
        skipped = dict(self.run.skipped)
        for counts in (page.skipped, result.skipped):
            for reason, count in counts.items():
                skipped[reason] = skipped.get(reason, 0) + count
        self.run.skipped = skipped

    def _advance(self, page: PullPage, *, consumed_backfill: list[str]) -> None:
        """Move the cursor, now that the page it describes is stored."""
        if not consumed_backfill:
            # Nothing read-modify-write: one UPDATE (none for a page that
            # changed nothing), leaving backfill requests made meanwhile.
            updates: dict[str, Any] = {}
            if page.cursor != self.mailbox.cursor:
                updates["cursor"] = page.cursor
            importing = Q(state=Mailbox.State.IMPORTING)
            if page.examined:
                updates["import_done"] = Case(
                    When(importing, then=F("import_done") + page.examined),
                    default=F("import_done"),
                    output_field=PositiveIntegerField(),
                )
            if page.total_estimate is not None:
                updates["import_total"] = Case(
                    When(importing, then=Value(page.total_estimate)),
                    default=F("import_total"),
                    output_field=PositiveIntegerField(),
                )
            if updates and not (
                Mailbox.objects.filter(
                    pk=self.mailbox.pk, lease_owner=self.owner
                ).update(**updates)
            ):
                raise LeaseLost
            self.mailbox.cursor = page.cursor
            return

        with transaction.atomic():
            mailbox = (
                Mailbox.objects.select_for_update()
                .filter(pk=self.mailbox.pk, lease_owner=self.owner)
                .first()
            )
            if mailbox is None:
                raise LeaseLost
            mailbox.cursor = page.cursor
            if consumed_backfill:
                mailbox.backfill_addresses = [
                    a for a in mailbox.backfill_addresses if a not in consumed_backfill
                ]
            if mailbox.state == Mailbox.State.IMPORTING:
                mailbox.import_done += page.examined
                if page.total_estimate is not None:
                    mailbox.import_total = page.total_estimate
            mailbox.save(
                update_fields=[
                    "cursor",
                    "backfill_addresses",
                    "import_done",
                    "import_total",
                ]
            )
        self.mailbox.cursor = page.cursor


def _record_success(mailbox: Mailbox, caught_up: bool, *, owner: str) -> bool:
    """Record the good run and give the lease back in the same UPDATE;
    return whether the lease was given back."""
    updates: dict[str, object] = {
        "failure_count": 0,
        "backoff_until": None,
        "last_error": "",
        "lease_owner": "",
        "lease_expires_at": None,
    }
    if caught_up:
        updates["last_synced_at"] = timezone.now()
        updates["state"] = Mailbox.State.ACTIVE
    elif mailbox.state == Mailbox.State.BACKING_OFF:
        updates["state"] = (
            Mailbox.State.ACTIVE if mailbox.last_synced_at else Mailbox.State.IMPORTING
        )
    return (
        Mailbox.objects.filter(
            pk=mailbox.pk, state__in=SYNCABLE_STATES, lease_owner=owner
        ).update(**updates)
        == 1
    )


def _record_failure(
    mailbox: Mailbox, error: ProviderError, *, progressed: bool = False
) -> None:
    if error.permanent:
        mark_disconnected(mailbox_id=mailbox.pk, reason=error.reason)
        return

    # The provider's Retry-After says when it will answer again (a quota
    # window ending); without one, waits double from a minute. A task that
    # fetched mail before failing (an import running into a per-minute
    # quota) starts the doubling again.
    failures = 1 if progressed else mailbox.failure_count + 1
    if error.retry_after:
        wait = timedelta(seconds=error.retry_after)
    else:
        wait = timedelta(minutes=min(2 ** (failures - 1), 60))
    Mailbox.objects.filter(pk=mailbox.pk, state__in=SYNCABLE_STATES).update(
        state=Mailbox.State.BACKING_OFF,
        failure_count=failures,
        backoff_until=timezone.now() + min(wait, MAX_BACKOFF),
        last_error=error.reason[:1000],
    )
    logger.warning(
        "mailbox %s backs off after failure %s: %s", mailbox.pk, failures, error.reason
    )
