"""The discovery-schema check refuses answers without what RevStackr reads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mailsync.sandbox.gmail_schema import FETCHED_MESSAGE, assert_matches

STUB = {"id": "18c0ffee00000001", "threadId": "18c0ffee00000001"}


def test_an_empty_message_fails_the_check() -> None:
    with pytest.raises(AssertionError) as failed:
        assert_matches({}, "Message")

    assert "Message.id: required" in str(failed.value)
    assert "Message.threadId: required" in str(failed.value)


@pytest.mark.parametrize(
    ("value", "schema_name", "required", "problem"),
    [
        ({"emailAddress": "a@b.test"}, "Profile", (), "Profile.historyId"),
        ({"historyId": "7"}, "Profile", (), "Profile.emailAddress"),
        (
            {"messages": [{"id": "1"}], "resultSizeEstimate": 1},
            "ListMessagesResponse",
            (),
            "ListMessagesResponse.messages[0].threadId",
        ),
        ({"messages": [STUB]}, "ListMessagesResponse", (), "resultSizeEstimate"),
        ({"history": []}, "ListHistoryResponse", (), "ListHistoryResponse.historyId"),
        (
            {"historyId": "9", "history": [{"id": "8", "messagesAdded": [{}]}]},
            "ListHistoryResponse",
            (),
            "messagesAdded[0].message",
        ),
        (
            {"historyId": "9", "history": [{"id": "8", "labelsRemoved": [{}]}]},
            "ListHistoryResponse",
            (),
            "labelsRemoved[0].labelIds",
        ),
        ({"sendAs": [{"displayName": "A"}]}, "ListSendAsResponse", (), "sendAsEmail"),
        (STUB, "Message", FETCHED_MESSAGE["raw"], "Message.raw"),
        (STUB, "Message", FETCHED_MESSAGE["full"], "Message.payload"),
    ],
)
def test_an_answer_without_a_member_revstackr_reads_fails_the_check(
    value: Any, schema_name: str, required: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(AssertionError) as failed:
        assert_matches(value, schema_name, required=required)

    assert f"{problem}: required" in str(failed.value)


def test_a_stub_with_id_and_thread_id_passes_the_check() -> None:
    assert_matches(STUB, "Message")
    assert_matches({"resultSizeEstimate": 0}, "ListMessagesResponse")
