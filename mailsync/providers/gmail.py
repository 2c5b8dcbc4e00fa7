"""Gmail, through google-api-python-client.

Cursor shape: ``history_id`` (where incremental sync continues),
``history_page`` (a history.list page token while a long run of changes is
read), ``listing`` (a first import, re-list or backfill in progress: whose
addresses, which search query and page it reached) and ``backfill``
(addresses the engine asks past mail for; a backfill starts once no other
listing is under way).
"""

from __future__ import annotations

import base64
import io
import logging
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from mailsync.errors import ProviderError
from mailsync.providers.base import (
    CursorExpired,
    FetchedMessage,
    MailboxIdentity,
    MailProvider,
    OutgoingEmail,
    PullPage,
    PullRequest,
    SentEmail,
)
from mailsync.providers.gmail_api import build_gmail_service

logger = logging.getLogger(__name__)

# Statuses Google documents as worth retrying; 403 is temporary only for
# the rate-limit reasons.
TEMPORARY_STATUSES = {429, 500, 502, 503, 504}
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
# Labels whose mail is never synced (DESIGN: all mail except these).
IGNORED_LABELS = {"SPAM", "TRASH", "DRAFT", "CHAT"}
# More than 50 calls in one batch is likely to hit Google's rate limits.
BATCH_SIZE = 50
ADDRESSES_PER_QUERY = 20
# A raw message above this size is sent through the media upload path,
# which takes up to 35 MB instead of the JSON body's smaller limit.
UPLOAD_ABOVE_BYTES = 4 * 1024 * 1024
# Waits this short are slept through; longer ones back off the mailbox.
SHORT_WAIT_SECONDS = 5.0


class GmailProvider(MailProvider):
    def __init__(self, access_token: str, *, root_url: str) -> None:
        super().__init__(access_token)
        self.service = build_gmail_service(Credentials(access_token), root_url)
        self.messages = self.service.users().messages()

    # Identity ---------------------------------------------------------------

    def fetch_identity(self) -> MailboxIdentity:
        profile = self._execute(self.service.users().getProfile(userId="me"))
        send_as = self._execute(
            self.service.users().settings().sendAs().list(userId="me")
        )
        address = profile["emailAddress"].lower()
        aliases = sorted(
            {
                entry["sendAsEmail"].lower()
                for entry in send_as.get("sendAs", [])
                if entry.get("sendAsEmail", "").lower() != address
            }
        )
        return MailboxIdentity(address=address, aliases=aliases)

    # Pull -------------------------------------------------------------------

    def pull(self, request: PullRequest) -> PullPage:
        cursor = dict(request.cursor)
        backfill = list(cursor.pop("backfill", []))
        taken: list[str] = []

        if not cursor.get("history_id"):
            # Mark the starting point first: whatever arrives during the
            # import is then read from history afterwards.
            profile = self._execute(self.service.users().getProfile(userId="me"))
            cursor["history_id"] = str(profile["historyId"])
            cursor["listing"] = _listing(None)
            # This listing searches every contact's address, the requested
            # ones included.
            taken = backfill
        elif not cursor.get("listing") and backfill:
            cursor["listing"] = _listing(backfill)
            taken = backfill
        # Otherwise a listing is under way whose searches may be past these
        # addresses: they wait until it ends.

        if cursor.get("listing"):
            page = self._list_step(request, cursor)
        else:
            page = self._history_step(request, cursor)
        page.backfill_taken = taken
        return page

    def _list_step(self, request: PullRequest, cursor: dict[str, Any]) -> PullPage:
        listing = dict(cursor["listing"])
        # The addresses of the search being paged through; a new search
        # takes the next ones after the last address already searched, so
        # contacts added or removed meanwhile shift nothing.
        chunk: list[str] = listing.get("chunk") or []
        if not chunk:
            pool = listing["addresses"] or request.contact_addresses()
            after = listing.get("after", "")
            chunk = sorted({a.lower() for a in pool if a and a.lower() > after})[
                :ADDRESSES_PER_QUERY
            ]
        if not chunk:
            cursor.pop("listing")
            return PullPage(cursor=cursor)

        answer = self._execute(
            self.messages.list(
                userId="me",
                q=search_queries(chunk, request.window_start)[0],
                maxResults=request.max_messages,
                pageToken=listing.get("page_token") or None,
            )
        )
        stubs = answer.get("messages", [])
        if not listing.get("page_token"):
            listing["estimate"] = listing.get("estimate", 0) + int(
                answer.get("resultSizeEstimate", 0)
            )
        if answer.get("nextPageToken"):
            listing["page_token"] = answer["nextPageToken"]
            listing["chunk"] = chunk
        else:
            listing["after"] = chunk[-1]
            listing["chunk"] = []
            listing["page_token"] = ""
        cursor["listing"] = listing

        known = request.already_stored([stub["id"] for stub in stubs])
        wanted = [stub["id"] for stub in stubs if stub["id"] not in known]
        return PullPage(
            messages=self._get_raw(wanted),
            cursor=cursor,
            examined=len(stubs),
            total_estimate=listing["estimate"],
        )

    def _history_step(self, request: PullRequest, cursor: dict[str, Any]) -> PullPage:
        answer = self._execute(
            self.service.users()
            .history()
            .list(
                userId="me",
                startHistoryId=cursor["history_id"],
                maxResults=request.max_messages,
                pageToken=cursor.get("history_page") or None,
                historyTypes=[
                    "messageAdded",
                    "messageDeleted",
                    "labelAdded",
                    "labelRemoved",
                ],
            ),
            expired_on_404=True,
        )

        added: dict[str, None] = {}
        removed: dict[str, None] = {}
        restored: dict[str, None] = {}
        for record in answer.get("history", []):
            for change in record.get("messagesAdded", []):
                stub = change["message"]
                if not IGNORED_LABELS & set(stub.get("labelIds", [])):
                    added[stub["id"]] = None
            for change in record.get("messagesDeleted", []):
                removed[change["message"]["id"]] = None
            for change in record.get("labelsAdded", []):
                if "TRASH" in change.get("labelIds", []):
                    removed[change["message"]["id"]] = None
            for change in record.get("labelsRemoved", []):
                if "TRASH" in change.get("labelIds", []):
                    restored[change["message"]["id"]] = None

        known = request.already_stored(list(added))
        fetched = self._get_raw(
            [i for i in added if i not in known and i not in removed]
        )

        if answer.get("nextPageToken"):
            cursor["history_page"] = answer["nextPageToken"]
        else:
            cursor.pop("history_page", None)
            cursor["history_id"] = str(answer.get("historyId", cursor["history_id"]))
        return PullPage(
            messages=fetched,
            removed=list(removed),
            restored=list(restored),
            cursor=cursor,
            caught_up="history_page" not in cursor,
        )

    def _get_raw(self, ids: list[str]) -> list[FetchedMessage]:
        """Fetch full sources in batches, skipping messages gone meanwhile."""
        fetched: list[FetchedMessage] = []
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            answers: dict[str, Any] = self._call(partial(self._batch_get, chunk))
            for message_id in chunk:
                answer = answers.get(message_id)
                if answer is None or IGNORED_LABELS & set(answer.get("labelIds", [])):
                    continue
                fetched.append(
                    FetchedMessage(
                        provider_message_id=answer["id"],
                        provider_thread_id=answer.get("threadId", ""),
                        raw=base64.urlsafe_b64decode(answer["raw"]),
                        folder=",".join(answer.get("labelIds", [])),
                    )
                )
        return fetched

    def _batch_get(self, ids: list[str]) -> dict[str, Any]:
        """One batch request of ``messages.get(format=raw)``, by message id."""
        answers: dict[str, Any] = {}
        failures: list[HttpError] = []

        def collect(request_id: str, response: Any, error: Exception | None) -> None:
            if error is None:
                answers[request_id] = response
            elif isinstance(error, HttpError) and error.resp.status == 404:
                logger.info("a Gmail message vanished before it was fetched")
            elif isinstance(error, HttpError):
                failures.append(error)
            else:
                raise error

        batch = self.service.new_batch_http_request(callback=collect)
        for message_id in ids:
            batch.add(
                self.messages.get(userId="me", id=message_id, format="raw"),
                request_id=message_id,
            )
        batch.execute()
        if failures:
            # Raised as HttpError so a short rate-limit wait is retried.
            raise failures[0]
        return answers

    # Send -------------------------------------------------------------------

    def send(self, email: OutgoingEmail, *, attempt: int) -> SentEmail:
        if attempt > 1:
            earlier = self._execute(
                self.messages.list(userId="me", q=f"rfc822msgid:{email.message_id}")
            ).get("messages", [])
            if earlier:
                return SentEmail(earlier[0]["id"], earlier[0].get("threadId", ""))

        body: dict[str, Any] = {}
        if email.provider_thread_id:
            body["threadId"] = email.provider_thread_id
        if len(email.raw) > UPLOAD_ABOVE_BYTES:
            media = MediaIoBaseUpload(
                io.BytesIO(email.raw), mimetype="message/rfc822", resumable=False
            )
            request = self.messages.send(userId="me", body=body, media_body=media)
        else:
            body["raw"] = base64.urlsafe_b64encode(email.raw).decode("ascii")
            request = self.messages.send(userId="me", body=body)
        answer = self._execute(request)
        return SentEmail(answer["id"], answer.get("threadId", ""))

    def fetch_raw(self, provider_message_id: str) -> bytes:
        answer = self._execute(
            self.messages.get(userId="me", id=provider_message_id, format="raw")
        )
        return base64.urlsafe_b64decode(answer["raw"])

    # Calls ------------------------------------------------------------------

    def _execute(self, request: Any, *, expired_on_404: bool = False) -> Any:
        return self._call(request.execute, expired_on_404=expired_on_404)

    def _call(self, call: Callable[[], Any], *, expired_on_404: bool = False) -> Any:
        try:
            return self._with_short_retries(call)
        except RefreshError as error:
            # Gmail answered 401 and the client, holding only an access
            # token, cannot refresh it itself; the token service can.
            raise ProviderError(
                "Gmail refused the access token.", auth_expired=True
            ) from error
        except HttpError as error:
            if expired_on_404 and error.resp.status == 404:
                raise CursorExpired("Gmail no longer keeps that history id.") from error
            raise gmail_error(error) from error

    def _with_short_retries(self, call: Callable[[], Any], attempts: int = 3) -> Any:
        """Run ``call``, sleeping through short rate-limit waits.

        google-api-python-client's own retries ignore Retry-After, so a
        429 that asks for a short wait is waited here; a longer one goes up
        as a temporary error and the mailbox backs off.
        """
        for attempt in range(attempts):
            try:
                return call()
            except HttpError as error:
                wait = _retry_after(error)
                if (
                    error.resp.status != 429
                    or wait is None
                    or wait > SHORT_WAIT_SECONDS
                    or attempt == attempts - 1
                ):
                    raise
                time.sleep(wait)
            except OSError as error:
                raise ProviderError(f"Could not reach Gmail: {error}") from error
        raise AssertionError("unreachable")


def _listing(addresses: list[str] | None) -> dict[str, Any]:
    """A search in progress: of ``addresses``, or of every contact's."""
    return {
        "addresses": addresses,
        "after": "",
        "chunk": [],
        "page_token": "",
        "estimate": 0,
    }


def search_queries(addresses: list[str], since: datetime) -> list[str]:
    """Gmail searches that find the mail with these addresses since a time.

    Only mail involving contacts is listed, so the first import fetches
    (and pays quota for) what it stores, not the whole mailbox.
    """
    unique = sorted({address.lower() for address in addresses if address})
    after = int(since.timestamp())
    queries = []
    for start in range(0, len(unique), ADDRESSES_PER_QUERY):
        terms = " ".join(
            f"{field}:{address}"
            for address in unique[start : start + ADDRESSES_PER_QUERY]
            for field in ("from", "to", "cc", "bcc")
        )
        queries.append(f"{{{terms}}} after:{after}")
    return queries


def _retry_after(error: HttpError) -> float | None:
    value = error.resp.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def gmail_error(error: HttpError) -> ProviderError:
    """Sort a Gmail API error into temporary or permanent."""
    status = error.resp.status
    reasons = {
        detail.get("reason")
        for detail in (error.error_details or [])
        if isinstance(detail, dict)
    }
    if status in TEMPORARY_STATUSES or (status == 403 and reasons & RATE_LIMIT_REASONS):
        return ProviderError(
            f"Gmail answered {status}; retrying later.", retry_after=_retry_after(error)
        )
    if status == 401:
        return ProviderError("Gmail refused the access token.", auth_expired=True)
    if status == 403:
        return ProviderError(
            "Gmail refused access: RevStackr lacks a permission it needs.",
            permanent=True,
        )
    return ProviderError(f"Gmail answered {status}: {error.reason}")
