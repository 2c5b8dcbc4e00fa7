"""The pages around connecting a mailbox (the box itself is on My Profile)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import (
    EmployeeRequest,
    admin_required,
    employee_permission_required,
)
from accounts.tenancy import get_for_account_or_404
from conversations.models import NeverLog
from conversations.never_log import (
    add_never_log_entry,
    own_domains,
)
from mailsync.forms import ImportWindowForm, NeverLogForm
from mailsync.models import Mailbox
from mailsync.services.connection import (
    cancel_replacement,
    confirm_replacement,
    disconnect_mailbox,
)

settings_required = employee_permission_required("accounts.access_settings")


@admin_required
def email_settings(request: EmployeeRequest) -> HttpResponse:
    """The account's import window and never-log list (Admins)."""
    account = request.user.account
    assert account is not None  # admin_required lets only employees in
    window_form = ImportWindowForm(
        request.POST if "save_window" in request.POST else None, instance=account
    )
    entry_form = NeverLogForm(request.POST if "add_entry" in request.POST else None)

    if request.method == "POST":
        if "save_window" in request.POST and window_form.is_valid():
            window_form.save()
            messages.success(request, "Saved the import window.")
            return redirect("mailsync:email_settings")
        if "add_entry" in request.POST and entry_form.is_valid():
            add_never_log_entry(
                account_id=account.pk,
                employee_id=None,
                value=entry_form.cleaned_data["value"],
            )
            messages.success(request, "Added to the never-log list.")
            return redirect("mailsync:email_settings")

    return render(
        request,
        "mailsync/email_settings.html",
        {
            "window_form": window_form,
            "entry_form": entry_form,
            "entries": NeverLog.objects.filter(account=account, employee__isnull=True),
            "own_domains": sorted(own_domains(account.pk)),
        },
    )


@require_POST
@admin_required
def remove_account_never_log(request: EmployeeRequest, entry_id: int) -> HttpResponse:
    entry = get_for_account_or_404(
        NeverLog.objects.filter(employee__isnull=True), request, pk=entry_id
    )
    entry.delete()
    messages.success(request, "Removed from the never-log list.")
    return redirect("mailsync:email_settings")


@require_POST
@settings_required
def add_own_never_log(request: EmployeeRequest) -> HttpResponse:
    form = NeverLogForm(request.POST)
    if form.is_valid():
        add_never_log_entry(
            account_id=request.account.pk,
            employee_id=request.user.pk,
            value=form.cleaned_data["value"],
        )
        messages.success(request, "Added to your never-log list.")
    else:
        messages.error(request, " ".join(str(e) for e in form.errors.get("value", [])))
    return redirect(f"{reverse('profile')}#never-log")


@require_POST
@settings_required
def remove_own_never_log(request: EmployeeRequest, entry_id: int) -> HttpResponse:
    entry = get_for_account_or_404(
        NeverLog.objects.filter(employee=request.user), request, pk=entry_id
    )
    entry.delete()
    messages.success(request, "Removed from your never-log list.")
    return redirect(f"{reverse('profile')}#never-log")


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
    mailbox = disconnect_mailbox(employee=request.user)
    messages.success(
        request,
        "Disconnected. The email already on your contacts' records stays there.",
    )
    if mailbox is not None and mailbox.provider == Mailbox.Provider.OUTLOOK:
        # Microsoft offers applications no way to withdraw a grant.
        messages.info(
            request,
            "RevStackr has forgotten its access to your Outlook mailbox. "
            "Microsoft still lists the permission you gave until you remove "
            "RevStackr under Apps on your Microsoft account page "
            "(myapps.microsoft.com, or account.live.com/consent/Manage for a "
            "personal account).",
        )
    return redirect("profile")
