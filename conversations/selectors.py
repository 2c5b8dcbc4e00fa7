"""Reads of threads and messages, as one employee may see them.

Who sees what is decided here, in the queries, so no page can show more
than they allow. Each message's visibility to a viewer is the most open
sharing choice (``Mailbox.sharing``) among the mailboxes that hold it: the
mailboxes of its ``MessageLink`` rows, and for mail written in the CRM the
mailbox it leaves by. The viewer sees everything of mail in their own
mailbox and of mail they wrote. Admins have no override. A thread is as
visible as its most visible message.

- ``everything``: subject, participants, body and attachments.
- ``metadata``: subject and participants; no body, no attachments.
- ``existence``: that a conversation with the contact exists, and nothing
  else. Such messages are left out of a thread's messages altogether.

A message no mailbox holds any more (its mailbox was removed) is treated as
``existence``, the most private choice, unless the viewer wrote it.

What a thread shows is drawn from the messages the viewer may know about
(``everything`` or ``metadata``): its subject, message count and last
activity, and the teammates named beside it, whose mailboxes must share
more than existence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from contacts.models import Contact, ContactEmail
from conversations.models import (
    Attachment,
    Message,
    MessageLink,
    Thread,
    ThreadLink,
    ThreadReadState,
)
from conversations.services import conversation_subject
from mailsync.models import Mailbox

if TYPE_CHECKING:
    from accounts.models import Account, User

EVERYTHING = Mailbox.Sharing.EVERYTHING.value
METADATA = Mailbox.Sharing.METADATA.value
EXISTENCE = Mailbox.Sharing.EXISTENCE.value
SHOWS_SUBJECT = (EVERYTHING, METADATA)

THREADS_PER_PAGE = 25
MESSAGES_PER_PAGE = 20
# Search terms beyond this are ignored; nobody types a paragraph to search.
MAX_SEARCH_CHARS = 200


# Visibility, as query expressions


def _message_visibility(viewer: User) -> Case:
    """The visibility of each row of a Message query to ``viewer``."""
    links = MessageLink.objects.filter(message=OuterRef("pk"))
    own = (
        Q(author=viewer)
        | Q(sending_mailbox__employee=viewer)
        | Exists(links.filter(mailbox__employee=viewer))
    )
    shares_everything = Q(sending_mailbox__sharing=EVERYTHING) | Exists(
        links.filter(mailbox__sharing=EVERYTHING)
    )
    shares_metadata = Q(sending_mailbox__sharing=METADATA) | Exists(
        links.filter(mailbox__sharing=METADATA)
    )
    return Case(
        When(own | shares_everything, then=Value(EVERYTHING)),
        When(shares_metadata, then=Value(METADATA)),
        default=Value(EXISTENCE),
        output_field=CharField(),
    )


def _thread_visibility(viewer: User) -> Case:
    """The visibility of each row of a Thread query: its most open message."""
    messages = Message.objects.filter(thread=OuterRef("pk"))
    links = MessageLink.objects.filter(message__thread=OuterRef("pk"))
    everything = Exists(
        messages.filter(
            Q(author=viewer)
            | Q(sending_mailbox__employee=viewer)
            | Q(sending_mailbox__sharing=EVERYTHING)
        )
    ) | Exists(
        links.filter(Q(mailbox__employee=viewer) | Q(mailbox__sharing=EVERYTHING))
    )
    metadata = Exists(messages.filter(sending_mailbox__sharing=METADATA)) | Exists(
        links.filter(mailbox__sharing=METADATA)
    )
    return Case(
        When(everything, then=Value(EVERYTHING)),
        When(metadata, then=Value(METADATA)),
        default=Value(EXISTENCE),
        output_field=CharField(),
    )


def _visible_messages(viewer: User, account: Account) -> QuerySet[Message]:
    return Message.objects.for_account(account).annotate(
        visibility=_message_visibility(viewer)
    )


def _known_messages(viewer: User) -> QuerySet[Message]:
    """The messages of the outer Thread query's row that ``viewer`` may know
    about: those whose subject and participants they may see."""
    return (
        Message.objects.filter(thread=OuterRef("pk"))
        .alias(visibility=_message_visibility(viewer))
        .filter(visibility__in=SHOWS_SUBJECT)
        .order_by()
    )


def _known_count(viewer: User) -> Coalesce:
    counted = _known_messages(viewer).values("thread").annotate(count=Count("pk"))
    return Coalesce(Subquery(counted.values("count")), 0)


def _known_last_activity(viewer: User) -> Subquery:
    """As ``Thread.last_message_at``, of the known messages only: the latest
    date sent, or for mail not sent yet, when it was written."""
    latest = (
        _known_messages(viewer)
        .values("thread")
        .annotate(latest=Coalesce(Max("sent_at"), Max("created_at")))
    )
    return Subquery(latest.values("latest"))


def _first_known_subject(viewer: User) -> Subquery:
    """The subject of the first stored message the viewer may know about."""
    return Subquery(_known_messages(viewer).order_by("pk").values("subject")[:1])


def _shown_subject(thread: Thread) -> str:
    """The thread's subject, when every message is known to the viewer;
    otherwise the first known message's, so a private message that started
    the thread lends it nothing."""
    known: int = thread.known_count  # type: ignore[attr-defined]
    if known == thread.message_count:
        return thread.subject
    first: str | None = thread.first_known_subject  # type: ignore[attr-defined]
    return conversation_subject(first or "")


def _shown_links(viewer: User) -> Q:
    """Links (of a thread or a message) whose mailbox owner may be named to
    the viewer: their own, or one that shares more than existence."""
    return Q(mailbox__employee=viewer) | Q(mailbox__sharing__in=SHOWS_SUBJECT)


# Thread lists


@dataclass
class ThreadRow:
    """One line of a thread list, holding only what the viewer may see."""

    id: int
    visibility: str
    subject: str
    last_message_at: datetime | None
    message_count: int | None
    contacts: list[Contact]
    teammates: list[str]
    unread: bool

    @property
    def is_private(self) -> bool:
        return self.visibility == EXISTENCE


def _thread_rows(viewer: User, threads: QuerySet[Thread]) -> QuerySet[Thread]:
    """Annotate and prefetch what ``ThreadRow`` needs, in a fixed number of
    queries whatever the number of threads or messages."""
    read_at = ThreadReadState.objects.filter(
        thread=OuterRef("pk"), employee=viewer
    ).values("read_at")[:1]
    # TODO: the list is ordered by the activity of all of a thread's
    # messages, so a private message still moves its thread up a teammate's
    # list; ordering by known activity needs a per-viewer summary to stay
    # fast.
    return (
        threads.annotate(
            visibility=_thread_visibility(viewer),
            read_at=Subquery(read_at),
            known_count=_known_count(viewer),
            known_last_activity=_known_last_activity(viewer),
            first_known_subject=_first_known_subject(viewer),
        )
        .prefetch_related(
            Prefetch(
                "contacts",
                queryset=Contact.objects.prefetch_related("emails").order_by(
                    "last_name", "first_name", "pk"
                ),
            ),
            Prefetch(
                "links",
                queryset=ThreadLink.objects.filter(_shown_links(viewer)).select_related(
                    "mailbox__employee"
                ),
                to_attr="shown_links",
            ),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-pk")
    )


def _as_row(thread: Thread) -> ThreadRow:
    visibility: str = thread.visibility  # type: ignore[attr-defined]
    read_at: datetime | None = thread.read_at  # type: ignore[attr-defined]
    known_count: int = thread.known_count  # type: ignore[attr-defined]
    last: datetime | None = thread.known_last_activity  # type: ignore[attr-defined]
    links: list[ThreadLink] = thread.shown_links  # type: ignore[attr-defined]
    private = visibility == EXISTENCE
    teammates = sorted({str(link.mailbox.employee) for link in links})
    return ThreadRow(
        id=thread.pk,
        visibility=visibility,
        subject="" if private else _shown_subject(thread),
        last_message_at=last,
        message_count=None if private else known_count,
        contacts=list(thread.contacts.all()),
        teammates=[] if private else teammates,
        unread=read_at is None or (last is not None and last > read_at),
    )


def _page_of_rows(
    viewer: User, threads: QuerySet[Thread], number: int | str | None
) -> Page[ThreadRow]:
    page = Paginator(_thread_rows(viewer, threads), THREADS_PER_PAGE).get_page(number)
    rows = [_as_row(thread) for thread in page.object_list]
    return Page(rows, page.number, page.paginator)  # type: ignore[arg-type]


def contact_threads(
    *, viewer: User, contact: Contact, number: int | str | None = 1
) -> Page[ThreadRow]:
    """A page of the contact's threads, newest activity first."""
    threads = Thread.objects.for_account(contact.account).filter(
        threadcontact__contact=contact
    )
    return _page_of_rows(viewer, threads, number)


@dataclass(frozen=True)
class InboxFilter:
    mine: bool = False
    unread: bool = False
    query: str = ""


def inbox_threads(
    *, viewer: User, account: Account, filters: InboxFilter
) -> QuerySet[Thread]:
    """The account's threads the filters pick, before rows are built."""
    threads: QuerySet[Thread] = Thread.objects.for_account(account)
    if filters.mine:
        threads = threads.filter(
            Exists(
                MessageLink.objects.filter(
                    message__thread=OuterRef("pk"), mailbox__employee=viewer
                )
            )
            | Exists(
                Message.objects.filter(thread=OuterRef("pk")).filter(
                    Q(author=viewer) | Q(sending_mailbox__employee=viewer)
                )
            )
        )
    if filters.unread:
        # Unread as the list marks it: known activity after the last read.
        read = ThreadReadState.objects.filter(
            thread=OuterRef("pk"),
            employee=viewer,
            read_at__gte=Coalesce(
                OuterRef("known_last_activity"), OuterRef("created_at")
            ),
        )
        threads = threads.alias(
            known_last_activity=_known_last_activity(viewer)
        ).filter(~Exists(read))
    query = " ".join(filters.query.split())[:MAX_SEARCH_CHARS]
    if query:
        threads = _search(viewer, threads, query)
    return threads


def inbox_page(
    *,
    viewer: User,
    account: Account,
    filters: InboxFilter,
    number: int | str | None = 1,
) -> Page[ThreadRow]:
    """A page of the Conversations list, newest activity first."""
    threads = inbox_threads(viewer=viewer, account=account, filters=filters)
    return _page_of_rows(viewer, threads, number)


def _search(viewer: User, threads: QuerySet[Thread], query: str) -> QuerySet[Thread]:
    """Threads whose subject, contacts or message text match ``query``.

    Subjects count only of messages whose subject the viewer may see, and
    message text only of messages whose body they may read, so a search
    never reveals what the thread list would not.
    """
    words = query.split()
    contact_match = Q()
    for word in words:
        contact_match &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(company__icontains=word)
            | Q(
                Exists(
                    ContactEmail.objects.filter(
                        contact=OuterRef("pk"), normalized__icontains=word
                    )
                )
            )
        )
    contacts = Contact.objects.filter(contact_match).filter(
        threadcontact__thread=OuterRef("pk")
    )

    readable = Message.objects.filter(thread=OuterRef("pk")).annotate(
        visibility=_message_visibility(viewer)
    )
    readable = readable.filter(Q(visibility=EVERYTHING))
    text_match: QuerySet[Message]
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        text_match = readable.alias(search_document=message_search_document()).filter(
            search_document=SearchQuery(
                query, config=SEARCH_CONFIG, search_type="websearch"
            )
        )
    else:
        text_match = readable.filter(text_body__icontains=query)

    # A thread's subject is one of its messages', without reply prefixes.
    subject_match = _known_messages(viewer).filter(subject__icontains=query)
    return threads.filter(Exists(subject_match) | Exists(contacts) | Exists(text_match))


# The text search configuration: "simple" lower-cases words without
# stemming, which suits mail in any language.
SEARCH_CONFIG = "simple"


def message_search_document() -> Any:
    """The full-text document of a message, as the index of migration 0003
    builds it (PostgreSQL only)."""
    from django.contrib.postgres.search import SearchVector

    return SearchVector("subject", "text_body", config=SEARCH_CONFIG)


def list_fingerprint(*, viewer: User, threads: QuerySet[Thread]) -> str:
    """What a list poll compares: it changes when a thread of the list has
    new activity, joins or leaves it, or is read."""
    summary = threads.order_by().aggregate(
        count=Count("pk"), latest=Max("last_message_at")
    )
    read = ThreadReadState.objects.filter(employee=viewer).aggregate(
        latest=Max("read_at")
    )
    return _digest(summary["count"], summary["latest"], read["latest"])


def _digest(*parts: object) -> str:
    text = "|".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# One thread


@dataclass
class ThreadView:
    thread: Thread
    visibility: str
    contacts: list[Contact]

    @property
    def subject(self) -> str:
        return "" if self.visibility == EXISTENCE else _shown_subject(self.thread)

    @property
    def is_private(self) -> bool:
        return self.visibility == EXISTENCE


def thread_for(*, viewer: User, account: Account, thread_id: int) -> ThreadView:
    """The thread, or Http404 when it is not the account's."""
    thread = (
        Thread.objects.for_account(account)
        .annotate(
            visibility=_thread_visibility(viewer),
            known_count=_known_count(viewer),
            first_known_subject=_first_known_subject(viewer),
        )
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.prefetch_related("emails"))
        )
        .filter(pk=thread_id)
        .first()
    )
    if thread is None:
        raise Http404("No such thread in this account.")
    return ThreadView(
        thread=thread,
        visibility=thread.visibility,
        contacts=list(thread.contacts.all()),
    )


@dataclass
class MessageView:
    """One message as the viewer may see it; hidden parts are left empty."""

    id: int
    visibility: str
    direction: str
    status: str
    status_label: str
    failure_reason: str
    at: datetime
    subject: str
    sender_name: str
    sender_address: str
    to: list[dict[str, str]]
    cc: list[dict[str, str]]
    # The teammates whose mailboxes hold it, or who wrote it.
    teammates: list[str]
    text_body: str
    has_html: bool
    has_remote_images: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    written_by_viewer: bool = False

    @property
    def shows_body(self) -> bool:
        return self.visibility == EVERYTHING

    @property
    def is_pending(self) -> bool:
        return self.status in (Message.Status.QUEUED, Message.Status.SENDING)

    @property
    def is_failed(self) -> bool:
        return self.status == Message.Status.FAILED

    @property
    def sender(self) -> str:
        if self.sender_name:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_address


@dataclass
class MessagePage:
    messages: list[MessageView]
    has_earlier: bool
    # Messages of the thread the viewer may not know about.
    private_count: int = 0

    @property
    def first_id(self) -> int | None:
        return self.messages[0].id if self.messages else None


def _thread_messages(viewer: User, thread: Thread) -> QuerySet[Message]:
    messages = (
        Message.objects.filter(account_id=thread.account_id, thread=thread)
        .annotate(
            visibility=_message_visibility(viewer),
            sort_at=Coalesce("sent_at", "created_at"),
        )
        .exclude(visibility=EXISTENCE)
    )
    # Bodies are read only for messages the viewer may read.
    return (
        messages.defer("text_body", "html_body", "references", "parse_problems")
        .annotate(
            shown_text=Case(
                When(visibility=EVERYTHING, then=F("text_body")),
                default=Value(""),
                output_field=CharField(),
            ),
            shows_html=Case(
                When(Q(visibility=EVERYTHING) & ~Q(html_body=""), then=Value(True)),
                default=Value(False),
            ),
        )
        .select_related("author", "sending_mailbox__employee")
        .prefetch_related(
            Prefetch(
                "links",
                queryset=MessageLink.objects.filter(
                    _shown_links(viewer)
                ).select_related("mailbox__employee"),
                to_attr="shown_links",
            ),
            Prefetch("attachments", queryset=Attachment.objects.order_by("pk")),
        )
    )


def thread_messages(
    *,
    viewer: User,
    thread: Thread,
    before_id: int | None = None,
    since_id: int | None = None,
    limit: int = MESSAGES_PER_PAGE,
) -> MessagePage:
    """The thread's latest messages the viewer may know about, oldest first.

    ``before_id`` gives the ``limit`` messages before that one ("load
    earlier"); ``since_id`` gives every message from that one on (a poll
    of what is already on the page, plus what arrived).
    """
    messages = _thread_messages(viewer, thread)
    newest_first = messages.order_by("-sort_at", "-pk")

    if before_id is not None:
        anchor = _sort_key(thread, before_id)
        newest_first = newest_first.filter(
            Q(sort_at__lt=anchor[0]) | Q(sort_at=anchor[0], pk__lt=anchor[1])
        )
    if since_id is not None:
        anchor = _sort_key(thread, since_id)
        rows = list(
            newest_first.filter(
                Q(sort_at__gt=anchor[0]) | Q(sort_at=anchor[0], pk__gte=anchor[1])
            )
        )
        has_earlier = False
    else:
        rows = list(newest_first[: limit + 1])
        has_earlier = len(rows) > limit
        rows = rows[:limit]

    private_count = 0
    if before_id is None and since_id is None:
        private_count = thread.message_count - messages.count()
    return MessagePage(
        messages=[_as_message_view(viewer, message) for message in reversed(rows)],
        has_earlier=has_earlier,
        private_count=max(private_count, 0),
    )


def _sort_key(thread: Thread, message_id: int) -> tuple[datetime, int]:
    row = (
        Message.objects.filter(thread=thread, pk=message_id)
        .annotate(sort_at=Coalesce("sent_at", "created_at"))
        .values_list("sort_at", "pk")
        .first()
    )
    if row is None:
        raise Http404("No such message in this thread.")
    return row


def _as_message_view(viewer: User, message: Message) -> MessageView:
    visibility: str = message.visibility  # type: ignore[attr-defined]
    links: list[MessageLink] = message.shown_links  # type: ignore[attr-defined]
    teammates = {str(link.mailbox.employee) for link in links}
    if message.author is not None:
        teammates = {str(message.author)}
    return MessageView(
        id=message.pk,
        visibility=visibility,
        direction=message.direction,
        status=message.status,
        status_label=_status_label(message),
        failure_reason=message.failure_reason,
        at=message.sort_at,  # type: ignore[attr-defined]
        subject=message.subject,
        sender_name=message.sender_name,
        sender_address=message.sender_address,
        to=list(message.to),
        cc=list(message.cc),
        teammates=sorted(teammates),
        text_body=message.shown_text,  # type: ignore[attr-defined]
        has_html=message.shows_html,  # type: ignore[attr-defined]
        has_remote_images=message.has_remote_images,
        attachments=list(message.attachments.all()) if visibility == EVERYTHING else [],
        written_by_viewer=message.author_id == viewer.pk,
    )


def _status_label(message: Message) -> str:
    if message.status in (Message.Status.QUEUED, Message.Status.SENDING):
        return "Sending"
    return str(message.get_status_display())


def thread_fingerprint(*, viewer: User, thread: Thread) -> str:
    """What a thread poll compares: it changes when a message arrives, is
    sent or fails, or when a mailbox's sharing changes what is visible."""
    summary = (
        _visible_messages(viewer, thread.account)
        .filter(thread=thread)
        .exclude(Q(visibility=EXISTENCE))
        .aggregate(
            count=Count("pk"),
            newest=Max("pk"),
            latest=Max("sent_at"),
            pending=Count(
                "pk",
                filter=Q(status__in=[Message.Status.QUEUED, Message.Status.SENDING]),
            ),
            failed=Count("pk", filter=Q(status=Message.Status.FAILED)),
            readable=Count("pk", filter=Q(visibility=EVERYTHING)),
        )
    )
    return _digest(*sorted(summary.items()))


# One message's parts


def readable_message(*, viewer: User, account: Account, message_id: int) -> Message:
    """A message whose body the viewer may read, or Http404."""
    message = (
        _visible_messages(viewer, account)
        .filter(Q(pk=message_id) & Q(visibility=EVERYTHING))
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    return message


def repliable_message(*, viewer: User, account: Account, message_id: int) -> Message:
    """A message the viewer may answer: one whose participants they see."""
    message = (
        _visible_messages(viewer, account)
        .filter(Q(pk=message_id) & Q(visibility__in=SHOWS_SUBJECT))
        .select_related("thread")
        .first()
    )
    if message is None:
        raise Http404("No such message.")
    return message


def readable_attachment(
    *, viewer: User, account: Account, attachment_id: int
) -> Attachment:
    """An attachment of a message the viewer may read, or Http404."""
    readable = _visible_messages(viewer, account).filter(Q(visibility=EVERYTHING))
    attachment = (
        Attachment.objects.filter(pk=attachment_id, message__in=readable)
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment


def own_failed_message(*, viewer: User, account: Account, message_id: int) -> Message:
    """A message the viewer wrote, which failed to send, or Http404."""
    message = (
        Message.objects.for_account(account)
        .filter(
            pk=message_id,
            author=viewer,
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.FAILED,
        )
        .first()
    )
    if message is None:
        raise Http404("No such failed message of yours.")
    return message


# Composing


def current_mailbox(*, employee: User) -> Mailbox | None:
    """The employee's current mailbox, connected or not."""
    return Mailbox.objects.filter(employee=employee, is_current=True).first()


def sending_mailbox(*, employee: User) -> Mailbox | None:
    """The mailbox the employee's email leaves by, when it is connected."""
    mailbox = current_mailbox(employee=employee)
    if mailbox is None or not mailbox.is_connected:
        return None
    return mailbox


def contact_ids_for(*, account: Account, addresses: Sequence[str]) -> list[int]:
    """The account's contacts that own any of ``addresses``."""
    normalized = {address.strip().lower() for address in addresses}
    return list(
        ContactEmail.objects.filter(account=account, normalized__in=normalized)
        .values_list("contact_id", flat=True)
        .distinct()
    )


def reply_recipients(message: Message) -> list[str]:
    """Who a reply to ``message`` goes to: the other party."""
    if message.direction == Message.Direction.INBOUND:
        return [message.sender_address] if message.sender_address else []
    return [person["address"] for person in message.to]
