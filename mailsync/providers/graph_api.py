"""The Microsoft Graph client, built to reach whichever Graph it is pointed at.

msgraph-sdk normally authenticates through azure-identity, whose provider
sends tokens to Microsoft's hosts only and over https only (except to
localhost). RevStackr already holds a delegated access token, so a small
token provider hands that token to the hosts of ``base_url`` alone.

The client is async, and its httpx client is bound to the event loop that
first uses it: build one per ``asyncio.run``. Its RetryHandler retries 429,
503 and 504 by itself (honouring Retry-After); pass ``retry=False`` where
the caller's own backoff owns retries.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.graph_request_adapter import options as graph_default_options
from msgraph_core import GraphClientFactory

HTTP_TIMEOUT_SECONDS = 30.0


class StaticAccessTokenProvider(AccessTokenProvider):
    """Give one access token to requests for the allowed hosts only."""

    def __init__(self, access_token: str, allowed_hosts: list[str]) -> None:
        self._access_token = access_token
        self._allowed_hosts = AllowedHostsValidator(allowed_hosts)

    async def get_authorization_token(
        self,
        uri: str,
        additional_authentication_context: dict[str, Any] | None = None,
    ) -> str:
        if not self._allowed_hosts.is_url_host_valid(uri):
            return ""
        return self._access_token

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._allowed_hosts


def build_graph_client(
    base_url: str,
    access_token: str,
    *,
    retry: bool = True,
    timeout: float = HTTP_TIMEOUT_SECONDS,
) -> GraphServiceClient:
    """Return a client for Graph v1.0 at ``base_url``.

    ``base_url`` is ``https://graph.microsoft.com/v1.0`` in production and
    ``{sandbox}/graph/v1.0`` against the sandbox.
    """
    base_url = base_url.rstrip("/")
    host = urlsplit(base_url).hostname
    if not host:
        raise ValueError(f"base_url has no host: {base_url!r}")

    options = dict(graph_default_options)
    if not retry:
        options[RetryHandlerOption.get_key()] = RetryHandlerOption(
            max_retries=0, should_retry=False
        )
    http_client = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(timeout=httpx.Timeout(timeout)),
        options=options,
    )

    token_provider = StaticAccessTokenProvider(access_token, [host])
    adapter = GraphRequestAdapter(
        BaseBearerTokenAuthenticationProvider(token_provider), client=http_client
    )
    adapter.base_url = base_url
    return GraphServiceClient(request_adapter=adapter)
