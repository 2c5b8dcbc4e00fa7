"""JSON ``$batch``: up to 20 Graph requests in one HTTP request.

Each request inside runs through the same path as a direct call (counted,
budgeted, offered to the fault plan) and the batch itself is counted as
``POST /$batch``. They run one after another, in order, within the batch's
own concurrency slot; a request whose ``dependsOn`` failed answers 424.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from mailsync.sandbox.microsoft.errors import GraphError, bad_request, graph_json

if TYPE_CHECKING:
    from mailsync.sandbox.microsoft.graph import GraphApi

MAX_REQUESTS = 20


def handle_batch(api: GraphApi, request: Request) -> Response:
    if request.method != "POST":
        raise GraphError(405, "BadRequest", "Use POST to send a batch.")
    token = api.authenticate(request)
    sandbox = api.provider.sandbox
    with sandbox.lock:
        owner = api.provider.state.users[token.user_id]
    mailbox = owner.address.lower()
    sandbox.counters.record("microsoft", mailbox, "POST /$batch")

    requests = _batch_requests(request)
    with api.provider.limiter.admit(mailbox):
        fault = sandbox.faults.pick("microsoft", "POST /$batch", mailbox)
        if fault is not None:
            api.suffer(token, fault)
        results: dict[str, int] = {}
        responses = []
        for item in requests:
            answer = _run_one(api, request, item, results)
            results[answer["id"]] = answer["status"]
            responses.append(answer)
    return graph_json({"responses": responses})


def _batch_requests(request: Request) -> list[dict[str, Any]]:
    try:
        body = json.loads(request.get_data())
    except ValueError as error:
        raise bad_request(
            "The batch request body is not valid JSON.", code="BadRequest"
        ) from error
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise bad_request(
            "The batch request must contain a 'requests' collection.", code="BadRequest"
        )
    if len(requests) > MAX_REQUESTS:
        raise bad_request(
            f"The number of batch requests exceeds the limit of {MAX_REQUESTS}.",
            code="BadRequest",
        )
    seen: set[str] = set()
    for item in requests:
        if not isinstance(item, dict) or not item.get("id") or not item.get("url"):
            raise bad_request(
                "Each batch request needs an id, a method and a url.", code="BadRequest"
            )
        if str(item["id"]) in seen:
            raise bad_request(
                f"Batch request id '{item['id']}' is duplicated.", code="BadRequest"
            )
        for dependency in _depends_on(item):
            if dependency not in seen:
                raise bad_request(
                    f"Batch request '{item['id']}' depends on '{dependency}', "
                    "which does not come before it.",
                    code="BadRequest",
                )
        seen.add(str(item["id"]))
    return requests


def _run_one(
    api: GraphApi, outer: Request, item: dict[str, Any], results: dict[str, int]
) -> dict[str, Any]:
    request_id = str(item["id"])
    if any(results.get(dependency, 500) >= 400 for dependency in _depends_on(item)):
        return _answer(
            request_id,
            GraphError(
                424, "FailedDependency", "A request it depends on failed."
            ).response(outer),
        )

    headers = {
        str(name): str(value) for name, value in (item.get("headers") or {}).items()
    }
    headers["Authorization"] = outer.headers.get("Authorization", "")
    body = item.get("body")
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        try:
            data = base64.b64decode(body)
        except (binascii.Error, ValueError):
            data = body.encode()
    else:
        data = b""
    path, _, query = _relative_url(str(item["url"])).partition("?")
    inner = Request(
        EnvironBuilder(
            path=path,
            base_url=outer.host_url,
            query_string=query,
            method=str(item.get("method", "GET")).upper(),
            headers=list(headers.items()),
            data=data,
        ).get_environ()
    )
    try:
        response = api.dispatch(inner, in_batch=True)
    except GraphError as error:
        response = error.response(inner)
    return _answer(request_id, response)


def _answer(request_id: str, response: Response) -> dict[str, Any]:
    headers = {
        name: value
        for name, value in response.headers.items()
        if name.lower()
        in ("content-type", "retry-after", "location", "preference-applied")
    }
    answer: dict[str, Any] = {
        "id": request_id,
        "status": response.status_code,
        "headers": headers,
    }
    data = response.get_data()
    if data:
        if response.mimetype == "application/json":
            answer["body"] = json.loads(data)
        else:
            answer["body"] = base64.b64encode(data).decode()
    return answer


def _relative_url(url: str) -> str:
    """Accept ``/me/...``, ``me/...`` or an absolute URL (msgraph-sdk's)."""
    parts = urlsplit(url)
    path = parts.path if parts.scheme else url.split("?")[0]
    query = parts.query
    path = "/" + path.lstrip("/")
    for prefix in ("/graph/v1.0", "/v1.0"):
        if path.startswith(prefix + "/"):
            path = path[len(prefix) :]
            break
    return f"/graph/v1.0{path}" + (f"?{query}" if query else "")


def _depends_on(item: dict[str, Any]) -> list[str]:
    raw = item.get("dependsOn") or item.get("depends_on") or []
    return [str(dependency) for dependency in raw]
