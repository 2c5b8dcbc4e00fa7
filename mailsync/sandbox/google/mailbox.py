"""How a Gmail mailbox changes: new mail, threads, labels and history.

Every change bumps the mailbox's history id and appends a history record,
so ``history.list`` can replay it. Callers hold the sandbox lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mailsync.sandbox.google.errors import bad_request, not_found
from mailsync.sandbox.google.mime import message_ids, normalise_subject, parse_mime
from mailsync.sandbox.google.state import (
    SYSTEM_LABELS,
    HistoryRecord,
    Mailbox,
    StoredMessage,
    UserLabel,
    new_message_id,
)

# Gmail keeps history "at least a week"; changes older than this are
# forgotten and a start id before them answers 404.
HISTORY_RETENTION_SECONDS = 7 * 24 * 3600


def add_message(
    mailbox: Mailbox,
    raw: bytes,
    *,
    label_ids: Iterable[str],
    now: float,
    internal_date: int | None = None,
    thread_id: str | None = None,
) -> StoredMessage:
    """Store a new message, thread it as Gmail does, and record the change."""
    labels = check_labels(mailbox, label_ids)
    mime = parse_mime(raw)

    if thread_id is not None:
        if not any(m.thread_id == thread_id for m in mailbox.messages.values()):
            raise not_found()
    else:
        thread_id = _thread_of_references(
            mailbox,
            mime.get("In-Reply-To", ""),
            mime.get("References", ""),
            mime.get("Subject", ""),
        )

    message_id = new_message_id(now)
    message = StoredMessage(
        id=message_id,
        thread_id=thread_id or message_id,
        raw=raw,
        label_ids=labels,
        internal_date=internal_date if internal_date is not None else int(now * 1000),
        history_id=0,
        _mime=mime,
    )
    mailbox.messages[message.id] = message
    _record(mailbox, "messageAdded", message, [], now)
    return message


def _thread_of_references(
    mailbox: Mailbox, in_reply_to: str, references: str, subject: str
) -> str | None:
    """The thread a reply joins: a referenced message's, if subjects match."""
    referenced = set(message_ids(str(in_reply_to)) + message_ids(str(references)))
    if not referenced:
        return None
    wanted_subject = normalise_subject(str(subject))

    # The newest referenced message decides, as a reply continues the latest
    # branch of a conversation.
    candidates = sorted(
        mailbox.messages.values(), key=lambda m: m.internal_date, reverse=True
    )
    for candidate in candidates:
        if candidate.header("Message-ID").strip() not in referenced:
            continue
        if normalise_subject(candidate.header("Subject")) == wanted_subject:
            return candidate.thread_id
    return None


def check_labels(mailbox: Mailbox, label_ids: Iterable[str]) -> list[str]:
    """The label ids, in order and once each; 400 for an unknown one."""
    labels: list[str] = []
    for label_id in label_ids:
        if label_id not in SYSTEM_LABELS and label_id not in mailbox.user_labels:
            raise bad_request(f"Invalid label: {label_id}")
        if label_id not in labels:
            labels.append(label_id)
    return labels


def modify_labels(
    mailbox: Mailbox,
    message: StoredMessage,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    now: float,
) -> StoredMessage:
    added = [
        label for label in check_labels(mailbox, add) if label not in message.label_ids
    ]
    removed = [
        label
        for label in check_labels(mailbox, remove)
        if label in message.label_ids and label not in added
    ]
    if added:
        message.label_ids.extend(added)
        _record(mailbox, "labelAdded", message, added, now)
    if removed:
        message.label_ids[:] = [
            label for label in message.label_ids if label not in removed
        ]
        _record(mailbox, "labelRemoved", message, removed, now)
    return message


def delete_message(mailbox: Mailbox, message: StoredMessage, *, now: float) -> None:
    del mailbox.messages[message.id]
    _record(mailbox, "messageDeleted", message, [], now)


def find_message(mailbox: Mailbox, message_id: str) -> StoredMessage:
    message = mailbox.messages.get(message_id)
    if message is None:
        raise not_found()
    return message


def thread_messages(mailbox: Mailbox, thread_id: str) -> list[StoredMessage]:
    messages = [m for m in mailbox.messages.values() if m.thread_id == thread_id]
    return sorted(messages, key=lambda m: (m.internal_date, m.id))


def create_label(mailbox: Mailbox, name: str) -> UserLabel:
    for label in mailbox.user_labels.values():
        if label.name.lower() == name.lower():
            return label
    label = UserLabel(id=f"Label_{len(mailbox.user_labels) + 1}", name=name)
    mailbox.user_labels[label.id] = label
    return label


def label_id_for(mailbox: Mailbox, name_or_id: str) -> str | None:
    """A label id from an id or a (case-insensitive) name."""
    if name_or_id in SYSTEM_LABELS or name_or_id in mailbox.user_labels:
        return name_or_id
    wanted = name_or_id.lower()
    if wanted.upper() in SYSTEM_LABELS:
        return wanted.upper()
    for label in mailbox.user_labels.values():
        if (
            label.name.lower() == wanted
            or label.name.lower().replace(" ", "-") == wanted
        ):
            return label.id
    return None


def expire_history(mailbox: Mailbox, *, before: float) -> None:
    """Forget changes made before ``before`` (sandbox clock seconds)."""
    kept = [record for record in mailbox.history if record.at >= before]
    forgotten = len(mailbox.history) - len(kept)
    mailbox.history = kept
    if kept:
        if forgotten:
            mailbox.oldest_valid_start = max(mailbox.oldest_valid_start, kept[0].id - 1)
    else:
        mailbox.oldest_valid_start = mailbox.history_id


def history_since(mailbox: Mailbox, start: int, *, now: float) -> list[HistoryRecord]:
    """The changes after ``start``; 404 when they are no longer known."""
    expire_history(mailbox, before=now - HISTORY_RETENTION_SECONDS)
    if start < mailbox.oldest_valid_start:
        raise not_found()
    return [record for record in mailbox.history if record.id > start]


def history_entry(record: HistoryRecord) -> dict[str, Any]:
    """A ``History`` resource of the discovery document."""
    entry: dict[str, Any] = {"id": str(record.id), "messages": [record.message]}
    if record.kind == "messageAdded":
        entry["messagesAdded"] = [{"message": record.message}]
    elif record.kind == "messageDeleted":
        entry["messagesDeleted"] = [{"message": record.message}]
    elif record.kind == "labelAdded":
        entry["labelsAdded"] = [
            {"message": record.message, "labelIds": record.label_ids}
        ]
    else:
        entry["labelsRemoved"] = [
            {"message": record.message, "labelIds": record.label_ids}
        ]
    return entry


def _record(
    mailbox: Mailbox,
    kind: str,
    message: StoredMessage,
    label_ids: list[str],
    now: float,
) -> None:
    mailbox.history_id += 1
    message.history_id = mailbox.history_id
    mailbox.history.append(
        HistoryRecord(
            id=mailbox.history_id,
            kind=kind,
            message=message.stub(),
            label_ids=list(label_ids),
            at=now,
        )
    )
