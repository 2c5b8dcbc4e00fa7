"""Template helpers of the Conversations pages and the sharing box."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from conversations.forms import SharingForm
from conversations.sanitize import render_plain_text
from conversations.selectors import current_mailbox

register = template.Library()


@register.filter
def plain_text(text: str) -> SafeString:
    """A plain-text body: escaped, links clickable, the quote folded."""
    return render_plain_text(text)


@register.filter
def people(addresses: list[dict[str, str]]) -> SafeString:
    """Stored recipients as "Name <address>", escaped."""
    return format_html_join(
        ", ",
        "{}",
        (
            (f"{p['name']} <{p['address']}>" if p.get("name") else p["address"],)
            for p in addresses
        ),
    )


@register.inclusion_tag("conversations/_sharing_box.html", takes_context=True)
def sharing_box(context: dict[str, Any], employee: Any) -> dict[str, Any]:
    """My Profile: the owner's choice of what teammates see."""
    mailbox = current_mailbox(employee=employee)
    return {
        "mailbox": mailbox,
        "form": SharingForm(instance=mailbox) if mailbox else None,
        "csrf_token": context.get("csrf_token"),
    }
