"""Check Gmail answers against the bundled discovery document's schemas.

Types are checked recursively (string, integer, boolean, array, object,
$ref); 64-bit integers travel as decimal strings and ``byte`` fields as
base64url, as in Google's JSON; members the schema does not define are
refused, so a typo in the stand-in shows up here.

The discovery document marks no member required, so ``REQUIRED`` lists,
per schema, the members RevStackr reads (mailsync/providers/gmail.py) that
Gmail sends in every answer of that schema, wherever the schema appears;
``assert_matches`` refuses an answer without them. Members present only in
some answers (``nextPageToken`` on a last page, ``labelIds`` of a message
without labels, ``raw`` outside ``format=raw``) are passed as ``required``
by the test that knows they must be there.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Iterable
from typing import Any

from googleapiclient.discovery_cache import get_static_doc

REQUIRED: dict[str, tuple[str, ...]] = {
    # getProfile: the address names the mailbox; the history id is where
    # incremental sync starts.
    "Profile": ("emailAddress", "historyId"),
    # settings.sendAs.list: the aliases a mailbox may send from.
    "ListSendAsResponse": ("sendAs",),
    "SendAs": ("sendAsEmail",),
    # Every message, down to the stubs of lists and history records.
    "Message": ("id", "threadId"),
    # messages.list: the estimate sizes the first import's progress.
    "ListMessagesResponse": ("resultSizeEstimate",),
    # history.list: the id the next incremental sync starts from.
    "ListHistoryResponse": ("historyId",),
    "HistoryMessageAdded": ("message",),
    "HistoryMessageDeleted": ("message",),
    "HistoryLabelAdded": ("message", "labelIds"),
    "HistoryLabelRemoved": ("message", "labelIds"),
}

# What messages.get adds to a stub in each format, beyond ``REQUIRED``.
FETCHED_MESSAGE: dict[str, tuple[str, ...]] = {
    "minimal": ("historyId", "internalDate"),
    "metadata": ("historyId", "internalDate", "payload"),
    "full": ("historyId", "internalDate", "payload"),
    "raw": ("historyId", "internalDate", "raw"),
}


@functools.cache
def schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = json.loads(get_static_doc("gmail", "v1"))["schemas"]
    return schemas


def assert_matches(
    value: Any, schema_name: str, *, required: Iterable[str] = ()
) -> None:
    """Fail unless ``value`` is a ``schema_name`` with the members RevStackr
    reads; ``required`` names more top-level members it must have."""
    problems = [
        f"{schema_name}.{name}: required"
        for name in required
        if isinstance(value, dict) and name not in value
    ]
    problems += _check(value, {"$ref": schema_name}, schema_name)
    assert not problems, "\n".join(problems)


def _check(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    reads: tuple[str, ...] = ()
    if "$ref" in schema:
        reads = REQUIRED.get(schema["$ref"], ())
        schema = schemas()[schema["$ref"]]
    kind = schema.get("type")
    fmt = schema.get("format")

    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        problems = []
        properties = schema.get("properties", {})
        for name, member in properties.items():
            if (member.get("required") or name in reads) and name not in value:
                problems.append(f"{path}.{name}: required")
        for name, item in value.items():
            member = properties.get(name, schema.get("additionalProperties"))
            if member is None:
                problems.append(f"{path}.{name}: not in the schema")
                continue
            problems += _check(item, member, f"{path}.{name}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array"]
        return [
            problem
            for index, item in enumerate(value)
            for problem in _check(item, schema["items"], f"{path}[{index}]")
        ]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        if fmt in ("int64", "uint64") and not value.lstrip("-").isdigit():
            return [f"{path}: expected a decimal string, got {value!r}"]
        if fmt == "byte" and not _is_base64url(value):
            return [f"{path}: expected base64url"]
        return []
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{path}: expected an integer, got {value!r}"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    return []


def _is_base64url(value: str) -> bool:
    try:
        base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return False
    return "+" not in value and "/" not in value
