"""The "Email (Two-Way Sync)" box and the disconnected-mailbox banner."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Q

from accounts.models import User
from conversations.models import NeverLog
from mailsync.models import Mailbox

register = template.Library()


@register.inclusion_tag("mailsync/mailbox_box.html", takes_context=True)
def mailbox_box(context: dict[str, Any], employee: User) -> dict[str, Any]:
    mailboxes = list(
        Mailbox.objects.filter(employee=employee).filter(
            Q(is_current=True) | Q(state=Mailbox.State.PENDING)
        )
    )
    current = next((m for m in mailboxes if m.is_current), None)
    pending = next((m for m in mailboxes if m.state == Mailbox.State.PENDING), None)
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "mailbox": current,
        "pending": pending,
        "providers": [
            ("google", Mailbox.Provider.GMAIL, "Connect Gmail"),
            ("microsoft", Mailbox.Provider.OUTLOOK, "Connect Outlook"),
        ],
    }


@register.inclusion_tag("mailsync/banner.html", takes_context=True)
def mailbox_banner(context: dict[str, Any]) -> dict[str, Any]:
    """A banner on every page while the employee's mailbox is disconnected
    by a provider failure (not by the employee's own choice)."""
    user = context["request"].user
    mailbox = None
    if user.is_authenticated and user.account_id is not None:
        mailbox = (
            Mailbox.objects.filter(
                employee=user, is_current=True, state=Mailbox.State.DISCONNECTED
            )
            .exclude(state_reason="You disconnected it")
            .first()
        )
    return {"mailbox": mailbox}


@register.inclusion_tag("mailsync/never_log_box.html", takes_context=True)
def never_log_box(context: dict[str, Any], employee: User) -> dict[str, Any]:
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "entries": NeverLog.objects.filter(employee=employee),
    }
