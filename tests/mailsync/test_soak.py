"""A short soak: sync and send through both providers under injected faults.

About a tenth of the provider calls fail (429/503 with Retry-After, 500,
slow answers, dropped connections, expired tokens and cursors) while
contacts write and employees send from the CRM; after the faults stop the
sync must converge with nothing missing, nothing held twice and every CRM
email in Sent exactly once. ``benchmarks/soak.py --minutes N`` runs the
same soak for longer.
"""

from __future__ import annotations

import pytest

from benchmarks.soak import Soak
from mailsync.sandbox import Sandbox

pytestmark = pytest.mark.django_db

SOAK_SECONDS = 40


def test_sync_and_send_converge_after_a_fault_storm(sandbox: Sandbox) -> None:
    report = Soak(sandbox).run(SOAK_SECONDS, fault_rate=0.10)

    print("\n".join(report.lines()))
    assert report.failures == []
    assert report.delivered > 0
    assert report.sent_once == report.queued
