"""Support staff's view of contacts and their addresses, across accounts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from contacts.models import Contact, ContactEmail, ContactImport, normalize_address
from contacts.selectors import find_address_owners
from contacts.services import announce_addresses_added


class ContactEmailInlineForm(forms.ModelForm):
    class Meta:
        model = ContactEmail
        fields = ("address", "is_primary")

    def clean_address(self) -> str:
        # The inline form leaves out ``account``, so Django skips the unique
        # constraint that names it; check it here for a message, not a crash.
        address = self.cleaned_data["address"].strip()
        contact = self.instance.contact if self.instance.contact_id else None
        if contact is not None:
            owners = find_address_owners(
                account=contact.account, addresses=[address], exclude=contact
            )
            if owners:
                other = owners[normalize_address(address)]
                raise forms.ValidationError(
                    f"{address} already belongs to contact {other.pk} ({other})."
                )
        return address


class ContactEmailInlineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """Keep the contact's invariant: one or more addresses, exactly one
        of them primary."""
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise forms.ValidationError("A contact needs at least one address.")
        primaries = sum(1 for data in kept if data.get("is_primary"))
        if primaries != 1:
            raise forms.ValidationError("Mark exactly one address as primary.")


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    form = ContactEmailInlineForm
    formset = ContactEmailInlineFormSet
    fields = ("address", "is_primary", "normalized", "created_at")
    readonly_fields = ("normalized", "created_at")
    extra = 0


class ContactAdminForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = (
            "account",
            "first_name",
            "last_name",
            "company",
            "phone",
            "notes",
            "owner",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        account, owner = cleaned.get("account"), cleaned.get("owner")
        if owner is not None and account is not None and owner.account_id != account.pk:
            self.add_error(
                "owner", "The owner must be an employee of the same account."
            )
        return cleaned


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("__str__", "company", "account", "owner", "created_at")
    list_filter = ("created_at", "account")
    search_fields = (
        "first_name",
        "last_name",
        "company",
        "emails__normalized",
        "account__name",
    )
    list_select_related = ("account", "owner")
    autocomplete_fields = ("account", "owner")
    readonly_fields = ("created_at", "updated_at")
    inlines = [ContactEmailInline]

    def save_formset(
        self, request: HttpRequest, form: Any, formset: Any, change: bool
    ) -> None:
        super().save_formset(request, form, formset, change)

        if formset.model is ContactEmail:
            edited = [
                email
                for email, fields in formset.changed_objects
                if "address" in fields
            ]
            added = [email.normalized for email in [*formset.new_objects, *edited]]
            announce_addresses_added(contact=form.instance, addresses=added)


@admin.register(ContactEmail)
class ContactEmailAdmin(admin.ModelAdmin):
    list_display = ("address", "contact", "is_primary", "account", "created_at")
    list_filter = ("is_primary", "account")
    search_fields = ("normalized", "contact__first_name", "contact__last_name")
    list_select_related = ("contact", "account")
    readonly_fields = ("account", "contact", "normalized", "domain", "created_at")

    # Addresses are added and changed on their contact's page, which keeps
    # one primary per contact and fetches the past mail of a new address.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ContactEmail | None = None
    ) -> bool:
        return False


@admin.register(ContactImport)
class ContactImportAdmin(admin.ModelAdmin):
    list_display = (
        "file_name",
        "account",
        "uploaded_by",
        "created_at",
        "imported_at",
        "created_count",
        "updated_count",
        "error_count",
    )
    list_filter = ("imported_at", "account")
    exclude = ("content",)
    readonly_fields = (
        "account",
        "uploaded_by",
        "file_name",
        "created_at",
        "imported_at",
        "created_count",
        "updated_count",
        "error_count",
    )
