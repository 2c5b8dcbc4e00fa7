"""The part of OData that Graph's mail endpoints accept.

``$select``, ``$filter`` (comparisons joined by ``and``/``or``/``not``),
``$orderby``, ``$top``/``$skip`` paging, and the ``Prefer`` header. Filters
and sort keys are evaluated on a resource's full JSON representation, so a
property path such as ``from/emailAddress/address`` works as on Graph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from mailsync.sandbox.microsoft.errors import GraphError, bad_request

Predicate = Callable[[dict[str, Any]], bool]


# Prefer ----------------------------------------------------------------------


@dataclass
class Preferences:
    """What a ``Prefer`` header asked for, and what was honoured."""

    max_page_size: int | None = None
    immutable_ids: bool = False
    body_content_type: str | None = None
    applied: list[str] = field(default_factory=list)


def parse_prefer(values: Iterable[str]) -> Preferences:
    preferences = Preferences()
    for value in values:
        for token in _split_outside_quotes(value, ","):
            name, _, raw = token.partition("=")
            name = name.strip().lower()
            argument = raw.strip().strip('"')
            if name == "odata.maxpagesize" and argument.isdigit():
                preferences.max_page_size = max(1, int(argument))
                preferences.applied.append(f"odata.maxpagesize={argument}")
            elif name == "idtype" and argument.lower() == "immutableid":
                preferences.immutable_ids = True
                preferences.applied.append('IdType="ImmutableId"')
            elif name == "outlook.body-content-type" and argument.lower() in (
                "text",
                "html",
            ):
                preferences.body_content_type = argument.lower()
                preferences.applied.append(f'outlook.body-content-type="{argument}"')
    return preferences


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts = re.findall(rf'(?:[^{separator}"]|"[^"]*")+', text)
    return [part.strip() for part in parts if part.strip()]


# $select ---------------------------------------------------------------------


def parse_select(args: MultiDict[str, str]) -> list[str] | None:
    raw = args.get("$select")
    if not raw:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]


def shape(
    full: dict[str, Any],
    default_properties: Iterable[str],
    select: list[str] | None,
    type_name: str,
) -> dict[str, Any]:
    """Keep the properties ``$select`` names, or the type's defaults.

    Graph matches property names without regard to case, always returns
    ``id`` and control information (``@odata.*``), and refuses a name the
    type does not have.
    """
    by_lower = {key.lower(): key for key in full}
    if select is None:
        wanted = list(default_properties)
    else:
        wanted = []
        for name in select:
            key = by_lower.get(name.lower())
            if key is None:
                raise bad_request(
                    f"Could not find a property named '{name}' on type "
                    f"'microsoft.graph.{type_name}'.",
                    code="RequestBroker--ParseUri",
                )
            wanted.append(key)
    shaped = {key: value for key, value in full.items() if key.startswith("@odata")}
    if "id" in full:
        shaped["id"] = full["id"]
    for key in wanted:
        shaped[key] = full[key]
    return shaped


# Paging ----------------------------------------------------------------------


def parse_int(args: MultiDict[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise bad_request(f"Invalid value '{raw}' for query option '{name}'.")
    return int(raw)


def next_link(url: str, args: MultiDict[str, str], skip: int) -> str:
    """Return ``url`` with the request's query and a new ``$skip``."""
    pairs = [(key, value) for key, value in args.items(multi=True) if key != "$skip"]
    pairs.append(("$skip", str(skip)))
    return f"{url}?{urlencode(pairs)}"


# $orderby --------------------------------------------------------------------


def parse_orderby(raw: str | None) -> list[tuple[str, bool]]:
    """Return ``(property path, descending)`` pairs."""
    if not raw:
        return []
    keys = []
    for clause in raw.split(","):
        words = clause.split()
        if not words or len(words) > 2:
            raise bad_request(f"Invalid $orderby expression '{raw}'.")
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise bad_request(f"Invalid $orderby direction '{words[1]}'.")
        keys.append((words[0], direction == "desc"))
    return keys


def sort_resources(
    resources: list[dict[str, Any]], keys: list[tuple[str, bool]]
) -> list[dict[str, Any]]:
    # Sorting by the last key first, stably, sorts by all of them.
    ordered = list(resources)
    for path, descending in reversed(keys):
        ordered.sort(key=_by_property(path), reverse=descending)
    return ordered


def _by_property(path: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    def key(resource: dict[str, Any]) -> tuple[int, Any]:
        return _sort_key(resolve(resource, path))

    return key


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first; mixed types never meet because each key is one
    # property of one resource type.
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (1, value)


def check_filter_and_orderby(
    filter_properties: list[str], orderby: list[tuple[str, bool]]
) -> None:
    """Refuse what Exchange refuses when ``$filter`` and ``$orderby`` meet.

    The sort properties must also be filtered on, first and in the same
    order; otherwise Graph answers ``InefficientFilter``.
    """
    if not filter_properties or not orderby:
        return
    sort_properties = [path.lower() for path, _ in orderby]
    seen = list(dict.fromkeys(name.lower() for name in filter_properties))
    if seen[: len(sort_properties)] != sort_properties:
        raise bad_request(
            "The restriction or sort order is too complex for this operation.",
            code="InefficientFilter",
        )


# $filter ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}
          (?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<paren>[()])
      | (?P<word>[A-Za-z_@][\w/.@]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {
    "eq": lambda left, right: left == right,
    "ne": lambda left, right: left != right,
    "gt": lambda left, right: left is not None and left > right,
    "ge": lambda left, right: left is not None and left >= right,
    "lt": lambda left, right: left is not None and left < right,
    "le": lambda left, right: left is not None and left <= right,
}


@dataclass
class Filter:
    predicate: Predicate
    properties: list[str]

    def __call__(self, resource: dict[str, Any]) -> bool:
        return self.predicate(resource)


def parse_filter(raw: str | None) -> Filter | None:
    if not raw:
        return None
    parser = _FilterParser(_tokenize(raw), raw)
    predicate = parser.parse_or()
    if parser.position != len(parser.tokens):
        raise parser.error()
    return Filter(predicate, parser.properties)


def _tokenize(raw: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(raw):
        if raw[position:].strip() == "":
            break
        match = _TOKEN.match(raw, position)
        if match is None or match.lastgroup is None:
            raise bad_request(
                f"Invalid filter clause: syntax error near '{raw[position:]}'."
            )
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


class _FilterParser:
    """Recursive descent over ``or`` > ``and`` > ``not`` > comparison."""

    def __init__(self, tokens: list[tuple[str, str]], raw: str) -> None:
        self.tokens = tokens
        self.raw = raw
        self.position = 0
        self.properties: list[str] = []

    def error(self) -> GraphError:
        return bad_request(f"Invalid filter clause: '{self.raw}'.", code="BadRequest")

    def peek_word(self) -> str | None:
        if self.position < len(self.tokens) and self.tokens[self.position][0] == "word":
            return self.tokens[self.position][1].lower()
        return None

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise self.error()
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse_or(self) -> Predicate:
        terms = [self.parse_and()]
        while self.peek_word() == "or":
            self.position += 1
            terms.append(self.parse_and())
        if len(terms) == 1:
            return terms[0]
        return lambda item: any(term(item) for term in terms)

    def parse_and(self) -> Predicate:
        terms = [self.parse_not()]
        while self.peek_word() == "and":
            self.position += 1
            terms.append(self.parse_not())
        if len(terms) == 1:
            return terms[0]
        return lambda item: all(term(item) for term in terms)

    def parse_not(self) -> Predicate:
        if self.peek_word() == "not":
            self.position += 1
            inner = self.parse_not()
            return lambda item: not inner(item)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        kind, text = self.take()
        if kind == "paren" and text == "(":
            inner = self.parse_or()
            if self.take() != ("paren", ")"):
                raise self.error()
            return inner
        if kind != "word":
            raise self.error()
        operator_kind, operator = self.take()
        comparison = _COMPARISONS.get(operator.lower())
        if operator_kind != "word" or comparison is None:
            raise self.error()
        literal = self.parse_literal()
        self.properties.append(text)
        path = text

        def compare(item: dict[str, Any]) -> bool:
            value = resolve(item, path)
            if isinstance(literal, datetime):
                if value is None:
                    return False
                value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            elif isinstance(value, str) and isinstance(literal, str):
                value, right = value.lower(), literal.lower()
                return bool(comparison(value, right))
            return bool(comparison(value, literal))

        return compare

    def parse_literal(self) -> Any:
        kind, text = self.take()
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "datetime":
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise self.error()
            return moment
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "word" and text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text.lower()]
        raise self.error()


def resolve(resource: dict[str, Any], path: str) -> Any:
    """Follow a ``a/b/c`` property path, matching names without case."""
    value: Any = resource
    for name in path.split("/"):
        if not isinstance(value, dict):
            return None
        lowered = name.lower()
        value = next(
            (item for key, item in value.items() if key.lower() == lowered), None
        )
    return value
