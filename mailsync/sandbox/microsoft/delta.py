"""Per-folder delta queries on messages.

A round starts without a token (everything in the folder) or with a
``$deltatoken`` (what changed since the round that issued it). Its pages
are linked by ``$skiptoken``; the last page carries the ``@odata.deltaLink``
that starts the next round. Tokens are self-contained: they name the
mailbox, the folder, the folder's sync epoch and a position in the
mailbox's change sequence, and carry the round's ``$select`` and
``$filter`` as Graph's tokens do. Expiring a mailbox's sync state bumps
the epoch, so older tokens answer ``410 Gone``.

A page holds items whose last change falls inside the round's window;
an item changed again while the client pages comes in the next round, so
items can be replayed, as on Graph.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from werkzeug.wrappers import Response

from mailsync.sandbox.microsoft.api import Call
from mailsync.sandbox.microsoft.errors import GraphError, bad_request
from mailsync.sandbox.microsoft.odata import parse_filter, parse_select, shape
from mailsync.sandbox.microsoft.resources import (
    DEFAULT_MESSAGE_PROPERTIES,
    message_id,
    message_resource,
)
from mailsync.sandbox.microsoft.state import Folder

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


def carries_token(call: Call) -> bool:
    """Whether ``call`` continues a round or starts the next from a token."""
    return "$deltatoken" in call.args or "$skiptoken" in call.args


def delta(call: Call) -> Response:
    folder = call.folder()
    raw_token = call.args.get("$deltatoken") or call.args.get("$skiptoken")
    if raw_token is not None:
        if call.cursor_expired:
            raise _sync_state_not_found()
        cursor = _read_token(raw_token, call, folder)
        if "$deltatoken" in call.args:
            cursor = {**cursor, "cutoff": call.user.seq, "after": cursor["since"]}
    else:
        cursor = _first_round(call)
    return _page(call, folder, cursor)


def _first_round(call: Call) -> dict[str, Any]:
    if call.args.get("$orderby"):
        raise bad_request("The query option '$orderby' is not supported with delta.")
    where = parse_filter(call.args.get("$filter"))
    if where is not None and any(
        name.lower() != "receiveddatetime" for name in where.properties
    ):
        raise bad_request(
            "Delta queries on messages can filter on receivedDateTime only."
        )
    return {
        "since": 0,
        "cutoff": call.user.seq,
        "after": 0,
        "initial": True,
        "select": parse_select(call.args),
        "filter": call.args.get("$filter"),
    }


def _page(call: Call, folder: Folder, cursor: dict[str, Any]) -> Response:
    """Answer the next page of the round that ``cursor`` describes."""
    exchange = call.provider.exchange
    preferences = call.preferences
    select = cursor["select"]
    where = parse_filter(cursor["filter"])
    since, cutoff, after = cursor["since"], cursor["cutoff"], cursor["after"]

    entries: list[tuple[int, dict[str, Any]]] = []
    present = set()
    for message in exchange.messages_in(call.user, folder):
        present.add(message_id(message, preferences))
        if not since < message.seq <= cutoff:
            continue
        full = message_resource(message, preferences, select)
        if where is not None and not where(full):
            continue
        entries.append(
            (message.seq, shape(full, DEFAULT_MESSAGE_PROPERTIES, select, "message"))
        )
    if not cursor["initial"]:
        for removal in folder.removals:
            removed_id = (
                removal.immutable_id if preferences.immutable_ids else removal.rest_id
            )
            if since < removal.seq <= cutoff and removed_id not in present:
                entries.append(
                    (
                        removal.seq,
                        {
                            "@odata.type": "#microsoft.graph.message",
                            "id": removed_id,
                            "@removed": {"reason": removal.reason},
                        },
                    )
                )

    entries.sort(key=lambda entry: entry[0])
    waiting = [entry for entry in entries if entry[0] > after]
    page_size = min(preferences.max_page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    page = waiting[:page_size]

    body: dict[str, Any] = {
        "@odata.context": call.context("Collection(message)"),
        "value": [item for _, item in page],
    }
    base = call.url(f"/mailFolders/{folder.id}/messages/delta")
    if len(waiting) > page_size:
        next_cursor = {**cursor, "after": page[-1][0]}
        body["@odata.nextLink"] = (
            f"{base}?$skiptoken={_write_token(call, folder, next_cursor)}"
        )
    else:
        next_round = {**cursor, "since": cutoff, "after": cutoff, "initial": False}
        body["@odata.deltaLink"] = (
            f"{base}?$deltatoken={_write_token(call, folder, next_round)}"
        )
    return call.answer(body)


def _write_token(call: Call, folder: Folder, cursor: dict[str, Any]) -> str:
    payload = {"mailbox": call.user.id, "folder": folder.id, "epoch": folder.sync_epoch}
    payload.update(cursor)
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str, call: Call, folder: Folder) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as error:
        raise bad_request("The delta token is malformed.", code="BadRequest") from error
    if (
        not isinstance(payload, dict)
        or payload.get("mailbox") != call.user.id
        or payload.get("folder") != folder.id
        or payload.get("epoch") != folder.sync_epoch
    ):
        raise _sync_state_not_found()
    return payload


def _sync_state_not_found() -> GraphError:
    return GraphError(
        410,
        "SyncStateNotFound",
        "The sync state generation is not found. The delta token is expired or "
        "no longer valid: start a full synchronization without a token.",
    )
