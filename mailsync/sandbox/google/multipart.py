"""Splitting multipart bodies byte for byte.

Uploads carry a raw RFC 822 message in a ``binary`` part and batch calls
carry HTTP messages; both must come out exactly as sent, which the email
package's parser does not promise, so the bodies are split by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass
class Part:
    headers: Headers
    body: bytes


def boundary_of(content_type: str) -> str | None:
    mimetype, options = parse_options_header(content_type)
    if not mimetype.startswith("multipart/"):
        return None
    return options.get("boundary")


def split_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a multipart body; ValueError when it is malformed."""
    delimiter = b"--" + boundary.encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise ValueError("no multipart parts found")

    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        # The line break before the next delimiter belongs to the delimiter.
        if chunk.endswith(b"\r\n"):
            chunk = chunk[:-2]
        elif chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        parts.append(_part(chunk))
    return parts


def split_head(data: bytes) -> tuple[list[str], bytes]:
    """Header lines and body of an HTTP or MIME entity."""
    match = _HEADER_END.search(data)
    if match is None:
        head, rest = data, b""
    else:
        head, rest = data[: match.start()], data[match.end() :]
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    return [line for line in lines if line], rest


def parse_headers(lines: list[str]) -> Headers:
    headers = Headers()
    for line in lines:
        if line[:1] in (" ", "\t") and headers:
            # A folded line continues the previous header.
            name, value = list(headers.items())[-1]
            headers.set(name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.add(name.strip(), value.strip())
    return headers


def _part(chunk: bytes) -> Part:
    lines, body = split_head(chunk)
    return Part(headers=parse_headers(lines), body=body)
