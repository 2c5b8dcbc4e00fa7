"""Batch requests: many Gmail calls in one ``multipart/mixed`` POST.

Each ``application/http`` part is one Gmail call with its own headers
(including Authorization); it runs through the same front door as a
direct call, so it is authorised, faulted, counted and charged on its own.
The answer has one part per call, named ``response-`` plus the call's
Content-ID, which is how client libraries match answers to calls.
"""

from __future__ import annotations

import secrets
from http import HTTPStatus
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.core import Sandbox
from mailsync.sandbox.google import errors
from mailsync.sandbox.google.api import GmailApi, raise_fault
from mailsync.sandbox.google.errors import GoogleApiError
from mailsync.sandbox.google.multipart import (
    Part,
    boundary_of,
    parse_headers,
    split_head,
    split_multipart,
)

MAX_CALLS = 100
OPERATION = "gmail.batch"


class BatchEndpoint:
    def __init__(self, sandbox: Sandbox, gmail: GmailApi) -> None:
        self.sandbox = sandbox
        self.gmail = gmail

    def handle(self, request: Request) -> Response:
        # The envelope is not a Gmail call and costs no quota, but it is
        # counted so benchmarks can tell HTTP requests from calls.
        self.sandbox.counters.record("google", None, OPERATION)
        try:
            fault = self.sandbox.faults.pick("google", OPERATION, None)
            if fault is not None:
                raise_fault(fault, OPERATION)
            parts = self._calls(request)
        except GoogleApiError as error:
            return error.response()

        boundary = "batch_" + secrets.token_hex(12)
        chunks = [self._answer(part, request, boundary) for part in parts]
        body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        return Response(body, content_type=f"multipart/mixed; boundary={boundary}")

    def _calls(self, request: Request) -> list[Part]:
        if request.method != "POST":
            raise GoogleApiError(405, "Method not allowed.", "methodNotAllowed")
        boundary = boundary_of(request.headers.get("Content-Type", ""))
        if boundary is None:
            raise errors.bad_request("Batch requests need a multipart/mixed body")
        try:
            parts = split_multipart(request.get_data(), boundary)
        except ValueError as error:
            raise errors.bad_request("Malformed batch body") from error
        if len(parts) > MAX_CALLS:
            raise errors.bad_request(
                f"Too many requests in batch (at most {MAX_CALLS})"
            )
        return parts

    def _answer(self, part: Part, outer: Request, boundary: str) -> bytes:
        response = self._run(part, outer)
        content_id = part.headers.get("Content-ID", "")
        if content_id.startswith("<") and content_id.endswith(">"):
            answer_id = f"<response-{content_id[1:-1]}>"
        else:
            answer_id = f"<response-{content_id}>"

        status = HTTPStatus(response.status_code)
        head = [f"HTTP/1.1 {status.value} {status.phrase}"]
        head += [f"{name}: {value}" for name, value in response.headers.items()]
        inner = "\r\n".join(head).encode() + b"\r\n\r\n" + response.get_data()
        outer_head = (
            f"--{boundary}\r\n"
            "Content-Type: application/http\r\n"
            f"Content-ID: {answer_id}\r\n\r\n"
        )
        return outer_head.encode() + inner + b"\r\n"

    def _run(self, part: Part, outer: Request) -> Response:
        lines, body = split_head(part.body)
        if not lines:
            return errors.bad_request("Empty request in batch").response()
        method, _, rest = lines[0].partition(" ")
        target = (
            rest.rsplit(" ", 1)[0] if rest.endswith(("HTTP/1.1", "HTTP/1.0")) else rest
        )
        headers = parse_headers(lines[1:])
        url = urlsplit(target)
        if not url.path.startswith("/gmail/"):
            return errors.not_found().response()

        builder = EnvironBuilder(
            path=url.path,
            query_string=url.query,
            method=method,
            headers=[
                (k, v) for k, v in headers.items() if k.lower() != "content-length"
            ],
            data=body,
            base_url=outer.host_url,
        )
        try:
            return self.gmail.handle(Request(builder.get_environ()))
        finally:
            builder.close()
