"""Provider-neutral parsed email: what the sync hands to conversations.

Both providers give the full RFC 822 source of a message (Gmail
``format=raw``, Graph ``/$value``), so one parser serves both.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import email.utils
import io
import mimetypes
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors, headerregistry
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from typing import TypeVar


@dataclass(frozen=True)
class Address:
    address: str  # lower-cased
    name: str = ""


@dataclass(frozen=True)
class AttachmentInfo:
    filename: str
    content_type: str
    size: int
    # Where the part sits in the MIME tree ("2.1"), so its content can be
    # fetched again from the provider when someone downloads it.
    part_path: str
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str  # "<...>" as in the header, or "" when missing
    in_reply_to: str
    references: list[str]
    subject: str
    sent_at: datetime | None
    sender: Address | None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    text_body: str = ""
    html_body: str = ""
    attachments: list[AttachmentInfo] = field(default_factory=list)
    size: int = 0
    # What could not be parsed, for the sync log; the rest is still kept.
    problems: list[str] = field(default_factory=list)

    @property
    def participants(self) -> set[str]:
        people = [self.sender, *self.to, *self.cc, *self.bcc]
        return {person.address for person in people if person and person.address}


# Bodies larger than this are cut: nobody reads 2 MB of text in a CRM
# timeline, and the database row stays a sane size.
MAX_BODY_CHARS = 2_000_000

# A subject is shown on one line; anything longer is junk or an attack.
MAX_SUBJECT_CHARS = 2_000

# Real mail nests four or five levels; deeper trees are generated to exhaust
# the stack, so parts below this depth are not read.
MAX_MIME_DEPTH = 40

MAX_FILENAME_CHARS = 255

# One name and address; anything longer is not a person.
MAX_ADDRESS_ITEM_CHARS = 1_000

# Charset labels that say nothing about the bytes, so they are guessed
# without noting a problem.
_UNDECLARED_CHARSETS = frozenset(
    {"", "unknown", "unknown-8bit", "x-unknown", "x-user-defined", "default", "8bit"}
)

# Labels that mail clients use for a charset Python knows under a wider
# name: decoding with the superset reads what Windows and browsers wrote.
_CHARSET_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_2",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "windows-874": "cp874",
}

# Codecs Python accepts as text encodings that no mail charset label should
# ever select.
_REFUSED_CODECS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode"}
)

_BASE64_DEFECTS = (
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64LengthDefect,
)

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_MSG_ID = re.compile(r"<([^<>\s]+)>")
_BARE_MSG_ID = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")
_ADDRESS = re.compile(
    r'^(?:"[^"\r\n]+"|[^@\s<>()\[\],;:"\\]+)@(?:\[[^\]\s]+\]|[^@\s<>()\[\],;:"\\]+)$'
)
_PART_PATH = re.compile(r"^[1-9][0-9]*(?:\.[1-9][0-9]*)*$")
# Bidirectional overrides let "gpj.exe" display as "exe.jpg".
_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")

_T = TypeVar("_T")


def parse_message(raw: bytes) -> ParsedMessage:
    """Read the RFC 822 source of a message into a ParsedMessage.

    Never raises: whatever cannot be read is named in ``problems`` and the
    rest is kept.
    """
    # Tolerate callers that hand over text or a memoryview.
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw = bytes(raw)
    problems: list[str] = []

    root = _parse_source(raw, problems)

    message_id = _guarded(
        problems, "Message-ID", lambda: _message_id(root, problems), ""
    )
    in_reply_to = _guarded(
        problems, "In-Reply-To", lambda: _in_reply_to(root, problems), ""
    )
    references: list[str] = _guarded(
        problems, "References", lambda: _references(root), []
    )
    subject = _guarded(problems, "Subject", lambda: _subject(root, problems), "")
    sent_at = _guarded(problems, "Date", lambda: _sent_at(root, problems), None)

    def read_addresses(name: str) -> list[Address]:
        return _guarded(problems, name, lambda: _addresses(root, name, problems), [])

    senders = read_addresses("From")
    if not senders:
        problems.append("no sender address")
    to, cc, bcc = read_addresses("To"), read_addresses("Cc"), read_addresses("Bcc")
    reply_to = read_addresses("Reply-To")

    bodies = _Bodies()
    _guarded(
        problems, "MIME structure", lambda: _walk(root, "", 0, bodies, problems), None
    )
    text_body = _join_body("text", bodies.text, problems)
    html_body = _join_body("HTML", bodies.html, problems)

    return ParsedMessage(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        sent_at=sent_at,
        sender=senders[0] if senders else None,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        text_body=text_body,
        html_body=html_body,
        attachments=bodies.attachments,
        size=len(raw),
        problems=list(dict.fromkeys(problems)),
    )


def extract_part(raw: bytes, part_path: str) -> tuple[bytes, str, str]:
    """Return the content, content type and filename of one MIME part.

    ``part_path`` is the dotted path ParsedMessage attachments carry. Raise
    KeyError when no part with content sits at that path.
    """
    if not _PART_PATH.match(part_path):
        raise KeyError(part_path)
    problems: list[str] = []
    root = _parse_source(bytes(raw), problems)

    part = root
    steps = [int(step) for step in part_path.split(".")]
    if not _is_container(root):
        # A single-part message is its own part "1", as in IMAP.
        if steps != [1]:
            raise KeyError(part_path)
    else:
        for step in steps:
            children = _children(part) if _is_container(part) else []
            if step > len(children):
                raise KeyError(part_path)
            part = children[step - 1]
    if _is_container(part):
        raise KeyError(part_path)

    filename = _declared_filename(part, part_path, problems) or _fallback_filename(
        part, problems
    )
    content = _part_content(part, part_path, problems)
    return content, part.get_content_type(), filename


def build_message(
    *,
    sender: Address,
    to: Sequence[Address],
    cc: Sequence[Address] = (),
    bcc: Sequence[Address] = (),
    subject: str,
    text_body: str,
    html_body: str | None = None,
    message_id: str,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    attachments: Sequence[tuple[str, str, bytes]] = (),
    date: datetime,
    extra_headers: Mapping[str, str] | None = None,
    include_bcc: bool = False,
) -> bytes:
    """Build the RFC 822 source of a message RevStackr sends.

    Bcc is written into the source only with ``include_bcc``: Gmail's API
    reads recipients from the source and removes Bcc before delivery, while
    a provider that sends the source as it is would show it to everyone.
    Raise ValueError for a header value that holds a
    line break (header injection) or for anything else that cannot be sent.
    """
    extra_headers = dict(extra_headers or {})
    _check_outbound_headers(
        sender=sender,
        recipients=[*to, *cc, *bcc],
        subject=subject,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        extra_headers=extra_headers,
    )
    if not (to or cc or bcc):
        raise ValueError("a message needs at least one recipient")
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be timezone-aware")

    # IDs and the subject are stored already folded: the modern folder
    # turns long message IDs into encoded words, which breaks threading.
    message = EmailMessage(policy=_OUTBOUND_POLICY)
    message["From"] = _outbound_address(sender)
    if to:
        message["To"] = [_outbound_address(person) for person in to]
    if cc:
        message["Cc"] = [_outbound_address(person) for person in cc]
    if bcc and include_bcc:
        message["Bcc"] = [_outbound_address(person) for person in bcc]
    message.set_raw("Subject", _encode_subject(subject))
    message["Date"] = email.utils.format_datetime(date)
    message.set_raw("Message-ID", message_id)
    if in_reply_to:
        message.set_raw("In-Reply-To", in_reply_to)
    if references:
        message.set_raw("References", "\n ".join(references))
    for name, value in extra_headers.items():
        message[name] = value

    message.set_content(text_body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    for filename, content_type, content in attachments:
        _attach(message, filename, content_type, content)

    # Subparts are built as whole messages and each gets a MIME-Version of
    # its own; only the top of the message should carry one.
    containers: list[MIMEPart] = [message]
    while containers:
        for part in containers.pop().iter_parts():
            del part["MIME-Version"]
            containers.append(part)
    return message.as_bytes()


# 7bit: bodies go out as quoted-printable or base64, so no relay on the way
# can mangle 8-bit text.
_OUTBOUND_POLICY = email.policy.SMTP.clone(refold_source="none", cte_type="7bit")

# Headers build_message writes itself; letting extra_headers set them would
# produce duplicates or break the MIME structure.
_RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
    }
)


@dataclass
class _Bodies:
    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[AttachmentInfo] = field(default_factory=list)


def _guarded(
    problems: list[str], what: str, read: Callable[[], _T], fallback: _T
) -> _T:
    # One unreadable header must not cost the rest of the message.
    try:
        return read()
    except Exception as error:
        problems.append(f"could not read {what} ({type(error).__name__})")
        return fallback


def _parse_source(raw: bytes, problems: list[str]) -> Message:
    # compat32 keeps header values as raw text and never raises on reading
    # them; decoding is done here, with fallbacks the stdlib lacks.
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        problems.append("MIME structure nested too deeply; only headers read")
    except Exception as error:
        problems.append(f"could not parse MIME structure ({type(error).__name__})")

    try:
        headers = BytesParser(policy=email.policy.compat32).parsebytes(
            raw, headersonly=True
        )
    except Exception:
        problems.append("could not parse headers")
        return Message(policy=email.policy.compat32)

    # The undecoded MIME source is no use as a body.
    del headers["Content-Type"]
    del headers["Content-Transfer-Encoding"]
    headers.set_payload("")
    return headers


def _raw_headers(part: Message, name: str) -> list[str]:
    wanted = name.lower()
    return [str(value) for key, value in part.raw_items() if key.lower() == wanted]


def _first_header(part: Message, name: str) -> str | None:
    values = _raw_headers(part, name)
    return values[0] if values else None


def _header_text(value: str, problems: list[str], where: str) -> str:
    """Turn a header value as stored by the parser into one line of text."""
    # 8-bit bytes survive parsing as surrogate escapes; RFC 6532 says they
    # are UTF-8, older clients sent their local charset instead.
    data = value.encode("utf-8", "surrogateescape")
    text = _decode_bytes(data, None, problems, where)

    text = _FOLD.sub("", text)
    text = _decode_words(text, problems, where)
    return _single_line(text)


def _single_line(text: str) -> str:
    text = _CONTROL.sub(lambda match: " " if match.group() in "\t\r\n" else "", text)
    return _SPACES.sub(" ", text).strip()


def _decode_words(text: str, problems: list[str], where: str) -> str:
    """Decode RFC 2047 encoded words, in any charset, broken ones kept."""
    pieces: list[str] = []
    run_charset: str | None = None
    run = bytearray()
    end = 0

    def flush() -> None:
        nonlocal run_charset
        if run_charset is not None:
            pieces.append(_decode_bytes(bytes(run), run_charset, problems, where))
        run_charset = None
        run.clear()

    for match in _ENCODED_WORD.finditer(text):
        between = text[end : match.start()]
        # Whitespace between two encoded words is not part of the text
        # (RFC 2047 section 6.2).
        if between and not (run_charset is not None and between.isspace()):
            flush()
            pieces.append(between)
        end = match.end()

        charset = match.group(1).split("*")[0].lower()
        try:
            data = _decode_word_payload(match.group(2), match.group(3))
        except (binascii.Error, ValueError):
            problems.append(f"broken encoded word in {where}")
            flush()
            pieces.append(match.group())
            continue

        # Adjacent words in one charset are decoded together: some clients
        # split a multi-byte character across two words.
        if run_charset is not None and charset != run_charset:
            flush()
        run_charset = charset
        run.extend(data)

    flush()
    pieces.append(text[end:])
    return "".join(pieces)


def _decode_word_payload(encoding: str, payload: str) -> bytes:
    if encoding in "qQ":
        return binascii.a2b_qp(payload.encode("utf-8", "surrogateescape"), header=True)

    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
    if len(cleaned) % 4 == 1:
        # A lone trailing sextet carries no whole byte.
        cleaned = cleaned[:-1]
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))


def _codec_for(charset: str | None, problems: list[str], where: str) -> str | None:
    label = (charset or "").strip().strip("\"'").lower()
    if label in _UNDECLARED_CHARSETS:
        return None

    label = _CHARSET_SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        name = ""
    if not name or name in _REFUSED_CODECS:
        problems.append(f"unknown charset {_label_for_log(label)} in {where}")
        return None
    return name


def _label_for_log(label: str) -> str:
    return repr(re.sub(r"[^A-Za-z0-9._:+-]", "", label)[:40])


def _decode_bytes(
    data: bytes, charset: str | None, problems: list[str], where: str
) -> str:
    """Decode text bytes, falling back when the declared charset is wrong."""
    codec = _codec_for(charset, problems, where) if charset is not None else None
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            problems.append(
                f"text in {where} does not match charset {_label_for_log(codec)}"
            )

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass

    # Mostly valid UTF-8 with a stray byte reads better as UTF-8 than as
    # windows-1252 mojibake; bytes that never form UTF-8 are a legacy charset.
    lenient = data.decode("utf-8", "replace")
    replaced = lenient.count("\ufffd")
    readable = len(lenient) - len(lenient.encode("ascii", "ignore")) - replaced
    if readable > replaced:
        return lenient
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _message_id(root: Message, problems: list[str]) -> str:
    value = _first_header(root, "Message-ID")
    if value is None:
        problems.append("no Message-ID header")
        return ""

    found = _msg_ids(value)
    if not found:
        problems.append("unreadable Message-ID header")
        return ""
    return found[0]


def _in_reply_to(root: Message, problems: list[str]) -> str:
    value = _first_header(root, "In-Reply-To")
    if value is None:
        return ""

    found = _msg_ids(value)
    if not found:
        problems.append("unreadable In-Reply-To header")
        return ""
    return found[0]


def _references(root: Message) -> list[str]:
    found: list[str] = []
    for value in _raw_headers(root, "References"):
        found.extend(_msg_ids(value))
    return list(dict.fromkeys(found))


def _msg_ids(value: str) -> list[str]:
    """Find msg-ids in a header, tolerating whatever sits between them."""
    text = _CONTROL.sub(" ", _FOLD.sub("", value)).strip()
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    found = [f"<{match}>" for match in _MSG_ID.findall(text)]
    if not found and _BARE_MSG_ID.match(text):
        # Some clients leave out the angle brackets.
        found = [f"<{text}>"]
    return [msg_id for msg_id in found if len(msg_id) <= 998]


def _subject(root: Message, problems: list[str]) -> str:
    value = _first_header(root, "Subject")
    if value is None:
        return ""

    subject = _header_text(value, problems, "Subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        problems.append(f"subject truncated to {MAX_SUBJECT_CHARS} characters")
        subject = subject[:MAX_SUBJECT_CHARS]
    return subject


def _sent_at(root: Message, problems: list[str]) -> datetime | None:
    value = _first_header(root, "Date")
    if value is None:
        problems.append("no Date header")
        return None

    text = _single_line(_FOLD.sub("", value))
    try:
        sent_at = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        # A few clients and gateways write ISO 8601 instead of RFC 2822.
        try:
            sent_at = datetime.fromisoformat(text)
        except ValueError:
            problems.append("unreadable Date header")
            return None

    # A date without a zone ("-0000" or none at all) is taken as UTC.
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    try:
        return sent_at.astimezone(UTC)
    except OverflowError:
        problems.append("unreadable Date header")
        return None


def _addresses(root: Message, name: str, problems: list[str]) -> list[Address]:
    found: dict[str, Address] = {}
    for value in _raw_headers(root, name):
        text = value.encode("utf-8", "surrogateescape")
        decoded = _FOLD.sub("", _decode_bytes(text, None, problems, name))
        for display_name, addr_spec in _split_addresses(decoded):
            address = _single_line(addr_spec).lower()
            if not address and not display_name.strip():
                continue
            if not _ADDRESS.match(address) or len(address) > 320:
                problems.append(f"malformed address in {name} header")
                continue
            if address not in found:
                person_name = _single_line(_decode_words(display_name, problems, name))
                found[address] = Address(address=address, name=person_name)
    return list(found.values())


def _split_addresses(value: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for item in _address_items(value):
        if not item.strip():
            continue
        if len(item) > MAX_ADDRESS_ITEM_CHARS:
            found.append(("", item[:MAX_ADDRESS_ITEM_CHARS]))
            continue

        # The modern parser understands comments, quoting and encoded words;
        # the older one is the fallback for input that makes it raise.
        try:
            header = email.policy.default.header_factory("to", item)
            found.extend(
                (person.display_name, person.addr_spec) for person in header.addresses
            )
        except Exception:
            try:
                found.extend(email.utils.getaddresses([item]))
            except Exception:
                # Deeply nested comments exhaust the stack of both parsers.
                found.append(("", item))
    return found


def _address_items(value: str) -> list[str]:
    """Split an address list at its top-level commas, dropping group names.

    The stdlib parsers take quadratic time, or recurse, on long hostile
    lists, so each is only ever given one short item.
    """
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = in_angle = False
    comment_depth = 0

    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and (quoted or comment_depth):
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif comment_depth:
            comment_depth += {"(": 1, ")": -1}.get(char, 0)
        elif char == '"':
            quoted = True
        elif char == "(":
            comment_depth = 1
        elif char in "<>":
            in_angle = char == "<"
        elif char in ",;" and not in_angle:
            items.append("".join(current))
            current = []
            continue
        elif char == ":" and not in_angle:
            # What came before is a group's name (RFC 5322 section 3.4).
            current = []
            continue
        current.append(char)

    items.append("".join(current))
    return items


def _is_container(part: Message) -> bool:
    # message/rfc822 parts also carry a list payload, but an attached email
    # is one attachment, not more of the tree.
    return part.is_multipart() and part.get_content_maintype() == "multipart"


def _children(part: Message) -> list[Message]:
    # Asking a leaf for its payload decodes it, which can raise.
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)]


def _child_path(path: str, index: int) -> str:
    return f"{path}.{index}" if path else str(index)


def _walk(
    part: Message, path: str, depth: int, bodies: _Bodies, problems: list[str]
) -> None:
    if depth > MAX_MIME_DEPTH:
        problems.append("MIME structure nested too deeply; inner parts skipped")
        return

    if not _is_container(part):
        leaf_path = path or "1"
        _guarded(
            problems,
            f"part {leaf_path}",
            lambda: _read_leaf(part, leaf_path, bodies, problems),
            None,
        )
        return

    children = _children(part)
    if part.get_content_subtype() != "alternative":
        for index, child in enumerate(children, start=1):
            _walk(child, _child_path(path, index), depth + 1, bodies, problems)
        return

    # Alternatives are ordered plainest first (RFC 2046 section 5.1.4), so
    # the last branch that has a kind of body gives it.
    text: list[str] = []
    html: list[str] = []
    for index, child in enumerate(children, start=1):
        branch = _Bodies()
        _walk(child, _child_path(path, index), depth + 1, branch, problems)
        bodies.attachments.extend(branch.attachments)
        text = branch.text or text
        html = branch.html or html
    bodies.text.extend(text)
    bodies.html.extend(html)


def _read_leaf(part: Message, path: str, bodies: _Bodies, problems: list[str]) -> None:
    content_type = part.get_content_type()
    if part.get_content_maintype() == "multipart":
        problems.append(f"multipart part {path} has no parts; read as text")
        content_type = "text/plain"

    filename = _declared_filename(part, path, problems)
    is_body = (
        content_type in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and not filename
    )
    if not is_body:
        bodies.attachments.append(_attachment(part, path, filename, problems))
        return

    content = _part_content(part, path, problems)
    charset = _param(part, "Content-Type", "charset", problems, f"part {path}")
    if isinstance(charset, tuple):
        charset = charset[2]
    text = _decode_bytes(content, charset or "", problems, f"part {path}")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        # PostgreSQL cannot store NUL in text.
        problems.append(f"NUL characters removed from part {path}")
        text = text.replace("\x00", "")
    if content_type == "text/plain":
        bodies.text.append(text)
    else:
        bodies.html.append(text)


def _join_body(kind: str, pieces: list[str], problems: list[str]) -> str:
    # Separate inline text parts (a mailing list footer, say) follow the
    # body they were added to.
    body = "".join(
        piece if piece.endswith("\n") or index == len(pieces) - 1 else piece + "\n"
        for index, piece in enumerate(pieces)
    )
    if len(body) > MAX_BODY_CHARS:
        problems.append(f"{kind} body truncated to {MAX_BODY_CHARS} characters")
        body = body[:MAX_BODY_CHARS]
    return body


def _attachment(
    part: Message, path: str, filename: str, problems: list[str]
) -> AttachmentInfo:
    content_id = _header_text(_first_header(part, "Content-ID") or "", problems, path)
    content_id = content_id.strip("<> ")
    disposition = part.get_content_disposition()

    return AttachmentInfo(
        filename=filename or _fallback_filename(part, problems),
        content_type=part.get_content_type(),
        size=len(_part_content(part, path, problems)),
        part_path=path,
        content_id=content_id,
        inline=disposition == "inline" or (disposition is None and bool(content_id)),
    )


def _part_content(part: Message, path: str, problems: list[str]) -> bytes:
    """Return the decoded content of a leaf part."""
    if part.is_multipart():
        return _message_source(part, path, problems)

    payload = part.get_payload(decode=True)
    if any(isinstance(defect, _BASE64_DEFECTS) for defect in part.defects):
        problems.append(f"broken base64 in part {path}")
    return payload if isinstance(payload, bytes) else b""


def _message_source(part: Message, path: str, problems: list[str]) -> bytes:
    # The parser keeps no byte offsets, so an attached email is written out
    # again; the result matches the original up to header folding.
    linesep = "\r\n"
    buffer = io.BytesIO()
    try:
        for attached in _children(part):
            generator = BytesGenerator(
                buffer,
                mangle_from_=False,
                policy=email.policy.compat32.clone(linesep=linesep),
            )
            generator.flatten(attached)
    except Exception as error:
        problems.append(f"could not read part {path} ({type(error).__name__})")
        return b""
    return buffer.getvalue()


def _declared_filename(part: Message, path: str, problems: list[str]) -> str:
    where = f"filename of part {path}"
    value = _param(part, "Content-Disposition", "filename", problems, where)
    if value is None:
        value = _param(part, "Content-Type", "name", problems, where)
    if value is None:
        return ""

    if isinstance(value, tuple):
        # RFC 2231: the parser leaves the percent-decoded bytes as latin-1.
        charset, _language, encoded = value
        try:
            data = str(encoded).encode("latin-1")
        except UnicodeEncodeError:
            data = str(encoded).encode("utf-8")
        filename = _decode_bytes(data, charset or None, problems, where)
        filename = _decode_words(filename, problems, where)
    else:
        filename = _header_text(str(value), problems, where)
    return _safe_filename(filename)


def _param(
    part: Message, header: str, name: str, problems: list[str], where: str
) -> str | tuple[str, str, str] | None:
    raw = _first_header(part, header)
    if raw is None:
        return None

    # Message.get_param would turn raw 8-bit bytes into U+FFFD, so the
    # header is decoded first and its parameters read from the text.
    holder = Message(policy=email.policy.compat32)
    data = raw.encode("utf-8", "surrogateescape")
    holder[header] = _FOLD.sub("", _decode_bytes(data, None, problems, where))
    try:
        value = holder.get_param(name, None, header=header)
    except Exception:
        # The stdlib's RFC 2231 code trips over some broken continuations.
        problems.append(f"unreadable {name} parameter in {where}")
        return None
    if isinstance(value, tuple):
        return (str(value[0] or ""), str(value[1] or ""), str(value[2]))
    return None if value is None else str(value)


def _safe_filename(filename: str) -> str:
    # Only the last path component is kept, so a download can never land
    # outside the folder it is saved into.
    filename = re.split(r"[/\\]", filename)[-1]
    filename = _FILENAME_UNSAFE.sub("", filename).strip()
    if set(filename) <= {"."}:
        return ""
    if len(filename) > MAX_FILENAME_CHARS:
        stem, dot, extension = filename.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            keep = MAX_FILENAME_CHARS - len(extension) - 1
            filename = f"{stem[:keep]}.{extension}"
        else:
            filename = filename[:MAX_FILENAME_CHARS]
    return filename


def _fallback_filename(part: Message, problems: list[str]) -> str:
    attached = _children(part)
    if part.get_content_maintype() == "message" and attached:
        subject = _header_text(
            _first_header(attached[0], "Subject") or "", problems, "attached message"
        )
        return _safe_filename(f"{subject[:100]}.eml") if subject else "message.eml"

    extension = mimetypes.guess_extension(part.get_content_type()) or ""
    return f"untitled{extension}"


def _check_outbound_headers(
    *,
    sender: Address,
    recipients: Sequence[Address],
    subject: str,
    message_id: str,
    in_reply_to: str,
    references: Sequence[str],
    attachments: Sequence[tuple[str, str, bytes]],
    extra_headers: Mapping[str, str],
) -> None:
    values: list[tuple[str, str]] = [
        ("Subject", subject),
        ("Message-ID", message_id),
        ("In-Reply-To", in_reply_to),
        *(("References", reference) for reference in references),
        *(
            (f"address of {field_name}", text)
            for person in [sender, *recipients]
            for field_name, text in (("name", person.name), ("address", person.address))
        ),
        *(("attachment filename", filename) for filename, _, _ in attachments),
        *(("attachment content type", kind) for _, kind, _ in attachments),
        *extra_headers.items(),
    ]
    for name, value in values:
        # str.splitlines also breaks on the Unicode line separators, which
        # some mail software turns into real line breaks.
        if "\r" in value or "\n" in value or len(value.splitlines()) > 1:
            raise ValueError(f"{name} must not contain a line break")

    for msg_id in [message_id, *([in_reply_to] if in_reply_to else []), *references]:
        if not _MSG_ID.fullmatch(msg_id) or not msg_id.isascii():
            raise ValueError(f"not a message ID in angle brackets: {msg_id[:100]!r}")

    for name in extra_headers:
        if not _HEADER_NAME.match(name):
            raise ValueError(f"not a header name: {name[:100]!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"{name} is set by build_message, not extra_headers")


def _outbound_address(person: Address) -> headerregistry.Address:
    local, at, domain = person.address.rpartition("@")
    if not at or not local or not domain or not _ADDRESS.match(person.address):
        raise ValueError(f"not an email address: {person.address[:100]!r}")
    if not local.isascii():
        # TODO: sending to internationalised mailboxes needs SMTPUTF8, so
        # such contacts cannot be written to yet.
        raise ValueError("addresses with a non-ASCII local part are not supported")

    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"not a valid domain: {domain[:100]!r}") from error
    return headerregistry.Address(
        display_name=person.name, addr_spec=f"{local}@{ascii_domain}"
    )


def _encode_subject(subject: str) -> str:
    # Plain ASCII stays readable in the source; anything else, or text that
    # would itself look like an encoded word, is encoded whole.
    charset = "us-ascii" if subject.isascii() and "=?" not in subject else "utf-8"
    return Header(subject, charset, header_name="Subject").encode(linesep="\n")


def _attach(
    message: EmailMessage, filename: str, content_type: str, content: bytes
) -> None:
    maintype, slash, subtype = content_type.lower().partition("/")
    if not slash or not maintype or not subtype or " " in content_type:
        raise ValueError(f"not a content type: {content_type[:100]!r}")

    if maintype == "message":
        # RFC 2046 forbids base64 for message/*, so an attached email goes in
        # as parsed source.
        attached = BytesParser(policy=email.policy.default).parsebytes(content)
        message.add_attachment(attached, subtype=subtype, filename=filename)
        return
    message.add_attachment(
        content, maintype=maintype, subtype=subtype, filename=filename
    )
