"""Reading and changing messages and threads: the ``messages.*`` and
``threads.*`` methods other than those that add mail (see ``sending``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mailsync.sandbox.google import errors
from mailsync.sandbox.google.api import GmailCall
from mailsync.sandbox.google.mailbox import (
    delete_message,
    find_message,
    modify_labels,
    thread_messages,
)
from mailsync.sandbox.google.mime import (
    b64url_encode,
    find_part,
    metadata_payload,
    parse_attachment_id,
    payload_tree,
    snippet_of,
)
from mailsync.sandbox.google.pages import page_after, page_token
from mailsync.sandbox.google.search import Query, SearchContext
from mailsync.sandbox.google.state import Mailbox, StoredMessage

MESSAGE_FORMATS = ("minimal", "full", "raw", "metadata")
THREAD_FORMATS = ("minimal", "full", "metadata")
MAX_PAGE = 500
DEFAULT_PAGE = 100


def message_resource(
    message: StoredMessage, fmt: str = "full", metadata_headers: Iterable[str] = ()
) -> dict[str, Any]:
    """A ``Message`` of the discovery document in the given format."""
    resource: dict[str, Any] = {"id": message.id, "threadId": message.thread_id}
    # Google leaves empty lists out of its JSON.
    if message.label_ids:
        resource["labelIds"] = list(message.label_ids)
    resource.update(
        snippet=snippet_of(message.mime),
        sizeEstimate=len(message.raw),
        historyId=str(message.history_id),
        internalDate=str(message.internal_date),
    )
    if fmt == "raw":
        resource["raw"] = b64url_encode(message.raw)
    elif fmt == "metadata":
        resource["payload"] = metadata_payload(message.mime, list(metadata_headers))
    elif fmt == "full":
        resource["payload"] = payload_tree(message.id, message.mime)
    return resource


def label_stub(message: StoredMessage) -> dict[str, Any]:
    stub = {"id": message.id, "threadId": message.thread_id}
    return {**stub, "labelIds": list(message.label_ids)} if message.label_ids else stub


def _format(call: GmailCall, allowed: tuple[str, ...]) -> str:
    fmt = call.param("format", "full").lower()
    if fmt not in allowed:
        raise errors.bad_request(f"Invalid value at 'format' ({fmt})")
    if call.metadata_only and fmt in ("full", "raw"):
        raise errors.forbidden(f"Metadata scope doesn't allow format {fmt.upper()}")
    return fmt


# Listing ---------------------------------------------------------------------


def matching_messages(call: GmailCall) -> list[StoredMessage]:
    """Messages that pass ``q``, ``labelIds`` and ``includeSpamTrash``,
    newest first."""
    q = call.param("q").strip()
    if q and call.metadata_only:
        raise errors.forbidden("Metadata scope does not support 'q' parameter")
    query = Query(q, SearchContext(call.mailbox, call.now)) if q else None
    label_ids = call.params("labelIds")
    hide_spam_trash = not (
        call.flag("includeSpamTrash")
        or (query is not None and query.mentions_spam_or_trash)
        or {"SPAM", "TRASH"} & set(label_ids)
    )

    def wanted(message: StoredMessage) -> bool:
        if hide_spam_trash and {"SPAM", "TRASH"} & set(message.label_ids):
            return False
        if not all(label in message.label_ids for label in label_ids):
            return False
        return query is None or query.matches(message)

    found = [message for message in call.mailbox.messages.values() if wanted(message)]
    return sorted(found, key=_newest_first)


def _newest_first(message: StoredMessage) -> tuple[int, int]:
    return (-message.internal_date, -_id_number(message.id))


def _id_number(gmail_id: str) -> int:
    try:
        return int(gmail_id, 16)
    except ValueError:
        return 0


def list_messages(call: GmailCall) -> dict[str, Any]:
    found = matching_messages(call)
    size = call.integer("maxResults", DEFAULT_PAGE, MAX_PAGE)
    keyed = [(_newest_first(message), message) for message in found]
    page, next_key = page_after(keyed, call.param("pageToken"), size)

    answer: dict[str, Any] = {}
    if page:
        answer["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
    if next_key is not None:
        answer["nextPageToken"] = page_token(next_key)
    answer["resultSizeEstimate"] = len(found)
    return answer


def list_threads(call: GmailCall) -> dict[str, Any]:
    latest: dict[str, StoredMessage] = {}
    for message in matching_messages(call):
        latest.setdefault(message.thread_id, message)
    keyed = sorted(
        (
            ((-message.internal_date, -_id_number(message.thread_id)), message)
            for message in latest.values()
        ),
        key=lambda pair: pair[0],
    )
    size = call.integer("maxResults", DEFAULT_PAGE, MAX_PAGE)
    page, next_key = page_after(keyed, call.param("pageToken"), size)

    answer: dict[str, Any] = {}
    if page:
        answer["threads"] = [
            {
                "id": message.thread_id,
                "snippet": snippet_of(message.mime),
                "historyId": str(_thread_history_id(call.mailbox, message.thread_id)),
            }
            for message in page
        ]
    if next_key is not None:
        answer["nextPageToken"] = page_token(next_key)
    answer["resultSizeEstimate"] = len(keyed)
    return answer


def _thread_history_id(mailbox: Mailbox, thread_id: str) -> int:
    return max(m.history_id for m in thread_messages(mailbox, thread_id))


# Reading ---------------------------------------------------------------------


def get_message(call: GmailCall) -> dict[str, Any]:
    fmt = _format(call, MESSAGE_FORMATS)
    message = find_message(call.mailbox, call.args["id"])
    return message_resource(message, fmt, call.params("metadataHeaders"))


def get_attachment(call: GmailCall) -> dict[str, Any]:
    message = find_message(call.mailbox, call.args["message_id"])
    located = parse_attachment_id(call.args["id"])
    if located is None or located[0] != message.id:
        raise errors.bad_request("Invalid attachment token")
    part = find_part(message.mime, located[1])
    if part is None:
        raise errors.not_found()
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    return {
        "attachmentId": call.args["id"],
        "size": len(data),
        "data": b64url_encode(data),
    }


def get_thread(call: GmailCall) -> dict[str, Any]:
    fmt = _format(call, THREAD_FORMATS)
    messages = thread_messages(call.mailbox, call.args["id"])
    if not messages:
        raise errors.not_found()
    headers = call.params("metadataHeaders")
    return {
        "id": call.args["id"],
        "historyId": str(max(m.history_id for m in messages)),
        "messages": [message_resource(m, fmt, headers) for m in messages],
    }


# Changing --------------------------------------------------------------------


def modify_message(call: GmailCall) -> dict[str, Any]:
    message = find_message(call.mailbox, call.args["id"])
    body = call.json()
    modify_labels(
        call.mailbox,
        message,
        add=body.get("addLabelIds", []),
        remove=body.get("removeLabelIds", []),
        now=call.now,
    )
    return label_stub(message)


def batch_modify(call: GmailCall) -> None:
    body = call.json()
    messages = [
        find_message(call.mailbox, message_id) for message_id in body.get("ids", [])
    ]
    for message in messages:
        modify_labels(
            call.mailbox,
            message,
            add=body.get("addLabelIds", []),
            remove=body.get("removeLabelIds", []),
            now=call.now,
        )


def trash_message(call: GmailCall) -> dict[str, Any]:
    message = find_message(call.mailbox, call.args["id"])
    modify_labels(call.mailbox, message, add=["TRASH"], now=call.now)
    return label_stub(message)


def untrash_message(call: GmailCall) -> dict[str, Any]:
    message = find_message(call.mailbox, call.args["id"])
    modify_labels(call.mailbox, message, remove=["TRASH"], now=call.now)
    return label_stub(message)


def remove_message(call: GmailCall) -> None:
    message = find_message(call.mailbox, call.args["id"])
    delete_message(call.mailbox, message, now=call.now)


def _thread_change(
    change: Callable[[Mailbox, StoredMessage], object],
) -> Callable[[GmailCall], dict[str, Any]]:
    def handler(call: GmailCall) -> dict[str, Any]:
        messages = thread_messages(call.mailbox, call.args["id"])
        if not messages:
            raise errors.not_found()
        for message in messages:
            change(call.mailbox, message)
        return {"id": call.args["id"], "messages": [label_stub(m) for m in messages]}

    return handler


def modify_thread(call: GmailCall) -> dict[str, Any]:
    body = call.json()
    return _thread_change(
        lambda mailbox, message: modify_labels(
            mailbox,
            message,
            add=body.get("addLabelIds", []),
            remove=body.get("removeLabelIds", []),
            now=call.now,
        )
    )(call)


def trash_thread(call: GmailCall) -> dict[str, Any]:
    return _thread_change(
        lambda mailbox, message: modify_labels(
            mailbox, message, add=["TRASH"], now=call.now
        )
    )(call)


def untrash_thread(call: GmailCall) -> dict[str, Any]:
    return _thread_change(
        lambda mailbox, message: modify_labels(
            mailbox, message, remove=["TRASH"], now=call.now
        )
    )(call)
