import pytest
from django.core.management import call_command
from django_q.models import Schedule

from mailsync.schedules import PERIODIC_TASKS

pytestmark = pytest.mark.django_db


def test_schedules_are_created_once_however_often_the_command_runs() -> None:
    call_command("setup_schedules")
    call_command("setup_schedules")

    assert Schedule.objects.count() == len(PERIODIC_TASKS)
    refresh = Schedule.objects.get(func="mailsync.tasks.refresh_tokens")
    assert refresh.schedule_type == Schedule.MINUTES
    assert refresh.repeats == -1
