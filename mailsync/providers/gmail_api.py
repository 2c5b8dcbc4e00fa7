"""The Gmail API client, built to reach whichever Google it is pointed at.

The bundled discovery document names Google's hosts in ``rootUrl``; the
client derives from it the URL of ordinary calls, of media uploads and of
batch requests. Overriding only ``api_endpoint`` moves the first kind, so
the document's ``rootUrl`` is replaced instead and all three follow.
"""

from __future__ import annotations

import json
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.discovery_cache import get_static_doc

HTTP_TIMEOUT_SECONDS = 30


def build_gmail_service(
    credentials: Credentials,
    root_url: str,
    *,
    timeout: float = HTTP_TIMEOUT_SECONDS,
) -> Any:
    """A Gmail v1 ``Resource`` whose every request goes to ``root_url``.

    ``root_url`` ends in "/" (``https://gmail.googleapis.com/`` in
    production); ``timeout`` bounds each HTTP request, which httplib2
    otherwise leaves unbounded.
    """
    if not root_url.endswith("/"):
        raise ValueError("root_url must end with '/'")

    document = json.loads(get_static_doc("gmail", "v1"))
    document["rootUrl"] = root_url
    document["baseUrl"] = root_url + document.get("servicePath", "")
    document["mtlsRootUrl"] = root_url

    http = google_auth_httplib2.AuthorizedHttp(
        credentials, http=httplib2.Http(timeout=timeout)
    )
    return build_from_document(document, http=http)
