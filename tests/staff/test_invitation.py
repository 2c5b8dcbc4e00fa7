import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from staff.models import Invitation
from tests.factories import PASSWORD, EmployeeFactory
from tests.staff.factories import invite

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase"


def link_in(message) -> str:
    match = re.search(
        r"http://testserver(/settings/staff/invitations/[^/\s]+/)", message.body
    )
    assert match, message.body
    return match.group(1)


def pages(response) -> list[str]:
    return [t.name for t in response.templates if t.name.endswith(".html")]


def set_password(client: Client, link: str, password: str = NEW_PASSWORD):
    return client.post(link, {"new_password1": password, "new_password2": password})


def test_an_invited_employee_sets_a_password_from_the_email_and_is_signed_in(
    signed_in, admin_user, mailoutbox
) -> None:
    signed_in(admin_user).post(
        reverse("staff:add"),
        {"full_name": "Ana Lopez", "email": "ana@acme.test", "role": "user"},
    )
    link = link_in(mailoutbox[0])
    visitor = Client()

    page = visitor.get(link)
    response = set_password(visitor, link)

    ana = User.objects.get(email="ana@acme.test")
    assert page.status_code == 200
    assert b"ana@acme.test" in page.content
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert visitor.get(reverse("home")).context["user"] == ana
    assert ana.check_password(NEW_PASSWORD)
    assert Client().login(email="ana@acme.test", password=NEW_PASSWORD)


def test_a_weak_password_is_refused_and_the_link_still_works(client: Client) -> None:
    _invitation, token = invite()
    link = reverse("staff:accept_invitation", args=[token])

    response = set_password(client, link, "123")

    assert response.status_code == 200
    assert response.context["form"].errors
    assert client.get(link).status_code == 200


def test_a_used_link_says_so_and_offers_sign_in_or_a_new_password_link(
    client: Client,
) -> None:
    invitation, token = invite()
    link = reverse("staff:accept_invitation", args=[token])
    set_password(Client(), link)

    response = client.get(link)
    second_try = set_password(client, link, "another passphrase 42")

    assert response.status_code == 410
    assert b"This invitation has been used" in response.content
    assert reverse("account_login").encode() in response.content
    assert reverse("account_reset_password").encode() in response.content
    assert second_try.status_code == 410
    assert invitation.employee.__class__.objects.get(
        pk=invitation.employee.pk
    ).check_password(NEW_PASSWORD)


def test_an_expired_link_says_so_and_offers_a_new_one(client: Client) -> None:
    invitation, token = invite(sent_ago=timedelta(days=7, minutes=1))
    link = reverse("staff:accept_invitation", args=[token])

    response = client.get(link)
    refused = set_password(client, link)

    assert response.status_code == 410
    assert b"This invitation has expired" in response.content
    assert reverse("staff:request_invitation").encode() in response.content
    assert not User.objects.get(pk=invitation.employee.pk).has_usable_password()
    assert refused.status_code == 410


def test_a_link_six_days_old_still_works(client: Client) -> None:
    _invitation, token = invite(sent_ago=timedelta(days=6))

    response = client.get(reverse("staff:accept_invitation", args=[token]))

    assert response.status_code == 200


def test_an_unknown_link_is_not_found_and_offers_a_new_one(client: Client) -> None:
    response = client.get(reverse("staff:accept_invitation", args=["made-up"]))

    assert response.status_code == 404
    assert b"not valid" in response.content
    assert reverse("staff:request_invitation").encode() in response.content


def test_resending_mails_a_new_link_and_retires_the_old_one(
    signed_in, admin_user, mailoutbox
) -> None:
    invitation, old_token = invite(account=admin_user.account)
    employee = invitation.employee

    response = signed_in(admin_user).post(
        reverse("staff:resend_invitation", args=[employee.pk])
    )

    assert response.status_code == 302
    assert [message.to for message in mailoutbox] == [[employee.email]]
    old = Client().get(reverse("staff:accept_invitation", args=[old_token]))
    assert old.status_code == 410
    assert Client().get(link_in(mailoutbox[0])).status_code == 200


def test_resending_to_someone_with_a_password_is_refused(
    signed_in, admin_user, employee, mailoutbox
) -> None:
    client = signed_in(admin_user)

    response = client.post(
        reverse("staff:resend_invitation", args=[employee.pk]), follow=True
    )

    assert b"already set a password" in response.content
    assert mailoutbox == []


def test_an_invited_employee_can_ask_for_a_new_link(client: Client, mailoutbox) -> None:
    invitation, _old_token = invite(email="ivy@acme.test", sent_ago=timedelta(days=10))

    response = client.post(
        reverse("staff:request_invitation"), {"email": "IVY@acme.test"}
    )

    assert response.status_code == 200
    assert b"Check your email" in response.content
    assert [message.to for message in mailoutbox] == [["ivy@acme.test"]]
    assert Client().get(link_in(mailoutbox[0])).status_code == 200
    assert Invitation.objects.filter(employee=invitation.employee).count() == 2


def test_asking_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client: Client, mailoutbox
) -> None:
    invite(email="ivy@acme.test")
    url = reverse("staff:request_invitation")

    unknown = client.post(url, {"email": "nobody@acme.test"})
    sent_for_unknown = len(mailoutbox)
    known = client.post(url, {"email": "ivy@acme.test"})

    assert sent_for_unknown == 0
    assert len(mailoutbox) == 1
    assert unknown.status_code == known.status_code == 200
    assert pages(unknown) == pages(known)


def test_someone_with_a_password_who_asks_is_reminded_to_sign_in(
    client: Client, mailoutbox
) -> None:
    EmployeeFactory(email="ana@acme.test", password=PASSWORD)

    client.post(reverse("staff:request_invitation"), {"email": "ana@acme.test"})

    assert len(mailoutbox) == 1
    assert reverse("account_reset_password") in mailoutbox[0].body
    assert "/invitations/" not in mailoutbox[0].body


def test_a_deactivated_employee_gets_nothing_and_their_link_stops_working(
    client: Client, mailoutbox
) -> None:
    _invitation, token = invite(email="ivy@acme.test", is_active=False)

    client.post(reverse("staff:request_invitation"), {"email": "ivy@acme.test"})
    response = client.get(reverse("staff:accept_invitation", args=[token]))

    assert mailoutbox == []
    assert response.status_code == 410
