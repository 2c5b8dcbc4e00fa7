"""Forms of the contact pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html

from accounts.models import Account, User
from contacts.csv_files import MAX_UPLOAD_BYTES
from contacts.models import Contact, normalize_address
from contacts.selectors import DEFAULT_SORT, SORTS
from contacts.services import ContactDetails


class ContactSearchForm(forms.Form):
    """The list's search box and sort order; the export reads the same."""

    q = forms.CharField(required=False, max_length=200, label="Search")
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in SORTS], initial=DEFAULT_SORT
    )

    def search(self) -> tuple[str, str]:
        """The query and sort to use; a bad value means no filter."""
        if not self.is_valid():
            return "", DEFAULT_SORT
        return self.cleaned_data["q"], self.cleaned_data["sort"] or DEFAULT_SORT


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name()


class ContactForm(forms.ModelForm):
    """The contact's details; its addresses are the ``AddressFormSet``."""

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "company", "phone", "owner", "notes"]
        field_classes = {"owner": OwnerChoiceField}
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the account's active employees, plus the current owner even
        # if they have since been deactivated.
        owners = User.objects.filter(account=account, is_active=True)
        if self.instance.owner_id is not None:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, OwnerChoiceField)
        owner_field.queryset = owners.distinct()
        owner_field.empty_label = "Nobody"

    def details(self) -> ContactDetails:
        data = self.cleaned_data
        return ContactDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            company=data["company"],
            phone=data["phone"],
            notes=data["notes"],
            owner=data["owner"],
        )


class AddressForm(forms.Form):
    address = forms.EmailField(required=False, max_length=254, label="Email address")


class BaseAddressFormSet(forms.BaseFormSet):
    """A contact's addresses, one per row; an emptied row is removed.

    The primary address is chosen with one radio button per row, all named
    ``<prefix>-primary`` with the row's index as value.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "emails")
        super().__init__(*args, **kwargs)
        self.addresses: list[str] = []
        self.primary: str | None = None

    @property
    def primary_field_name(self) -> str:
        return f"{self.prefix}-primary"

    @property
    def primary_index(self) -> int:
        """The row whose radio button is on, as shown on the page."""
        if not self.is_bound:
            return 0
        try:
            return int(self.data.get(self.primary_field_name, ""))
        except ValueError:
            return -1

    def clean(self) -> None:
        if any(self.errors):
            return

        seen: set[str] = set()
        rows = []
        for index, form in enumerate(self.forms):
            address = form.cleaned_data.get("address", "").strip()
            if not address:
                continue
            if normalize_address(address) in seen:
                form.add_error("address", "This address is already in the list.")
                continue
            seen.add(normalize_address(address))
            rows.append((index, address))
        if not rows and not any(self.errors):
            raise forms.ValidationError("Add at least one email address.")
        if any(self.errors):
            return

        chosen = [address for index, address in rows if index == self.primary_index]
        if self.data.get(self.primary_field_name) is not None and not chosen:
            raise forms.ValidationError(
                "The primary address must be one of the filled-in rows."
            )
        self.addresses = [address for _, address in rows]
        self.primary = chosen[0] if chosen else self.addresses[0]

    def add_owners(self, owners: dict[str, Contact]) -> None:
        """Mark each row whose address another contact has, with a link."""
        for form in self.forms:
            address = form.cleaned_data.get("address", "") if form.is_bound else ""
            contact = owners.get(normalize_address(address)) if address else None
            if contact is not None:
                form.add_error(
                    "address",
                    format_html(
                        '{} already belongs to <a href="{}">{}</a>.',
                        address,
                        contact.get_absolute_url(),
                        contact,
                    ),
                )


AddressFormSet = forms.formset_factory(
    AddressForm,
    formset=BaseAddressFormSet,
    extra=2,
    max_num=20,
    validate_max=True,
)


def address_formset(
    data: Any = None, *, contact: Contact | None = None
) -> BaseAddressFormSet:
    initial = []
    if contact is not None:
        initial = [{"address": email.address} for email in contact.sorted_emails]
    formset = AddressFormSet(data, initial=initial)
    assert isinstance(formset, BaseAddressFormSet)
    return formset


class ContactDeleteForm(forms.Form):
    delete_email = forms.BooleanField(
        required=False,
        label="Also delete their email",
        help_text="Otherwise the mail exchanged with them stays in Conversations.",
    )


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"Up to {MAX_UPLOAD_BYTES // (1024 * 1024)} MB and 10,000 rows. Columns: "
            "first name, last name (or name), company, phone, notes and one or "
            'more email columns; several addresses in one cell are separated by ";".'
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                "split it into smaller files."
            )
        return upload
