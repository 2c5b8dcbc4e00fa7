"""A thread goes by its conversation's subject, not a reply's."""

from __future__ import annotations

import pytest

from conversations.services import conversation_subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Spring catalogue", "Spring catalogue"),
        ("RE: RE: Fwd: Prices", "Prices"),
        ("AW: Angebot", "Angebot"),
        ("Re[2]: Delivery", "Delivery"),
        ("Fwd:Prices", "Prices"),
        ("SV: Leverans", "Leverans"),
        ("Regarding your order", "Regarding your order"),
        ("Results: Q3", "Results: Q3"),
        ("[Project X] Re: status", "[Project X] Re: status"),
        ("Re:", "Re:"),
        ("", ""),
    ],
)
def test_reply_and_forward_prefixes_are_left_out(subject: str, expected: str) -> None:
    assert conversation_subject(subject) == expected
