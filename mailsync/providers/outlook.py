"""Outlook, through Microsoft Graph and msgraph-sdk.

Cursor shape: ``folders`` maps each synced folder's id to its ``name``,
``delta`` link (set once the folder's first round finished) and ``next``
link (while a round is paged through); ``listed_at`` says when the folder
list was last read; ``pending`` lists the messages that delta pages already
read named for fetching but a step had no room or time left for (their
``id``, ``thread`` and ``folder``), which the next step fetches before it
reads any further; ``backfill`` holds addresses the engine asks past mail
for (on Graph that re-lists every folder, deduplicated by the engine, once
no folder is part way through a round).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from msgraph import GraphServiceClient
from msgraph.generated.models.attachment_item import AttachmentItem
from msgraph.generated.models.attachment_type import AttachmentType
from msgraph.generated.models.message import Message as GraphMessage
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.users.item.mail_folders.item.messages.delta.delta_request_builder import (  # noqa: E501
    DeltaRequestBuilder,
)
from msgraph.generated.users.item.messages.item.attachments.attachments_request_builder import (  # noqa: E501
    AttachmentsRequestBuilder,
)
from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (  # noqa: E501
    CreateUploadSessionPostRequestBody,
)
from msgraph.generated.users.item.messages.messages_request_builder import (
    MessagesRequestBuilder,
)
from msgraph.generated.users.item.user_item_request_builder import (
    UserItemRequestBuilder,
)

from mailsync.errors import ProviderError
from mailsync.providers.base import (
    FetchedMessage,
    MailboxIdentity,
    MailProvider,
    OutgoingEmail,
    PullPage,
    PullRequest,
    SentEmail,
)
from mailsync.providers.graph_api import build_graph_client

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A message a delta round listed, without its source, and its participants.
Seen = tuple[FetchedMessage, set[str]]
TEMPORARY_STATUSES = {429, 500, 502, 503, 504}
# Folders whose mail is never synced (DESIGN: every folder but these).
SKIPPED_FOLDERS = (
    "deleteditems",
    "junkemail",
    "drafts",
    "outbox",
    "conversationhistory",
)
FOLDER_LIST_INTERVAL = timedelta(hours=6)
DELTA_PAGE_SIZE = 200
DELTA_FIELDS = [
    "id",
    "conversationId",
    "internetMessageId",
    "from",
    "sender",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "receivedDateTime",
    "parentFolderId",
    "isDraft",
]
UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024
# Ids that survive a move between folders, so a message keeps its link
# when someone files it away.
IMMUTABLE_IDS = 'IdType="ImmutableId"'


class OutlookProvider(MailProvider):
    def __init__(self, access_token: str, *, base_url: str) -> None:
        super().__init__(access_token)
        self.base_url = base_url

    # Identity ---------------------------------------------------------------

    def fetch_identity(self) -> MailboxIdentity:
        async def read_me(client: GraphServiceClient) -> MailboxIdentity:
            query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
                select=["mail", "userPrincipalName", "proxyAddresses"]
            )
            me = await client.me.get(RequestConfiguration(query_parameters=query))
            if me is None:
                raise ProviderError("Graph answered /me with nothing.")
            address = (me.mail or me.user_principal_name or "").lower()
            aliases = sorted(
                {
                    proxy.split(":", 1)[1].lower()
                    for proxy in me.proxy_addresses or []
                    if proxy.lower().startswith("smtp:")
                }
                - {address}
            )
            return MailboxIdentity(address=address, aliases=aliases)

        return self._run(read_me, sdk_retries=True)

    # Pull -------------------------------------------------------------------

    def pull(self, request: PullRequest) -> PullPage:
        pending = [_from_pending(item) for item in request.cursor.get("pending", [])]
        if pending:
            # A page read earlier is not finished: no further delta request
            # (nor a backfill) until its messages are in.
            cursor = dict(request.cursor)
            cursor.pop("backfill", None)
            page, wanted = PullPage(cursor=cursor), pending
        else:
            # The database is only read between the two async rounds: Django
            # refuses it inside an event loop, and another thread would not
            # see the caller's transaction. That includes which participants
            # are contacts.
            page, seen = self._run(lambda client: self._pull(client, request))
            skipped: Counter[str] = Counter()
            candidates = []
            for message, people in seen:
                reason = request.skip_reason(people)
                if reason is None:
                    candidates.append(message)
                else:
                    skipped[reason] += 1
            page.skipped = dict(skipped)
            known = request.already_stored([c.provider_message_id for c in candidates])
            wanted = [c for c in candidates if c.provider_message_id not in known]

        # A step fetches a bounded number of sources, so that it ends well
        # inside the task's time limit; the rest wait in the cursor, which
        # the engine saves only once this step's messages are stored.
        now = wanted[: max(request.max_messages, 1)]
        if now:
            page.messages, tried = self._run(
                lambda client: self._fetch_sources(client, now, request.deadline)
            )
            wanted = wanted[tried:]
        if wanted:
            page.cursor["pending"] = [_to_pending(message) for message in wanted]
            page.caught_up = False
        else:
            page.cursor.pop("pending", None)
            if pending:
                page.caught_up = _caught_up(page.cursor.get("folders", {}))
        return page

    async def _fetch_sources(
        self,
        client: GraphServiceClient,
        wanted: list[FetchedMessage],
        deadline: float | None,
    ) -> tuple[list[FetchedMessage], int]:
        """The sources of ``wanted``, in order, until ``deadline`` passes;
        return them and how many of ``wanted`` were tried."""
        fetched = []
        tried = 0
        for candidate in wanted:
            if tried and deadline is not None and time.monotonic() >= deadline:
                break
            raw = await self._mime(client, candidate.provider_message_id)
            tried += 1
            if raw is not None:
                fetched.append(
                    FetchedMessage(
                        provider_message_id=candidate.provider_message_id,
                        provider_thread_id=candidate.provider_thread_id,
                        raw=raw,
                        folder=candidate.folder,
                    )
                )
        return fetched, tried

    async def _pull(
        self, client: GraphServiceClient, request: PullRequest
    ) -> tuple[PullPage, list[Seen]]:
        """One step of delta rounds: the page without its messages, and the
        messages seen with their participants, whose sources may be
        fetched."""
        cursor = dict(request.cursor)
        folders: dict[str, dict[str, Any]] = {
            key: dict(value) for key, value in cursor.get("folders", {}).items()
        }

        listed_at = cursor.get("listed_at")
        if not folders or not listed_at or _age(listed_at) > FOLDER_LIST_INTERVAL:
            folders = await self._refresh_folders(client, folders)
            cursor["listed_at"] = datetime.now(UTC).isoformat()
        cursor["folders"] = folders

        # Delta can only filter on dates, so past mail of new contacts means
        # reading every folder from the window's start. A folder part way
        # through a round would miss what its earlier pages held, so the
        # request waits for the round's end; a folder not yet started reads
        # every contact's mail anyway.
        backfill = list(cursor.pop("backfill", []))
        taken: list[str] = []
        if backfill and not any(state.get("next") for state in folders.values()):
            for state in folders.values():
                state["delta"] = None
            taken = backfill

        # A folder in its first round (or re-listing) goes one page at a
        # time; once every folder has a delta link, one call each.
        unlisted = [fid for fid, state in folders.items() if not state.get("delta")]
        if unlisted:
            page, candidates = await self._delta_page(
                client, request, unlisted[0], folders
            )
            page.cursor = cursor
            page.backfill_taken = taken
            return page, candidates

        page, candidates = PullPage(cursor=cursor, backfill_taken=taken), []
        for folder_id in list(folders):
            step, found = await self._delta_page(client, request, folder_id, folders)
            candidates += found
            page.removed += step.removed
            page.restored += step.restored
        page.caught_up = _caught_up(folders)
        return page, candidates

    async def _refresh_folders(
        self, client: GraphServiceClient, known: dict[str, dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        skipped = set()
        for name in SKIPPED_FOLDERS:
            try:
                folder = await client.me.mail_folders.by_mail_folder_id(name).get()
            except ODataError as error:
                if error.response_status_code == 404:
                    continue
                raise
            if folder and folder.id:
                skipped.add(folder.id)

        found: dict[str, str] = {}
        queue: list[tuple[str | None, str]] = [(None, "")]
        while queue:
            parent, path = queue.pop()
            if parent is None:
                answer = await client.me.mail_folders.get()
            else:
                answer = await client.me.mail_folders.by_mail_folder_id(
                    parent
                ).child_folders.get()
            while answer is not None:
                for folder in answer.value or []:
                    if not folder.id or folder.id in skipped:
                        continue
                    name = (
                        f"{path}/{folder.display_name}"
                        if path
                        else str(folder.display_name)
                    )
                    found[folder.id] = name
                    if folder.child_folder_count:
                        queue.append((folder.id, name))
                if not answer.odata_next_link:
                    break
                answer = await client.me.mail_folders.with_url(
                    answer.odata_next_link
                ).get()

        return {
            folder_id: {
                "name": name,
                "delta": known.get(folder_id, {}).get("delta"),
                "next": known.get(folder_id, {}).get("next"),
            }
            for folder_id, name in found.items()
        }

    async def _delta_page(
        self,
        client: GraphServiceClient,
        request: PullRequest,
        folder_id: str,
        folders: dict[str, dict[str, Any]],
    ) -> tuple[PullPage, list[Seen]]:
        state = folders[folder_id]
        builder = client.me.mail_folders.by_mail_folder_id(folder_id).messages.delta
        config = RequestConfiguration[Any]()
        config.headers.add("Prefer", IMMUTABLE_IDS)
        config.headers.add("Prefer", f"odata.maxpagesize={DELTA_PAGE_SIZE}")
        link = state.get("next") or state.get("delta")
        try:
            if link:
                answer = await builder.with_url(link).get(request_configuration=config)
            else:
                since = request.window_start.astimezone(UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                )
                config.query_parameters = (
                    DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
                        select=DELTA_FIELDS, filter=f"receivedDateTime ge {since}"
                    )
                )
                answer = await builder.get(request_configuration=config)
        except ODataError as error:
            if error.response_status_code == 410 or _code(error) in (
                "SyncStateNotFound",
                "syncStateNotFound",
                "SyncStateInvalid",
                "syncStateInvalid",
            ):
                # A stale delta link: this folder is read again from the
                # window's start; the engine skips what it already has.
                logger.info("a Graph delta link expired; re-listing that folder")
                state["delta"] = state["next"] = None
                return PullPage(), []
            raise
        if answer is None:
            raise ProviderError("Graph answered a delta request with nothing.")

        page = PullPage()
        candidates: list[Seen] = []
        for item in answer.value or []:
            removed = (item.additional_data or {}).get("@removed")
            if removed is not None:
                page.removed.append(str(item.id))
                continue
            if item.is_draft:
                continue
            page.restored.append(str(item.id))
            page.examined += 1
            candidates.append(
                (
                    FetchedMessage(
                        provider_message_id=str(item.id),
                        provider_thread_id=item.conversation_id or "",
                        raw=b"",
                        folder=state["name"],
                    ),
                    _participants(item),
                )
            )

        state["next"] = answer.odata_next_link
        if answer.odata_delta_link:
            state["delta"] = answer.odata_delta_link
        return page, candidates

    async def _mime(self, client: GraphServiceClient, message_id: str) -> bytes | None:
        config = RequestConfiguration[Any]()
        config.headers.add("Prefer", IMMUTABLE_IDS)
        try:
            return await client.me.messages.by_message_id(message_id).content.get(
                request_configuration=config
            )
        except ODataError as error:
            if error.response_status_code == 404:
                logger.info("an Outlook message vanished before it was fetched")
                return None
            raise

    # Send -------------------------------------------------------------------

    def send(self, email: OutgoingEmail, *, attempt: int) -> SentEmail:
        return self._run(lambda client: self._send(client, email, attempt))

    async def _send(
        self, client: GraphServiceClient, email: OutgoingEmail, attempt: int
    ) -> SentEmail:
        # sendMail answers 202 with no id, so the mail is created as a draft
        # first: its immutable id and Message-ID identify the sent copy, and
        # a retry after a crash finds it instead of sending it again.
        draft: GraphMessage | None = None
        if attempt > 1:
            # An interrupted try may have got as far as the Outbox or Sent
            # Items (Graph files the sent copy a moment later): anything
            # with our Message-ID outside Drafts was sent.
            earlier = await self._find(client, email.message_id)
            if earlier is not None:
                drafts = await client.me.mail_folders.by_mail_folder_id("drafts").get()
                if drafts is None or earlier.parent_folder_id != drafts.id:
                    return SentEmail(str(earlier.id), earlier.conversation_id or "")
                draft = earlier

        if draft is None:
            draft = await self._create_mime_draft(client, email.raw)
            uploaded: Counter[str] = Counter()
        else:
            # The interrupted try may have uploaded some of the files: a file
            # is on the draft once its upload finished, so only the others
            # go up again.
            uploaded = await self._attachment_names(client, str(draft.id))
        for filename, content_type, content in email.large_attachments:
            if uploaded[filename]:
                uploaded[filename] -= 1
                continue
            await self._upload_attachment(
                client, str(draft.id), filename, content_type, content
            )

        config = RequestConfiguration[Any]()
        config.headers.add("Prefer", IMMUTABLE_IDS)
        await client.me.messages.by_message_id(str(draft.id)).send.post(
            request_configuration=config
        )
        return SentEmail(str(draft.id), draft.conversation_id or "")

    async def _find(
        self, client: GraphServiceClient, message_id: str
    ) -> GraphMessage | None:
        """The mailbox's message with this Message-ID, in any folder."""
        quoted = message_id.replace("'", "''")
        query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
            filter=f"internetMessageId eq '{quoted}'",
            select=["id", "conversationId", "isDraft", "parentFolderId"],
        )
        config = RequestConfiguration[Any](query_parameters=query)
        config.headers.add("Prefer", IMMUTABLE_IDS)
        answer = await client.me.messages.get(request_configuration=config)
        found = answer.value if answer else None
        return found[0] if found else None

    async def _attachment_names(
        self, client: GraphServiceClient, draft_id: str
    ) -> Counter[str]:
        """How many attachments of each file name the draft holds."""
        query = AttachmentsRequestBuilder.AttachmentsRequestBuilderGetQueryParameters(
            select=["id", "name"]
        )
        config = RequestConfiguration[Any](query_parameters=query)
        config.headers.add("Prefer", IMMUTABLE_IDS)
        attachments = client.me.messages.by_message_id(draft_id).attachments
        answer = await attachments.get(request_configuration=config)
        names: Counter[str] = Counter()
        while answer is not None:
            names.update(item.name or "" for item in answer.value or [])
            if not answer.odata_next_link:
                break
            answer = await attachments.with_url(answer.odata_next_link).get()
        return names

    async def _create_mime_draft(
        self, client: GraphServiceClient, raw: bytes
    ) -> GraphMessage:
        # The SDK's typed methods speak JSON only; Graph takes a draft as
        # base64 MIME (text/plain), which keeps our Message-ID, In-Reply-To
        # and References exactly.
        info = RequestInformation(Method.POST, "{+baseurl}/me/messages")
        info.headers.add("Content-Type", "text/plain")
        info.headers.add("Prefer", IMMUTABLE_IDS)
        info.headers.add("Accept", "application/json")
        info.content = base64.b64encode(raw)
        draft = await client.request_adapter.send_async(
            info,
            GraphMessage,
            {"XXX": ODataError},
        )
        if draft is None or not draft.id:
            raise ProviderError("Graph did not create the draft.")
        return draft

    async def _upload_attachment(
        self,
        client: GraphServiceClient,
        draft_id: str,
        filename: str,
        content_type: str,
        content: bytes,
    ) -> None:
        session = await client.me.messages.by_message_id(
            draft_id
        ).attachments.create_upload_session.post(
            CreateUploadSessionPostRequestBody(
                attachment_item=AttachmentItem(
                    attachment_type=AttachmentType.File,
                    name=filename,
                    size=len(content),
                    content_type=content_type,
                )
            )
        )
        if session is None or not session.upload_url:
            raise ProviderError("Graph did not open an upload session.")
        async with httpx.AsyncClient(timeout=60) as upload:
            for start in range(0, len(content), UPLOAD_CHUNK_BYTES):
                chunk = content[start : start + UPLOAD_CHUNK_BYTES]
                end = start + len(chunk) - 1
                answer = await upload.put(
                    session.upload_url,
                    content=chunk,
                    headers={"Content-Range": f"bytes {start}-{end}/{len(content)}"},
                )
                if answer.status_code >= 400:
                    raise ProviderError(
                        f"Graph refused an attachment chunk ({answer.status_code})."
                    )

    def fetch_raw(self, provider_message_id: str) -> bytes:
        async def read(client: GraphServiceClient) -> bytes:
            raw = await self._mime(client, provider_message_id)
            if raw is None:
                raise ProviderError(
                    "The message is no longer in Outlook.", permanent=True
                )
            return raw

        return self._run(read, sdk_retries=True)

    # Calls ------------------------------------------------------------------

    def _run(
        self,
        call: Callable[[GraphServiceClient], Awaitable[T]],
        *,
        sdk_retries: bool = False,
    ) -> T:
        """Run ``call`` with a fresh client.

        Sync and send leave throttling (429, 503) to the caller's backoff,
        which honours Retry-After without holding a worker asleep; the
        SDK's own retries stay on only for calls a person waits on, which
        have no backoff behind them.
        """

        # The SDK's HTTP client is bound to the loop that first uses it, so
        # each run builds its own client inside its own loop.
        async def run() -> T:
            client = build_graph_client(
                self.base_url, self.access_token, retry=sdk_retries
            )
            return await call(client)

        try:
            return asyncio.run(run())
        except ODataError as error:
            raise graph_error(error) from error
        except httpx.HTTPError as error:
            raise ProviderError(f"Could not reach Microsoft Graph: {error}") from error


def _participants(item: GraphMessage) -> set[str]:
    people = [item.from_, item.sender]
    for group in (item.to_recipients, item.cc_recipients, item.bcc_recipients):
        people += group or []
    return {
        person.email_address.address.lower()
        for person in people
        if person and person.email_address and person.email_address.address
    }


def _caught_up(folders: dict[str, dict[str, Any]]) -> bool:
    """Whether every folder finished its round, with nothing left to page."""
    return all(
        state.get("delta") and not state.get("next") for state in folders.values()
    )


def _to_pending(message: FetchedMessage) -> dict[str, str]:
    return {
        "id": message.provider_message_id,
        "thread": message.provider_thread_id,
        "folder": message.folder,
    }


def _from_pending(item: dict[str, str]) -> FetchedMessage:
    return FetchedMessage(
        provider_message_id=item["id"],
        provider_thread_id=item.get("thread", ""),
        raw=b"",
        folder=item.get("folder", ""),
    )


def _age(iso: str) -> timedelta:
    try:
        return datetime.now(UTC) - datetime.fromisoformat(iso)
    except ValueError:
        return FOLDER_LIST_INTERVAL * 2


def _code(error: ODataError) -> str:
    return (error.error.code or "") if error.error else ""


def graph_error(error: ODataError) -> ProviderError:
    status = error.response_status_code or 0
    code = _code(error)
    if status in TEMPORARY_STATUSES:
        retry_after = None
        headers = getattr(error, "response_headers", None) or {}
        for name, values in dict(headers).items():
            if name.lower() == "retry-after" and values:
                value = next(iter(values)) if not isinstance(values, str) else values
                try:
                    retry_after = float(value)
                except ValueError:
                    retry_after = None
        return ProviderError(
            f"Microsoft Graph answered {status}; retrying later.",
            retry_after=retry_after,
        )
    if status == 401:
        return ProviderError("Microsoft refused the access token.", auth_expired=True)
    if status == 403:
        return ProviderError(
            f"Microsoft refused access ({code or status}): RevStackr lacks a "
            "permission it needs.",
            permanent=True,
        )
    return ProviderError(f"Microsoft Graph answered {status} ({code}).")
