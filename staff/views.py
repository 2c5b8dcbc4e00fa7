"""My Staff: the Admin's list of employees, and the invitation pages."""

from __future__ import annotations

from allauth.account.utils import perform_login
from django.contrib import messages
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.decorators import EmployeeRequest, admin_required
from accounts.models import User
from accounts.tenancy import get_for_account_or_404
from staff import selectors, services
from staff.forms import AddEmployeeForm, EmployeeForm, RequestInvitationForm
from staff.models import InvitationState

NOT_SENT_MESSAGE = (
    "The invitation could not be sent because the mail server did not answer. "
    "Nothing was saved; please try again."
)


def _site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@admin_required
def staff_list(request: EmployeeRequest) -> HttpResponse:
    rows = selectors.list_staff(account=request.account)
    return render(request, "staff/staff_list.html", {"rows": rows})


@admin_required
def add_employee(request: EmployeeRequest) -> HttpResponse:
    form = AddEmployeeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employee = services.add_employee(
                account=request.account,
                added_by=request.user,
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                permissions=form.permissions,
                site_url=_site_url(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.InvitationNotSent:
            form.add_error(None, NOT_SENT_MESSAGE)
        else:
            messages.success(request, f"Invitation sent to {employee.email}.")
            return redirect("staff:list")
    return render(request, "staff/employee_add.html", {"form": form})


@admin_required
def edit_employee(request: EmployeeRequest, pk: int) -> HttpResponse:
    employee = get_for_account_or_404(User, request, pk=pk)
    initial = EmployeeForm.initial_for(
        employee=employee, permissions=selectors.employee_permissions(employee)
    )
    form = EmployeeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_employee(
                employee=employee,
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
                permissions=form.permissions,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Saved {employee}.")
            return redirect("staff:list")
    context = {
        "form": form,
        "employee": employee,
        "state": selectors.staff_state(employee),
    }
    return render(request, "staff/employee_edit.html", context)


@admin_required
def deactivate_employee(request: EmployeeRequest, pk: int) -> HttpResponse:
    employee = get_for_account_or_404(User, request, pk=pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.deactivate_employee(employee=employee)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, f"{employee} is deactivated and signed out.")
            if employee == request.user:
                return redirect("account_login")
            return redirect("staff:edit", pk=employee.pk)
    context = {"employee": employee, "errors": errors}
    return render(request, "staff/employee_deactivate.html", context)


@require_POST
@admin_required
def reactivate_employee(request: EmployeeRequest, pk: int) -> HttpResponse:
    employee = get_for_account_or_404(User, request, pk=pk)
    services.reactivate_employee(employee=employee)
    messages.success(request, f"{employee} can sign in again.")
    return redirect("staff:edit", pk=employee.pk)


@require_POST
@admin_required
def resend_invitation(request: EmployeeRequest, pk: int) -> HttpResponse:
    employee = get_for_account_or_404(User, request, pk=pk)
    try:
        services.send_invitation(
            employee=employee,
            sent_by=request.user,
            site_url=_site_url(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except services.InvitationNotSent:
        messages.error(request, NOT_SENT_MESSAGE)
    else:
        messages.success(
            request, f"A new invitation is on its way to {employee.email}."
        )
    return redirect("staff:edit", pk=employee.pk)


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Let an invited employee set their first password, then sign them in."""
    invitation = selectors.find_invitation(token)
    if invitation is None or invitation.state is not InvitationState.OPEN:
        state = invitation.state if invitation else None
        return render(
            request,
            "staff/invitation_closed.html",
            {"state": state, "form": RequestInvitationForm()},
            status=404 if state is None else 410,
        )

    employee = invitation.employee
    form = SetPasswordForm(employee, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employee = services.accept_invitation(
                invitation=invitation, password=form.cleaned_data["new_password1"]
            )
        except ValidationError:
            # The same link was used a moment ago, in another tab.
            return redirect("staff:accept_invitation", token=token)
        messages.success(request, f"Welcome to RevStackr, {employee.get_short_name()}.")
        return perform_login(request, employee, redirect_url=reverse("home"))
    context = {"form": form, "employee": employee}
    return render(request, "staff/invitation_accept.html", context)


def request_invitation(request: HttpRequest) -> HttpResponse:
    """Let somebody whose link expired ask for a new one."""
    form = RequestInvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_new_invitation(
            email=form.cleaned_data["email"], site_url=_site_url(request)
        )
        return render(
            request,
            "staff/invitation_requested.html",
            {"email": form.cleaned_data["email"]},
        )
    return render(request, "staff/invitation_request.html", {"form": form})
