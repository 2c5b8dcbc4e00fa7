"""The pages around connecting a mailbox (the box itself is on My Profile)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import EmployeeRequest, employee_permission_required
from accounts.tenancy import get_for_account_or_404
from mailsync.models import Mailbox
from mailsync.services.connection import (
    cancel_replacement,
    confirm_replacement,
    disconnect_mailbox,
)

settings_required = employee_permission_required("accounts.access_settings")


@settings_required
def connect_done(request: EmployeeRequest) -> HttpResponse:
    """End of the OAuth flow: close the pop-up, or go where the flow said."""
    then = request.GET.get("then", "")
    if not url_has_allowed_host_and_scheme(then, allowed_hosts={request.get_host()}):
        then = ""
    if request.GET.get("popup") == "1":
        return render(request, "mailsync/connect_done.html", {"then": then})
    return redirect(then or "profile")


@settings_required
def confirm_replacement_view(request: EmployeeRequest, mailbox_id: int) -> HttpResponse:
    pending = get_for_account_or_404(
        Mailbox.objects.filter(employee=request.user, state=Mailbox.State.PENDING),
        request,
        pk=mailbox_id,
    )
    current = Mailbox.objects.filter(employee=request.user, is_current=True).first()

    if request.method == "POST":
        if "confirm" in request.POST:
            mailbox = confirm_replacement(employee=request.user, mailbox_id=pending.pk)
            messages.success(request, f"Connected {mailbox.address}.")
        else:
            cancel_replacement(employee=request.user, mailbox_id=pending.pk)
            messages.info(request, "Kept your current mailbox; nothing was replaced.")
        return redirect("profile")

    return render(
        request,
        "mailsync/confirm_replacement.html",
        {"pending": pending, "current": current},
    )


@require_POST
@settings_required
def disconnect(request: EmployeeRequest) -> HttpResponse:
    disconnect_mailbox(employee=request.user)
    messages.success(
        request,
        "Disconnected. The email already on your contacts' records stays there.",
    )
    return redirect("profile")
