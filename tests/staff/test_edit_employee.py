import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from accounts.decorators import employee_permission_required
from accounts.models import EMPLOYEE_PERMISSIONS, User
from tests.factories import AdminFactory, EmployeeFactory
from tests.staff.factories import grant, permission_names

pytestmark = pytest.mark.django_db


def probe(request: HttpRequest, permission: str) -> HttpResponse:
    @employee_permission_required(permission)
    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("opened")

    return view(request)


# The real pages behind each permission belong to other apps; a probe guarded
# the way they are keeps this test about the switches alone.
urlpatterns = [
    path("probe/<str:permission>/", probe, name="probe"),
    path("", include("revstackr.urls")),
]


def edit(client: Client, employee: User, **fields: object):
    data = {"full_name": employee.full_name, "role": employee.role, **fields}
    return client.post(reverse("staff:edit", args=[employee.pk]), data)


def test_the_form_shows_the_switches_as_stored(signed_in, admin_user) -> None:
    ana = grant(EmployeeFactory(account=admin_user.account), "accounts.access_contacts")

    form = (
        signed_in(admin_user).get(reverse("staff:edit", args=[ana.pk])).context["form"]
    )

    assert form["contacts"].value() is True
    assert form["conversations"].value() is False
    assert form["settings"].value() is False


@pytest.mark.urls(__name__)
def test_switches_change_what_the_employee_can_open_on_their_next_request(
    admin_user,
) -> None:
    ana = grant(EmployeeFactory(account=admin_user.account), *EMPLOYEE_PERMISSIONS)
    admin, employee = Client(), Client()
    admin.force_login(admin_user)
    employee.force_login(ana)
    contacts = reverse("probe", args=["accounts.access_contacts"])
    conversations = reverse("probe", args=["accounts.access_conversations"])
    assert employee.get(contacts).status_code == 200

    edit(admin, ana, conversations="on", settings="on")

    assert employee.get(contacts).status_code == 403
    assert employee.get(conversations).status_code == 200

    edit(admin, ana, contacts="on")

    assert employee.get(contacts).status_code == 200
    assert employee.get(conversations).status_code == 403


def test_name_and_role_are_saved(signed_in, admin_user) -> None:
    ana = EmployeeFactory(account=admin_user.account)

    response = edit(signed_in(admin_user), ana, full_name="Ana María", role="admin")

    ana.refresh_from_db()
    assert response.status_code == 302
    assert ana.full_name == "Ana María"
    assert ana.is_account_admin


def test_an_admin_holds_all_three_and_keeps_them_when_demoted(
    signed_in, admin_user
) -> None:
    ana = EmployeeFactory(account=admin_user.account)
    client = signed_in(admin_user)

    edit(client, ana, role="admin")  # no switches sent
    edit(client, ana, role="user", contacts="on", conversations="on", settings="on")

    assert permission_names(ana, EMPLOYEE_PERMISSIONS) == set(EMPLOYEE_PERMISSIONS)


def test_the_last_admin_cannot_demote_themselves(signed_in, admin_user) -> None:
    response = edit(signed_in(admin_user), admin_user, role="user")

    assert response.status_code == 200
    assert "the only active Admin" in response.context["form"].errors["role"][0]
    assert b"field-invalid" in response.content
    assert User.objects.get(pk=admin_user.pk).is_account_admin


def test_nobody_can_demote_the_last_admin(admin_user) -> None:
    from staff.services import update_employee

    with pytest.raises(Exception, match="only active Admin"):
        update_employee(
            employee=admin_user, full_name="X", role="user", permissions=set()
        )

    assert User.objects.get(pk=admin_user.pk).is_account_admin
    assert User.objects.get(pk=admin_user.pk).full_name != "X"


def test_with_a_second_admin_an_admin_may_step_down(signed_in, admin_user) -> None:
    AdminFactory(account=admin_user.account)

    edit(signed_in(admin_user), admin_user, role="user")

    assert not User.objects.get(pk=admin_user.pk).is_account_admin


def test_a_blank_name_is_marked_and_nothing_changes(signed_in, admin_user) -> None:
    ana = EmployeeFactory(account=admin_user.account, full_name="Ana")

    response = edit(signed_in(admin_user), ana, full_name="   ", role="admin")

    assert "full_name" in response.context["form"].errors
    assert User.objects.get(pk=ana.pk).role == User.Role.USER


def test_an_employee_of_another_account_cannot_be_edited(signed_in, admin_user) -> None:
    stranger = EmployeeFactory(full_name="Stranger")

    response = edit(signed_in(admin_user), stranger, full_name="Renamed")

    assert response.status_code == 404
    assert User.objects.get(pk=stranger.pk).full_name == "Stranger"
