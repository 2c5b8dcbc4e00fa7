"""The opener policy that lets the consent pop-up report back to My Profile.

The browser journey shows the pop-up closing itself; these pin down the
headers it depends on, and that every other page keeps the strict policy.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db

POLICY = "Cross-Origin-Opener-Policy"


@pytest.fixture
def employee_client(client: Client, settings_employee: User) -> Client:
    client.force_login(settings_employee, backend="accounts.backends.EmployeeBackend")
    return client


def test_my_profile_may_keep_a_handle_on_the_popup_it_opens(
    employee_client: Client,
) -> None:
    answer = employee_client.get(reverse("profile"))

    assert answer.status_code == 200
    assert answer[POLICY] == "same-origin-allow-popups"


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_the_pages_the_popup_passes_through_keep_its_opener(
    employee_client: Client, provider: str
) -> None:
    start = employee_client.post(reverse(f"{provider}_login"), {"process": "connect"})
    callback = employee_client.get(reverse(f"{provider}_callback"))
    done = employee_client.get(reverse("mailsync:connect_done") + "?popup=1")

    assert start.status_code == 302
    assert [start[POLICY], callback[POLICY], done[POLICY]] == ["unsafe-none"] * 3


def test_other_pages_keep_the_strict_policy(employee_client: Client) -> None:
    assert employee_client.get(reverse("home"))[POLICY] == "same-origin"
    assert employee_client.get(reverse("account_login"))[POLICY] == "same-origin"
