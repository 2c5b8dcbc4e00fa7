import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import RequestFactory

from accounts.models import User
from accounts.tenancy import for_account, get_for_account_or_404
from tests.factories import AdminFactory, EmployeeFactory, SupportUserFactory

pytestmark = pytest.mark.django_db


def request_by(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_rows_of_another_account_are_not_listed() -> None:
    mine = AdminFactory()
    teammate = EmployeeFactory(account=mine.account)
    EmployeeFactory()  # someone in another account

    rows = for_account(User, request_by(mine))

    assert set(rows) == {mine, teammate}


def test_another_accounts_row_is_a_404_not_a_403() -> None:
    mine = AdminFactory()
    stranger = EmployeeFactory()

    with pytest.raises(Http404):
        get_for_account_or_404(User, request_by(mine), pk=stranger.pk)


def test_own_accounts_row_is_found() -> None:
    mine = AdminFactory()
    teammate = EmployeeFactory(account=mine.account)

    found = get_for_account_or_404(User, request_by(mine), pk=teammate.pk)

    assert found == teammate


def test_a_queryset_is_narrowed_too() -> None:
    mine = AdminFactory()
    EmployeeFactory(account=mine.account, role=User.Role.USER)
    EmployeeFactory(role=User.Role.USER)

    rows = for_account(User.objects.filter(role=User.Role.USER), request_by(mine))

    assert [row.account for row in rows] == [mine.account]


@pytest.mark.parametrize("user_kind", ["anonymous", "support"])
def test_people_without_an_account_see_no_rows(user_kind: str) -> None:
    EmployeeFactory()
    user = AnonymousUser() if user_kind == "anonymous" else SupportUserFactory()

    assert not for_account(User, request_by(user)).exists()


def test_a_malformed_id_is_a_404() -> None:
    with pytest.raises(Http404):
        get_for_account_or_404(User, request_by(AdminFactory()), pk="not-a-number")
