"""Refusals and missing pages keep the layout and say what to do."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_a_refused_page_says_why_and_who_can_change_it(signed_in, admin_user) -> None:
    employee = EmployeeFactory(account=admin_user.account)

    response = signed_in(employee).get(reverse("contacts:list"))

    assert response.status_code == 403
    assert "Your Admin has not given you this permission." in response.text
    assert "Settings &gt; My Staff" in response.text
    assert 'class="sidebar"' in response.text


def test_a_missing_page_is_a_404_in_the_layout(signed_in, admin_user) -> None:
    response = signed_in(admin_user).get("/contacts/999999/")

    assert response.status_code == 404
    assert "This page doesn't exist" in response.text
    assert 'class="sidebar"' in response.text
