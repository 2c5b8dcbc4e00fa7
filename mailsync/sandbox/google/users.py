"""Mailbox-wide methods: profile, labels, send-as, watch and history."""

from __future__ import annotations

from typing import Any

from mailsync.sandbox.google import errors
from mailsync.sandbox.google.api import GmailCall
from mailsync.sandbox.google.mailbox import create_label, history_entry, history_since
from mailsync.sandbox.google.pages import page_after, page_token
from mailsync.sandbox.google.state import SYSTEM_LABELS, HistoryRecord, Mailbox

HISTORY_TYPES = {
    "messageAdded": "messageAdded",
    "messageDeleted": "messageDeleted",
    "labelAdded": "labelAdded",
    "labelRemoved": "labelRemoved",
}
WATCH_SECONDS = 7 * 24 * 3600
MAX_PAGE = 500
DEFAULT_PAGE = 100


def get_profile(call: GmailCall) -> dict[str, Any]:
    mailbox = call.mailbox
    return {
        "emailAddress": mailbox.address,
        "messagesTotal": len(mailbox.messages),
        "threadsTotal": len({m.thread_id for m in mailbox.messages.values()}),
        "historyId": str(mailbox.history_id),
    }


def list_send_as(call: GmailCall) -> dict[str, Any]:
    mailbox = call.mailbox
    primary = {
        "sendAsEmail": mailbox.address,
        "displayName": mailbox.name,
        "replyToAddress": "",
        "signature": "",
        "isPrimary": True,
        "isDefault": True,
    }
    aliases = [
        {
            "sendAsEmail": alias,
            "displayName": mailbox.name,
            "replyToAddress": "",
            "signature": "",
            "isDefault": False,
            "treatAsAlias": True,
            "verificationStatus": "accepted",
        }
        for alias in mailbox.aliases
    ]
    return {"sendAs": [primary, *aliases]}


# Labels ----------------------------------------------------------------------


def list_labels(call: GmailCall) -> dict[str, Any]:
    return {
        "labels": [
            _label(call.mailbox, label_id) for label_id in _label_ids(call.mailbox)
        ]
    }


def get_label(call: GmailCall) -> dict[str, Any]:
    label_id = call.args["id"]
    if label_id not in _label_ids(call.mailbox):
        raise errors.not_found()
    messages = [m for m in call.mailbox.messages.values() if label_id in m.label_ids]
    unread = [m for m in messages if "UNREAD" in m.label_ids]
    return {
        **_label(call.mailbox, label_id),
        "messagesTotal": len(messages),
        "messagesUnread": len(unread),
        "threadsTotal": len({m.thread_id for m in messages}),
        "threadsUnread": len({m.thread_id for m in unread}),
    }


def add_label(call: GmailCall) -> dict[str, Any]:
    name = str(call.json().get("name", "")).strip()
    if not name:
        raise errors.bad_request("Invalid label name")
    taken = {label.name.lower() for label in call.mailbox.user_labels.values()}
    if name.lower() in taken or name.upper() in SYSTEM_LABELS:
        raise errors.GoogleApiError(409, "Label name exists or conflicts", "duplicate")
    return _label(call.mailbox, create_label(call.mailbox, name).id)


def _label_ids(mailbox: Mailbox) -> list[str]:
    return [*SYSTEM_LABELS, *mailbox.user_labels]


def _label(mailbox: Mailbox, label_id: str) -> dict[str, Any]:
    if label_id in SYSTEM_LABELS:
        return {"id": label_id, "name": label_id, "type": "system"}
    return {
        "id": label_id,
        "name": mailbox.user_labels[label_id].name,
        "type": "user",
        "messageListVisibility": "show",
        "labelListVisibility": "labelShow",
    }


# Push notifications ----------------------------------------------------------


def watch(call: GmailCall) -> dict[str, Any]:
    # TODO: nothing is published to the topic; an app that relies on push
    # instead of polling history.list would never hear of new mail.
    topic = str(call.json().get("topicName", ""))
    if not topic.startswith("projects/"):
        raise errors.bad_request("Invalid topicName", reason="invalidArgument")
    call.mailbox.watch_topic = topic
    call.mailbox.watch_expiration = int((call.now + WATCH_SECONDS) * 1000)
    return {
        "historyId": str(call.mailbox.history_id),
        "expiration": str(call.mailbox.watch_expiration),
    }


def stop(call: GmailCall) -> None:
    call.mailbox.watch_topic = None
    call.mailbox.watch_expiration = None


# History ---------------------------------------------------------------------


def list_history(call: GmailCall) -> dict[str, Any]:
    start_text = call.param("startHistoryId")
    if not start_text.isdigit():
        raise errors.bad_request(
            "Invalid startHistoryId" if start_text else "Missing startHistoryId"
        )
    kinds = {HISTORY_TYPES.get(name) for name in call.params("historyTypes")}
    if None in kinds:
        raise errors.bad_request("Invalid value at 'history_types'")
    label_id = call.param("labelId")

    records = [
        record
        for record in history_since(call.mailbox, int(start_text), now=call.now)
        if (not kinds or record.kind in kinds) and _touches_label(record, label_id)
    ]
    size = call.integer("maxResults", DEFAULT_PAGE, MAX_PAGE)
    page, next_key = page_after(
        [((record.id,), record) for record in records], call.param("pageToken"), size
    )

    answer: dict[str, Any] = {}
    if page:
        answer["history"] = [history_entry(record) for record in page]
    if next_key is not None:
        answer["nextPageToken"] = page_token(next_key)
    answer["historyId"] = str(call.mailbox.history_id)
    return answer


def _touches_label(record: HistoryRecord, label_id: str) -> bool:
    if not label_id:
        return True
    return (
        label_id in record.message.get("labelIds", []) or label_id in record.label_ids
    )
