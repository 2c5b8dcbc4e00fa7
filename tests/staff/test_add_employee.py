import smtplib
from collections.abc import Sequence

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse

from accounts.models import EMPLOYEE_PERMISSIONS, User
from staff.models import Invitation
from tests.factories import AdminFactory, EmployeeFactory
from tests.staff.factories import permission_names

pytestmark = pytest.mark.django_db


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPServerDisconnected("mail server went away")


def add(client: Client, **fields: object):
    data = {
        "full_name": "Ana Lopez",
        "email": "ana@acme.test",
        "role": "user",
        "conversations": "on",
        "contacts": "on",
        "settings": "on",
        **fields,
    }
    return client.post(reverse("staff:add"), data)


def test_the_form_starts_with_every_permission_on(signed_in, admin_user) -> None:
    form = signed_in(admin_user).get(reverse("staff:add")).context["form"]

    assert all(form[name].value() for name in ("conversations", "contacts", "settings"))
    assert form["role"].value() == User.Role.USER


def test_adding_an_employee_creates_them_in_the_admins_account_and_invites_them(
    signed_in, admin_user, mailoutbox
) -> None:
    response = add(signed_in(admin_user), email="  Ana@ACME.test ")

    ana = User.objects.get(email="ana@acme.test")
    assert response.status_code == 302
    assert ana.account == admin_user.account
    assert ana.role == User.Role.USER
    assert not ana.has_usable_password()
    assert permission_names(ana, EMPLOYEE_PERMISSIONS) == set(EMPLOYEE_PERMISSIONS)
    assert [message.to for message in mailoutbox] == [["ana@acme.test"]]
    assert "/settings/staff/invitations/" in mailoutbox[0].body


def test_switches_left_off_are_not_granted(signed_in, admin_user) -> None:
    add(signed_in(admin_user), conversations="", settings="")

    ana = User.objects.get(email="ana@acme.test")
    assert permission_names(ana, EMPLOYEE_PERMISSIONS) == {"accounts.access_contacts"}


def test_an_address_that_signs_in_anywhere_is_refused_without_naming_its_account(
    signed_in, admin_user, mailoutbox
) -> None:
    EmployeeFactory(email="ana@acme.test", account__name="Rival Corp")

    response = add(signed_in(admin_user), email="ANA@acme.test")

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already signs in to RevStackr" in errors["email"][0]
    assert b"Rival Corp" not in response.content
    assert b'value="Ana Lopez"' in response.content  # what was typed stays
    assert b"field-invalid" in response.content
    assert mailoutbox == []
    assert User.objects.filter(email="ana@acme.test").count() == 1


def test_a_malformed_address_is_marked_and_the_rest_kept(signed_in, admin_user) -> None:
    response = add(signed_in(admin_user), email="ana at acme", full_name="Ana Lopez")

    assert "email" in response.context["form"].errors
    assert b'value="ana at acme"' in response.content
    assert not User.objects.filter(full_name="Ana Lopez").exists()


def test_nothing_is_saved_when_the_invitation_cannot_be_sent(
    signed_in, admin_user, settings
) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    response = add(signed_in(admin_user))

    assert response.status_code == 200
    assert "could not be sent" in response.context["form"].non_field_errors()[0]
    assert not User.objects.filter(email="ana@acme.test").exists()
    assert not Invitation.objects.exists()


def test_an_admin_can_add_another_admin(signed_in, admin_user) -> None:
    add(signed_in(admin_user), role="admin")

    assert User.objects.get(email="ana@acme.test").is_account_admin


def test_the_employee_lands_in_the_admins_account_only(signed_in) -> None:
    admin = AdminFactory()
    AdminFactory()  # another account's Admin

    add(signed_in(admin))

    assert User.objects.get(email="ana@acme.test").account_id == admin.account_id
    assert len(mail.outbox) == 1
