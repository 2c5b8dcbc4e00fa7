"""The periodic tasks of the mail sync, as django-q2 schedules."""

from __future__ import annotations

from dataclasses import dataclass

from django_q.models import Schedule


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    minutes: int


PERIODIC_TASKS = (
    Periodic("Sync due mailboxes", "mailsync.tasks.sync_due_mailboxes", 1),
    Periodic("Dispatch the outbox", "mailsync.tasks.dispatch_outbox", 1),
    Periodic("Refresh expiring mailbox tokens", "mailsync.tasks.refresh_tokens", 5),
)


def ensure_schedules() -> list[str]:
    """Create or update each periodic task's schedule; safe to run again."""
    for task in PERIODIC_TASKS:
        Schedule.objects.update_or_create(
            name=task.name,
            defaults={
                "func": task.func,
                "schedule_type": Schedule.MINUTES,
                "minutes": task.minutes,
                "repeats": -1,
            },
        )
    return [task.name for task in PERIODIC_TASKS]
