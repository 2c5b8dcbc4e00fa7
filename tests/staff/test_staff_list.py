import pytest
from django.urls import reverse

from tests.factories import EmployeeFactory
from tests.staff.factories import grant, invite

pytestmark = pytest.mark.django_db


def test_the_list_shows_each_employee_with_role_permissions_and_state(
    signed_in, admin_user
) -> None:
    grant(
        EmployeeFactory(
            account=admin_user.account, full_name="Cy Contacts", email="cy@acme.test"
        ),
        "accounts.access_contacts",
    )
    invite(account=admin_user.account, full_name="Ivy Invited")
    EmployeeFactory(account=admin_user.account, full_name="Dee Gone", is_active=False)

    response = signed_in(admin_user).get(reverse("staff:list"))

    rows = {row.employee.full_name: row for row in response.context["rows"]}
    assert rows["Cy Contacts"].state.value == "Active"
    assert rows["Cy Contacts"].permissions == {"accounts.access_contacts"}
    assert rows["Ivy Invited"].state.value == "Invited"
    assert rows["Dee Gone"].state.value == "Deactivated"
    assert len(rows[admin_user.full_name].permissions) == 3
    assert b"cy@acme.test" in response.content
    assert b"Admin" in response.content


def test_the_list_holds_no_one_from_another_account(signed_in, admin_user) -> None:
    stranger = EmployeeFactory(email="stranger@elsewhere.test")

    response = signed_in(admin_user).get(reverse("staff:list"))

    assert stranger not in [row.employee for row in response.context["rows"]]
    assert b"stranger@elsewhere.test" not in response.content


def test_an_expired_invitation_shows_on_the_list(signed_in, admin_user) -> None:
    from datetime import timedelta

    invite(account=admin_user.account, sent_ago=timedelta(days=8))

    response = signed_in(admin_user).get(reverse("staff:list"))

    assert b"Invitation expired" in response.content


def test_the_sidebar_offers_my_staff_to_admins_only(
    signed_in, admin_user, employee
) -> None:
    staff_url = reverse("staff:list").encode()
    mfa_url = reverse("mfa_index").encode()

    as_admin = signed_in(admin_user).get(reverse("mfa_index"))
    as_employee = signed_in(employee).get(reverse("mfa_index"))

    assert staff_url in as_admin.content
    assert staff_url not in as_employee.content
    assert mfa_url in as_admin.content and mfa_url in as_employee.content


@pytest.mark.parametrize(
    ("permission", "url_name"),
    [
        ("accounts.access_contacts", "contacts:list"),
        ("accounts.access_conversations", "conversations:inbox"),
        ("accounts.access_settings", "profile"),
    ],
)
def test_the_sidebar_offers_a_page_only_with_its_permission(
    signed_in, admin_user, permission, url_name
) -> None:
    without = EmployeeFactory(account=admin_user.account)
    with_it = grant(EmployeeFactory(account=admin_user.account), permission)
    link = f'href="{reverse(url_name)}"'.encode()

    # Two-factor sign-in is a page every employee may open.
    page_without = signed_in(without).get(reverse("mfa_index"))
    page_with = signed_in(with_it).get(reverse("mfa_index"))

    assert link not in page_without.content
    assert link in page_with.content
