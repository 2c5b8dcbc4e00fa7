"""Page tokens that survive changes between pages.

A token names the sort key of the last item handed out, so mail that
arrives between two pages neither repeats nor hides an item, as with
Gmail's own opaque tokens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TypeVar

from mailsync.sandbox.google import errors
from mailsync.sandbox.google.mime import b64url_decode, b64url_encode

Item = TypeVar("Item")
Key = tuple[int, ...]


def page_token(key: Key) -> str:
    return b64url_encode(json.dumps(list(key)).encode()).rstrip("=")


def page_after(
    items: Sequence[tuple[Key, Item]], token: str, size: int
) -> tuple[list[Item], Key | None]:
    """The page after ``token`` of items sorted by key, and the key to
    continue from (None on the last page)."""
    remaining = list(items)
    if token:
        last = _decode(token)
        remaining = [(key, item) for key, item in remaining if key > last]
    page = remaining[:size]
    next_key = page[-1][0] if len(remaining) > size else None
    return [item for _, item in page], next_key


def _decode(token: str) -> Key:
    try:
        key = json.loads(b64url_decode(token))
        return tuple(int(part) for part in key)
    except (ValueError, TypeError) as error:
        raise errors.bad_request("Invalid pageToken") from error
