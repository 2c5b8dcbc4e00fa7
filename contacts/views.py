"""The contact pages: list and search, the record, create, edit, delete,
CSV import and export.

Every page needs the Contacts permission, and the Conversations tab the
Conversations permission as well; every query is scoped to the signed-in
employee's account.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.decorators import employee_permission_required
from accounts.tenancy import get_for_account_or_404
from contacts import services
from contacts.csv_files import (
    CsvFileError,
    write_contacts_csv,
    write_row_errors_csv,
)
from contacts.forms import (
    ContactDeleteForm,
    ContactForm,
    ContactImportForm,
    ContactSearchForm,
    address_formset,
)
from contacts.models import Contact, ContactImport
from contacts.selectors import contact_page, search_contacts
from conversations.views import render_contact_conversations

contacts_permission = employee_permission_required("accounts.access_contacts")


@contacts_permission
def contact_list(request: HttpRequest) -> HttpResponse:
    search = ContactSearchForm(request.GET)
    query, sort = search.search()
    page = contact_page(
        account=request.account,  # type: ignore[attr-defined]
        query=query,
        sort=sort,
        number=request.GET.get("page"),
    )
    return render(
        request,
        "contacts/list.html",
        {"search": search, "query": query, "sort": sort, "page": page},
    )


# The decorators' type names HttpResponse; a streamed file is a response too.
@contacts_permission  # type: ignore[arg-type]
def contact_export(request: HttpRequest) -> HttpResponseBase:
    query, sort = ContactSearchForm(request.GET).search()
    contacts = search_contacts(account=request.account, query=query, sort=sort)  # type: ignore[attr-defined]
    file_name = f"contacts-{timezone.localdate().isoformat()}.csv"
    return StreamingHttpResponse(
        write_contacts_csv(contacts.iterator(chunk_size=1000)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@contacts_permission
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    return render(
        request, "contacts/detail.html", {"contact": contact, "tab": "overview"}
    )


# The email tab is a page of the contact record and of their email: it
# needs both permissions.
@contacts_permission
@employee_permission_required("accounts.access_conversations")
def contact_conversations(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    return render_contact_conversations(request, contact)  # type: ignore[arg-type]


@contacts_permission
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    account = request.account  # type: ignore[attr-defined]
    data = request.POST if request.method == "POST" else None
    form = ContactForm(data, account=account)
    addresses = address_formset(data)

    if form.is_valid() and addresses.is_valid():
        try:
            contact = services.create_contact(
                account=account,
                details=form.details(),
                addresses=addresses.addresses,
                primary=addresses.primary,
            )
        except services.AddressInUse as error:
            addresses.add_owners(error.owners)
        else:
            messages.success(request, f"{contact} was added.")
            return redirect(contact)

    return render(request, "contacts/form.html", {"form": form, "addresses": addresses})


@contacts_permission
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    data = request.POST if request.method == "POST" else None
    form = ContactForm(data, instance=contact, account=contact.account)
    addresses = address_formset(data, contact=contact)

    if form.is_valid() and addresses.is_valid():
        try:
            services.update_contact(
                contact=contact,
                details=form.details(),
                addresses=addresses.addresses,
                primary=addresses.primary,
            )
        except services.AddressInUse as error:
            addresses.add_owners(error.owners)
        else:
            messages.success(request, f"{contact} was saved.")
            return redirect(contact)

    return render(
        request,
        "contacts/form.html",
        {"form": form, "addresses": addresses, "contact": contact},
    )


@contacts_permission
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _get_contact(request, pk)
    form = ContactDeleteForm(request.POST if request.method == "POST" else None)

    if form.is_valid():
        name = str(contact)
        services.delete_contact(
            contact=contact, delete_email=form.cleaned_data["delete_email"]
        )
        messages.success(request, f"{name} was deleted.")
        return redirect("contacts:list")

    return render(request, "contacts/delete.html", {"contact": contact, "form": form})


@contacts_permission
@require_http_methods(["GET", "POST"])
def contact_import(request: HttpRequest) -> HttpResponse:
    form = ContactImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )

    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            staged = services.stage_contact_import(
                account=request.account,  # type: ignore[attr-defined]
                uploaded_by=request.user,  # type: ignore[arg-type]
                file_name=upload.name[:255],
                data=upload.read(),
            )
        except CsvFileError as error:
            form.add_error("file", str(error))
        else:
            return redirect(staged)

    return render(request, "contacts/import.html", {"form": form})


@contacts_permission
@require_http_methods(["GET", "POST"])
def contact_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    staged = _get_import(request, pk)
    if staged.imported_at is not None:
        return render(request, "contacts/import_done.html", {"staged": staged})

    if request.method == "POST":
        services.run_contact_import(contact_import=staged)
        messages.success(
            request,
            f"Imported {staged.file_name}: {staged.created_count} created, "
            f"{staged.updated_count} updated, {staged.error_count} rows skipped.",
        )
        return redirect("contacts:list")

    plan = services.plan_contact_import(account=staged.account, text=staged.content)
    changes = [
        row
        for row in plan.rows
        if row.action in (services.ImportAction.CREATE, services.ImportAction.UPDATE)
    ]
    return render(
        request,
        "contacts/import_preview.html",
        {
            "staged": staged,
            "plan": plan,
            "changes": changes,
            "created": plan.count(services.ImportAction.CREATE),
            "updated": plan.count(services.ImportAction.UPDATE),
            "unchanged": plan.count(services.ImportAction.UNCHANGED),
            "errors": plan.count(services.ImportAction.ERROR),
        },
    )


@contacts_permission  # type: ignore[arg-type]
def contact_import_errors(request: HttpRequest, pk: int) -> HttpResponseBase:
    staged = _get_import(request, pk)
    if staged.imported_at is not None:
        report: Iterable[str] = [staged.refused_rows]
    else:
        plan = services.plan_contact_import(account=staged.account, text=staged.content)
        report = write_row_errors_csv(row.row for row in plan.error_rows)
    return StreamingHttpResponse(
        report,
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="contact-import-errors.csv"'
        },
    )


def _get_contact(request: HttpRequest, pk: int) -> Contact:
    return get_for_account_or_404(
        Contact.objects.select_related("owner").prefetch_related("emails"),
        request,
        pk=pk,
    )


def _get_import(request: HttpRequest, pk: int) -> ContactImport:
    """An upload by the signed-in employee; a colleague's is not theirs."""
    return get_for_account_or_404(
        ContactImport.objects.filter(uploaded_by=request.user.pk),
        request,
        pk=pk,
    )
