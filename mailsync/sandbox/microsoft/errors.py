"""Error answers in the two shapes Microsoft uses.

Graph wraps errors as ``{"error": {"code", "message", "innerError"}}``;
the identity platform answers OAuth errors with AADSTS codes, a trace id
and a correlation id.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from werkzeug.wrappers import Request, Response

GRAPH_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)


class GraphError(Exception):
    """A Graph failure, answered in Graph's error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def response(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        body = {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": request_id,
                    "client-request-id": request.headers.get(
                        "client-request-id", request_id
                    ),
                },
            }
        }
        response = graph_json(body, status=self.status)
        response.headers["request-id"] = request_id
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


def not_found(
    what: str = "The specified object was not found in the store.",
) -> GraphError:
    return GraphError(404, "ErrorItemNotFound", what)


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    return GraphError(400, code, message)


def graph_json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type=GRAPH_CONTENT_TYPE)


class IdentityError(Exception):
    """An OAuth failure of the token endpoint, with its AADSTS code."""

    def __init__(
        self, error: str, aadsts: int, description: str, status: int = 400
    ) -> None:
        super().__init__(f"AADSTS{aadsts}: {description}")
        self.error = error
        self.aadsts = aadsts
        self.description = description
        self.status = status

    def response(self) -> Response:
        trace_id = str(uuid.uuid4())
        correlation_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        body = {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.aadsts}: {self.description} "
                f"Trace ID: {trace_id} Correlation ID: {correlation_id} "
                f"Timestamp: {now.strftime('%Y-%m-%d %H:%M:%SZ')}"
            ),
            "error_codes": [self.aadsts],
            "timestamp": now.strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": "https://login.microsoftonline.com/error?code="
            + str(self.aadsts),
        }
        response = Response(
            json.dumps(body), status=self.status, mimetype="application/json"
        )
        response.headers["Cache-Control"] = "no-store, no-cache"
        return response
