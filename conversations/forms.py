"""The composer, the Conversations filters and the sharing choice."""

from __future__ import annotations

import email.utils
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email

from conversations.selectors import InboxFilter
from conversations.services import MAX_ATTACHMENTS_BYTES, OutgoingFile
from mailsync.models import Mailbox
from mailsync.parsing import Address

MAX_RECIPIENTS = 100


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files, each checked as a FileField checks one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


def parse_addresses(text: str) -> list[Address]:
    """Read a comma- or semicolon-separated list of addresses.

    Raise ValidationError naming the first entry that is not an address, or
    for a line break anywhere (it would start a new mail header).
    """
    if any(mark in text for mark in ("\r", "\n", "\u2028", "\u2029", "\x85")):
        raise ValidationError("Addresses cannot contain line breaks.")
    people = []
    for entry in _split_entries(text):
        name, address = email.utils.parseaddr(entry)
        address = address.strip()
        bracketed = entry.rpartition("<")[2].partition(">")[0].strip()
        try:
            validate_email(address)
            if "<" in entry and bracketed != address:
                raise ValidationError("The address is not the one in <>.")
        except ValidationError:
            raise ValidationError(f"“{entry}” is not an email address.") from None
        if not address.partition("@")[0].isascii():
            raise ValidationError(
                f"“{address}”: addresses with accented letters before the @ "
                "cannot be written to yet."
            )
        people.append(Address(address.lower(), name.strip()))
    if len(people) > MAX_RECIPIENTS:
        raise ValidationError(f"Write to at most {MAX_RECIPIENTS} people at once.")
    return people


def _split_entries(text: str) -> list[str]:
    """Split at commas and semicolons outside quotes and angle brackets."""
    entries: list[str] = []
    current: list[str] = []
    quoted = bracketed = False
    for char in text:
        if char == '"' and not bracketed:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracketed = True
        elif char == ">" and not quoted:
            bracketed = False
        elif char in ",;" and not quoted and not bracketed:
            entries.append("".join(current))
            current = []
            continue
        current.append(char)
    entries.append("".join(current))
    return [entry.strip() for entry in entries if entry.strip()]


class ComposeForm(forms.Form):
    """An email to write: a new thread to a contact, or a reply.

    ``contact_addresses`` (primary first) become checkboxes of the To line;
    other recipients are typed.
    """

    to_contact = forms.MultipleChoiceField(
        label="To", required=False, widget=forms.CheckboxSelectMultiple
    )
    to = forms.CharField(
        label="To",
        required=False,
        max_length=5000,
        help_text="Addresses separated by commas.",
    )
    cc = forms.CharField(
        label="Cc",
        required=False,
        max_length=5000,
        help_text="Addresses separated by commas.",
    )
    subject = forms.CharField(max_length=998, required=False)
    body = forms.CharField(
        label="Message",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
    )
    attachments = MultipleFileField(required=False, help_text="Up to 25 MB in all.")

    def __init__(
        self,
        *args: Any,
        contact_addresses: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        to_contact = self.fields["to_contact"]
        if contact_addresses and isinstance(to_contact, forms.ChoiceField):
            to_contact.choices = [(a, a) for a in contact_addresses]
            self.fields["to"].label = "Also to"
        else:
            del self.fields["to_contact"]

    def clean_to(self) -> list[Address]:
        return parse_addresses(self.cleaned_data["to"])

    def clean_cc(self) -> list[Address]:
        return parse_addresses(self.cleaned_data["cc"])

    def clean_subject(self) -> str:
        subject: str = self.cleaned_data["subject"]
        # splitlines also breaks on the Unicode line separators that some
        # mail software turns into real line breaks.
        if "\r" in subject or "\n" in subject or len(subject.splitlines()) > 1:
            raise ValidationError("The subject cannot contain line breaks.")
        return subject

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["attachments"]
        if sum(f.size or 0 for f in files) > MAX_ATTACHMENTS_BYTES:
            raise ValidationError("Attachments may add up to 25 MB at most.")
        return files

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not (self.to_addresses() or cleaned.get("cc")):
            self.add_error("to", "Add at least one recipient.")
        return cleaned

    def to_addresses(self) -> list[Address]:
        chosen = [Address(a.lower()) for a in self.cleaned_data.get("to_contact", [])]
        typed = self.cleaned_data.get("to") or []
        return list({a.address: a for a in [*chosen, *typed]}.values())

    def outgoing_files(self) -> list[OutgoingFile]:
        return [
            OutgoingFile(
                filename=upload.name or "attachment",
                content_type=upload.content_type or "application/octet-stream",
                content=upload.read(),
            )
            for upload in self.cleaned_data["attachments"]
        ]

    @property
    def files_need_selecting_again(self) -> bool:
        """Files chosen with a refused form are not kept by the browser."""
        return bool(self.is_bound and self.errors and self.files.getlist("attachments"))


def signed_body(signature: str) -> str:
    """The body a new email starts with: the employee's signature below."""
    return f"\n\n-- \n{signature}" if signature.strip() else ""


class InboxFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    mine = forms.ChoiceField(
        label="Show", required=False, choices=[("", "Team"), ("1", "Mine")]
    )
    unread = forms.BooleanField(label="Unread only", required=False)

    def filters(self) -> InboxFilter:
        if not self.is_valid():
            return InboxFilter()
        data = self.cleaned_data
        return InboxFilter(
            mine=data["mine"] == "1", unread=data["unread"], query=data["q"]
        )


class SharingForm(forms.ModelForm):
    class Meta:
        model = Mailbox
        fields = ["sharing"]
        labels = {"sharing": "What teammates see of your email"}
        help_texts = {
            "sharing": "You always see all of your own email. Admins see only "
            "what you share, like everybody else."
        }
        widgets = {"sharing": forms.RadioSelect}
