"""Partial responses: the ``fields`` parameter of every Google API.

``fields=messages(id,threadId),nextPageToken`` keeps just those members;
``a/b`` reaches into ``a``; ``*`` keeps everything at its level. Lists are
filtered element by element.
"""

from __future__ import annotations

from typing import Any

from mailsync.sandbox.google.errors import bad_request

Selection = dict[str, "Selection | None"]


def select_fields(value: Any, fields: str) -> Any:
    selection, position = _parse(fields.replace(" ", ""), 0)
    if position != len(fields.replace(" ", "")):
        raise bad_request(f"Invalid field selection {fields}")
    return _apply(value, selection)


def _parse(text: str, position: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while position < len(text) and text[position] != ")":
        end = position
        while end < len(text) and text[end] not in ",()":
            end += 1
        path = text[position:end].split("/")
        if not all(path):
            raise bad_request(f"Invalid field selection {text}")
        position = end
        inner: Selection | None = None
        if position < len(text) and text[position] == "(":
            inner, position = _parse(text, position + 1)
            if position >= len(text) or text[position] != ")":
                raise bad_request(f"Invalid field selection {text}")
            position += 1
        _merge(selection, path, inner)
        if position < len(text) and text[position] == ",":
            position += 1
    return selection, position


def _merge(selection: Selection, path: list[str], inner: Selection | None) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        existing = selection.get(head)
        if head in selection and existing is None:
            return
        if inner is None or existing is None:
            selection[head] = inner
        else:
            existing.update(inner)
        return
    child = selection.get(head)
    if head in selection and child is None:
        return
    if child is None:
        child = selection[head] = {}
    _merge(child, rest, inner)


def _apply(value: Any, selection: Selection | None) -> Any:
    if selection is None:
        return value
    if isinstance(value, list):
        return [_apply(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in selection:
        return {key: _apply(item, selection["*"]) for key, item in value.items()}
    return {
        key: _apply(value[key], inner)
        for key, inner in selection.items()
        if key in value
    }
