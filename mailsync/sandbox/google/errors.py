"""Errors in the two shapes Google answers with.

The Gmail API and the userinfo endpoints answer with the JSON error of
Google APIs (``{"error": {"code", "message", "errors", "status"}}``); the
OAuth token and revoke endpoints answer with the OAuth 2.0 shape
(``{"error", "error_description"}``). Client libraries key their retries and
refreshes on these exact fields, so the wording follows Google's.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from mailsync.sandbox.core import json_response

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class GoogleApiError(Exception):
    """A failure answered in the Google APIs JSON error shape."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        *,
        domain: str = "global",
        retry_after: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.retry_after = retry_after
        self.detail = detail or message

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [
                    {
                        "message": self.detail,
                        "domain": self.domain,
                        "reason": self.reason,
                    }
                ],
                "status": _STATUS_NAMES.get(self.code, "UNKNOWN"),
            }
        }

    def response(self) -> Response:
        response = json_response(self.body(), status=self.code)
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        if self.code == 401:
            response.headers["WWW-Authenticate"] = (
                'Bearer realm="https://accounts.google.com/"'
            )
        return response


def bad_request(message: str, reason: str = "invalidArgument") -> GoogleApiError:
    return GoogleApiError(400, message, reason)


def not_found() -> GoogleApiError:
    return GoogleApiError(404, "Requested entity was not found.", "notFound")


def unauthenticated() -> GoogleApiError:
    return GoogleApiError(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access"
        " token, login cookie or other valid authentication credential.",
        "authError",
        detail="Invalid Credentials",
    )


def insufficient_scope() -> GoogleApiError:
    return GoogleApiError(
        403,
        "Request had insufficient authentication scopes.",
        "insufficientPermissions",
        detail="Insufficient Permission",
    )


def forbidden(message: str) -> GoogleApiError:
    return GoogleApiError(403, message, "forbidden")


def rate_limited(retry_after: int) -> GoogleApiError:
    return GoogleApiError(
        429,
        f"User-rate limit exceeded.  Retry after {retry_after} seconds.",
        "rateLimitExceeded",
        domain="usageLimits",
        retry_after=retry_after,
    )


def backend_error() -> GoogleApiError:
    return GoogleApiError(500, "Backend Error", "backendError")


def unavailable(retry_after: int) -> GoogleApiError:
    return GoogleApiError(
        503,
        "The service is currently unavailable.",
        "backendError",
        retry_after=retry_after,
    )


class OAuthError(Exception):
    """A failure of the token or revoke endpoint, in the OAuth 2.0 shape."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.retry_after = retry_after

    def response(self) -> Response:
        response = json_response(
            {"error": self.error, "error_description": self.description},
            status=self.status,
        )
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response
