"""Forms of the My Staff pages."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User, normalize_login_email
from accounts.services import login_is_taken
from staff.services import LOGIN_TAKEN_MESSAGE

# Form field, the permission it switches, its label and what it opens.
PERMISSION_TOGGLES = (
    (
        "conversations",
        "accounts.access_conversations",
        "Conversations",
        "Read the email threads with contacts and send email.",
    ),
    (
        "contacts",
        "accounts.access_contacts",
        "Contacts",
        "Find, add and edit contacts.",
    ),
    (
        "settings",
        "accounts.access_settings",
        "Settings",
        "Open their own profile and connect their mailbox.",
    ),
)


class EmployeeForm(forms.Form):
    """Name, role and the three permission switches."""

    full_name = forms.CharField(label="Name", max_length=200)
    role = forms.ChoiceField(
        choices=User.Role.choices,
        initial=User.Role.USER,
        help_text="Admins manage My Staff and always have every permission.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, _permission, label, help_text in PERMISSION_TOGGLES:
            self.fields[name] = forms.BooleanField(
                label=label, help_text=help_text, required=False, initial=True
            )

    def clean_full_name(self) -> str:
        full_name = self.cleaned_data["full_name"].strip()
        if not full_name:
            raise forms.ValidationError("Type the employee's name.")
        return full_name

    @property
    def permissions(self) -> set[str]:
        """The permissions switched on, once the form is valid."""
        return {
            permission
            for name, permission, _label, _help in PERMISSION_TOGGLES
            if self.cleaned_data.get(name)
        }

    @classmethod
    def initial_for(cls, *, employee: User, permissions: frozenset[str]) -> dict:
        initial: dict[str, Any] = {
            "full_name": employee.full_name,
            "role": employee.role,
        }
        for name, permission, _label, _help in PERMISSION_TOGGLES:
            initial[name] = permission in permissions
        return initial


class AddEmployeeForm(EmployeeForm):
    email = forms.EmailField(
        label="Business email",
        max_length=254,
        help_text="The invitation goes here, and it becomes their sign-in.",
    )

    field_order = ["full_name", "email", "role"]

    def clean_email(self) -> str:
        email = normalize_login_email(self.cleaned_data["email"])
        if login_is_taken(email):
            raise forms.ValidationError(LOGIN_TAKEN_MESSAGE)
        return email


class RequestInvitationForm(forms.Form):
    email = forms.EmailField(label="Your work email", max_length=254)
