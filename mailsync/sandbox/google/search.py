"""Gmail's search language (the ``q`` parameter), for list calls.

Supported: ``from: to: cc: bcc: subject: label: in: is: has:attachment
rfc822msgid: after: before: older_than: newer_than:``, bare words and
"quoted phrases", implicit AND, ``OR``, ``-`` (NOT), ``( )`` groups and
``{a b}`` (any of). An operator may take a group: ``from:(a OR b)``.

As Gmail documents, a date in ``after:``/``before:`` means midnight Pacific
time; epoch seconds are exact. ``to:`` matches To, Cc and Bcc, as Gmail's
does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from mailsync.sandbox.google.errors import bad_request
from mailsync.sandbox.google.mailbox import label_id_for
from mailsync.sandbox.google.mime import (
    addresses,
    decoded_header,
    has_attachment,
    message_ids,
    text_of,
)
from mailsync.sandbox.google.state import Mailbox, StoredMessage

GMAIL_TIMEZONE = ZoneInfo("America/Los_Angeles")

_TOKEN = re.compile(
    r'\s*(?:(?P<punct>[(){}])|(?P<quoted>"[^"]*")|(?P<word>[^\s(){}"]+"[^"]*"|[^\s(){}"]+))'
)
_DURATION = re.compile(r"^(\d+)([dmy])$")
_DURATION_SECONDS = {"d": 86400, "m": 30 * 86400, "y": 365 * 86400}

Predicate = Callable[[StoredMessage], bool]


@dataclass
class SearchContext:
    mailbox: Mailbox
    now: float


class Query:
    """A parsed ``q``; call ``matches`` per message."""

    def __init__(self, text: str, context: SearchContext) -> None:
        self.context = context
        self.mentions_spam_or_trash = False
        self._words = _tokenise(text)
        self._position = 0
        self._predicate = self._parse_all()

    def matches(self, message: StoredMessage) -> bool:
        return self._predicate(message)

    # Grammar: query := clause* ; clause := unary ("OR" unary)* ;
    # unary := "-" unary | "(" query ")" | "{" unary* "}" | term

    def _parse_all(self) -> Predicate:
        predicate = self._parse_sequence(closing=None)
        if self._position < len(self._words):
            raise bad_request(
                f"Invalid query: unexpected {self._words[self._position]!r}"
            )
        return predicate

    def _parse_sequence(self, closing: str | None) -> Predicate:
        clauses: list[Predicate] = []
        while self._peek() not in (None, closing):
            clauses.append(self._parse_clause())
        return _all_of(clauses)

    def _parse_clause(self) -> Predicate:
        options = [self._parse_unary()]
        while self._peek() == "OR":
            self._position += 1
            options.append(self._parse_unary())
        return _any_of(options) if len(options) > 1 else options[0]

    def _parse_unary(self, field: str | None = None) -> Predicate:
        word = self._next()
        if word.startswith("-"):
            if len(word) > 1:
                # "-from:x" negates the term glued to the minus sign.
                self._words.insert(self._position, word[1:])
            inner = self._parse_unary(field)
            return lambda message: not inner(message)
        if word == "(":
            return self._parse_group(")", field, any_of=False)
        if word == "{":
            return self._parse_group("}", field, any_of=True)
        if word in (")", "}", "OR"):
            raise bad_request(f"Invalid query: unexpected {word!r}")
        return self._parse_term(word, field)

    def _parse_group(
        self, closing: str, field: str | None, *, any_of: bool
    ) -> Predicate:
        parts: list[Predicate] = []
        while self._peek() != closing:
            if self._peek() is None:
                raise bad_request(f"Invalid query: missing {closing!r}")
            if field is None and not any_of:
                parts.append(self._parse_clause())
                continue
            option = self._parse_unary(field)
            while self._peek() == "OR":
                self._position += 1
                option = _any_of([option, self._parse_unary(field)])
            parts.append(option)
        self._position += 1
        return _any_of(parts) if any_of else _all_of(parts)

    def _parse_term(self, word: str, field: str | None) -> Predicate:
        if field is None and ":" in word and not word.startswith('"'):
            name, _, value = word.partition(":")
            name = name.lower()
            if name in _OPERATORS:
                if value == "" and self._peek() in ("(", "{"):
                    return self._parse_unary(name)
                return _OPERATORS[name](self, _unquote(value))
        if field is not None:
            return _OPERATORS[field](self, _unquote(word))
        return _words(_unquote(word))

    def _peek(self) -> str | None:
        if self._position < len(self._words):
            return self._words[self._position]
        return None

    def _next(self) -> str:
        word = self._peek()
        if word is None:
            raise bad_request("Invalid query: unexpected end")
        self._position += 1
        return word


def _tokenise(text: str) -> list[str]:
    words: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        word = match.group("punct") or match.group("quoted") or match.group("word")
        if word:
            words.append(word)
    if text[position:].strip():
        raise bad_request("Invalid query: unbalanced quotes")
    return words


def _unquote(value: str) -> str:
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1]
    return value


def _all_of(predicates: list[Predicate]) -> Predicate:
    return lambda message: all(predicate(message) for predicate in predicates)


def _any_of(predicates: list[Predicate]) -> Predicate:
    return lambda message: any(predicate(message) for predicate in predicates)


def _words(value: str) -> Predicate:
    wanted = value.lower()

    def matches(message: StoredMessage) -> bool:
        haystack = " ".join(
            [
                decoded_header(message.mime, "Subject"),
                decoded_header(message.mime, "From"),
                decoded_header(message.mime, "To"),
                decoded_header(message.mime, "Cc"),
                text_of(message.mime),
            ]
        ).lower()
        return wanted in haystack

    return matches


def _address_field(*headers: str) -> Callable[[Query, str], Predicate]:
    def build(query: Query, value: str) -> Predicate:
        wanted = value.lower()
        if wanted == "me":
            own = query.context.mailbox.addresses()
            return lambda message: bool(own & set(addresses(message.mime, *headers)))

        def matches(message: StoredMessage) -> bool:
            # Gmail matches the display name as well as the address.
            return any(wanted in message.searchable(h) for h in headers)

        return matches

    return build


def _subject(query: Query, value: str) -> Predicate:
    wanted = value.lower()
    return lambda message: wanted in message.searchable("Subject")


def _label(query: Query, value: str) -> Predicate:
    label_id = label_id_for(query.context.mailbox, value)
    if label_id in ("SPAM", "TRASH"):
        query.mentions_spam_or_trash = True
    return lambda message: label_id is not None and label_id in message.label_ids


def _in(query: Query, value: str) -> Predicate:
    if value.lower() == "anywhere":
        query.mentions_spam_or_trash = True
        return lambda message: True
    return _label(query, value)


def _is(query: Query, value: str) -> Predicate:
    flags = {"unread": "UNREAD", "starred": "STARRED", "important": "IMPORTANT"}
    wanted = value.lower()
    if wanted == "read":
        return lambda message: "UNREAD" not in message.label_ids
    if wanted not in flags:
        raise bad_request(f"Invalid query: is:{value}")
    return lambda message: flags[wanted] in message.label_ids


def _has(query: Query, value: str) -> Predicate:
    if value.lower() != "attachment":
        raise bad_request(f"Invalid query: has:{value}")
    return lambda message: has_attachment(message.mime)


def _rfc822msgid(query: Query, value: str) -> Predicate:
    wanted = value.strip().strip("<>").lower()

    def matches(message: StoredMessage) -> bool:
        ids = message_ids(message.header("Message-ID"))
        return any(found.strip("<>").lower() == wanted for found in ids)

    return matches


def _instant(value: str) -> float:
    """Epoch seconds of an after:/before: value."""
    if value.isdigit():
        return float(value)
    for pattern in ("%Y/%m/%d", "%Y-%m-%d", "%m/%d/%Y"):
        try:
            day = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return day.replace(tzinfo=GMAIL_TIMEZONE).timestamp()
    raise bad_request(f"Invalid query: bad date {value!r}")


def _after(query: Query, value: str) -> Predicate:
    since_ms = _instant(value) * 1000
    return lambda message: message.internal_date >= since_ms


def _before(query: Query, value: str) -> Predicate:
    until_ms = _instant(value) * 1000
    return lambda message: message.internal_date < until_ms


def _age_limit(query: Query, value: str) -> float:
    match = _DURATION.match(value.lower())
    if match is None:
        raise bad_request(f"Invalid query: bad period {value!r}")
    seconds = int(match.group(1)) * _DURATION_SECONDS[match.group(2)]
    return (query.context.now - seconds) * 1000


def _newer_than(query: Query, value: str) -> Predicate:
    limit = _age_limit(query, value)
    return lambda message: message.internal_date >= limit


def _older_than(query: Query, value: str) -> Predicate:
    limit = _age_limit(query, value)
    return lambda message: message.internal_date < limit


_OPERATORS: dict[str, Callable[[Query, str], Predicate]] = {
    "from": _address_field("From"),
    "to": _address_field("To", "Cc", "Bcc"),
    "cc": _address_field("Cc"),
    "bcc": _address_field("Bcc"),
    "subject": _subject,
    "label": _label,
    "in": _in,
    "is": _is,
    "has": _has,
    "rfc822msgid": _rfc822msgid,
    "after": _after,
    "before": _before,
    "newer_than": _newer_than,
    "older_than": _older_than,
}
