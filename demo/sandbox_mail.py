"""Put the demo's mail in the provider sandbox, through its control surface.

``seed_demo_mailboxes`` creates Gina's Gmail and Owen's Outlook with their
history (``demo.history``) once; ``deliver_live_reply`` has a demo contact
answer a thread of a connected mailbox, so a visitor sees the sync at work.
"""

from __future__ import annotations

import random
import re
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, make_msgid, parseaddr

from demo.history import (
    ARCHIVE,
    DEMO_MAILBOXES,
    INBOX,
    LIVE_REPLIES,
    DemoMailbox,
    HistoryThread,
)
from demo.services import DEMO_CONTACTS
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from mailsync.sandbox.microsoft.control_client import MicrosoftSandboxControl

DAY = 86400.0
REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv)\s*:\s*)+", re.IGNORECASE)
# A message the owner sent this recently and nobody answered yet is the
# first a live reply goes to: most likely the visitor just wrote it.
FRESH_SECONDS = DAY
OUTLOOK_SKIPPED_FOLDERS = {
    "deleteditems",
    "junkemail",
    "drafts",
    "outbox",
    "conversationhistory",
}
GMAIL_SKIPPED_LABELS = {"SPAM", "TRASH", "DRAFT"}


def wait_for_sandbox(sandbox_url: str, *, seconds: float = 30) -> bool:
    """Wait until the sandbox answers on its control surface."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(  # noqa: S310 (the sandbox's own URL)
                f"{sandbox_url}/_control/clock", timeout=2
            ):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def seed_demo_mailboxes(*, sandbox_url: str, now: float | None = None) -> list[str]:
    """Create each demo mailbox with its history, unless the sandbox (or
    the state file it restored) already has it; return those created."""
    now = time.time() if now is None else now
    google = GoogleSandboxControl(sandbox_url)
    created: list[str] = []

    with MicrosoftSandboxControl(sandbox_url) as microsoft:
        existing = {user["address"].lower() for user in google.users()} | {
            str(user["address"]).lower() for user in microsoft.users()
        }
        for mailbox in DEMO_MAILBOXES:
            if mailbox.address in existing:
                continue
            if mailbox.provider == "gmail":
                _seed_gmail(google, mailbox, now)
            else:
                _seed_outlook(microsoft, mailbox, now)
            created.append(mailbox.address)

    if created:
        # Keep the history even if the sandbox is killed before its own
        # periodic save.
        request = urllib.request.Request(  # noqa: S310
            f"{sandbox_url}/_control/save", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
    return created


@dataclass(frozen=True)
class _Step:
    at: float
    thread: HistoryThread
    index: int


def _in_time_order(mailbox: DemoMailbox, now: float) -> list[_Step]:
    """Every message of the history, oldest first, so that the mailbox's
    change log reads like the real thing."""
    steps = [
        _Step(now - message.days_ago * DAY, thread, index)
        for thread in mailbox.threads
        for index, message in enumerate(thread.messages)
    ]
    return sorted(steps, key=lambda step: step.at)


def _body(mailbox: DemoMailbox, thread: HistoryThread, index: int) -> str:
    message = thread.messages[index]
    party_name = parseaddr(thread.party)[0]
    if message.from_owner:
        greeting, signature = party_name.split()[0], mailbox.name.split()[0]
    else:
        greeting, signature = mailbox.name.split()[0], party_name
    return f"Hi {greeting},\n\n{message.text}\n\nBest,\n{signature}\n"


def _subject(thread: HistoryThread, index: int) -> str:
    return thread.subject if index == 0 else f"Re: {thread.subject}"


def _seed_gmail(google: GoogleSandboxControl, mailbox: DemoMailbox, now: float) -> None:
    google.create_user(mailbox.address, mailbox.name)
    labels = {t.folder for t in mailbox.threads} - {INBOX, ARCHIVE}
    for label in sorted(labels):
        google.create_label(mailbox.address, label)

    previous: dict[str, str] = {}  # subject -> Gmail id of the thread's last
    for step in _in_time_order(mailbox, now):
        thread = step.thread
        from_owner = thread.messages[step.index].from_owner
        if from_owner:
            placement = {"labels": ["SENT"], "archived": True}
        elif thread.folder == INBOX:
            placement = {}
        elif thread.folder == ARCHIVE:
            placement = {"archived": True}
        else:
            placement = {"labels": [thread.folder], "archived": True}
        reply = {"in_reply_to": previous[thread.subject]} if step.index else {}

        delivered = google.deliver(
            from_=mailbox.sender if from_owner else thread.party,
            to=[thread.party if from_owner else mailbox.sender],
            mailbox=mailbox.address,
            subject=_subject(thread, step.index),
            text=_body(mailbox, thread, step.index),
            date=step.at,
            **placement,
            **reply,
        )
        previous[thread.subject] = delivered[0]["id"]


def _seed_outlook(
    microsoft: MicrosoftSandboxControl, mailbox: DemoMailbox, now: float
) -> None:
    microsoft.create_user(mailbox.address, mailbox.name)
    folders = {t.folder for t in mailbox.threads} - {INBOX, ARCHIVE}
    for folder in sorted(folders):
        microsoft.create_folder(mailbox.address, folder, parent="inbox")

    previous: dict[str, str] = {}  # subject -> Message-ID of the thread's last
    for step in _in_time_order(mailbox, now):
        thread = step.thread
        from_owner = thread.messages[step.index].from_owner
        sender = mailbox.sender if from_owner else thread.party
        message_id = make_msgid(domain=parseaddr(sender)[1].partition("@")[2])

        microsoft.deliver(
            mailbox.address,
            sender=sender,
            to=[thread.party if from_owner else mailbox.sender],
            subject=_subject(thread, step.index),
            text=_body(mailbox, thread, step.index),
            folder="sentitems" if from_owner else thread.folder,
            reply_to_internet_message_id=previous.get(thread.subject),
            message_id=message_id,
            received_at=datetime.fromtimestamp(step.at, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        )
        previous[thread.subject] = message_id


# The live mail ---------------------------------------------------------------


@dataclass(frozen=True)
class _Latest:
    """The newest message of a thread that involves a demo contact."""

    reference: str  # Gmail id or Internet Message-ID, what a reply points at
    subject: str
    contact: str  # "Name <address>" of the contact who would answer
    at: float
    from_owner: bool


def _contact_names() -> dict[str, str]:
    return {
        address: f"{person.first_name} {person.last_name}"
        for person in DEMO_CONTACTS
        for address in person.addresses
    }


def _latest_of(
    messages: list[tuple[str, str, str, list[str], str, float]],
    owner: str,
) -> list[_Latest]:
    """Group ``(thread, reference, sender, recipients, subject, at)`` by
    thread and keep the newest message of each thread with a contact."""
    names = _contact_names()
    newest: dict[str, _Latest] = {}
    for thread, reference, sender, recipients, subject, at in messages:
        from_owner = sender == owner
        others = recipients if from_owner else [sender]
        contact = next((a for a in others if a in names), None)
        if contact is None or (thread in newest and newest[thread].at > at):
            continue
        newest[thread] = _Latest(
            reference, subject, f"{names[contact]} <{contact}>", at, from_owner
        )
    return list(newest.values())


def _addresses(value: str) -> list[str]:
    return [address.lower() for _, address in getaddresses([value]) if address]


def _gmail_threads(google: GoogleSandboxControl, owner: str) -> list[_Latest]:
    rows = []
    for message in google.messages(owner):
        if GMAIL_SKIPPED_LABELS & set(message["labelIds"]):
            continue
        headers = message["headers"]
        rows.append(
            (
                str(message["threadId"]),
                str(message["id"]),
                next(iter(_addresses(headers.get("From", ""))), ""),
                _addresses(headers.get("To", "") + "," + headers.get("Cc", "")),
                str(headers.get("Subject", "")),
                int(message["internalDate"]) / 1000,
            )
        )
    return _latest_of(rows, owner)


def _outlook_threads(microsoft: MicrosoftSandboxControl, owner: str) -> list[_Latest]:
    rows = []
    for folder in microsoft.mailbox(owner)["folders"]:
        if folder["well_known_name"] in OUTLOOK_SKIPPED_FOLDERS:
            continue
        for message in folder["messages"]:
            rows.append(
                (
                    str(message["conversation_id"]),
                    str(message["internet_message_id"]),
                    str(message["from"] or "").lower(),
                    [str(a).lower() for a in message["to"] + message["cc"]],
                    str(message["subject"]),
                    datetime.fromisoformat(
                        str(message["received_at"]).replace("Z", "+00:00")
                    ).timestamp(),
                )
            )
    return _latest_of(rows, owner)


def _pick(threads: list[_Latest], rng: random.Random, now: float) -> _Latest | None:
    """The newest fresh email from the owner still waiting for an answer;
    otherwise any thread with a contact."""
    waiting = [t for t in threads if t.from_owner and now - t.at < FRESH_SECONDS]
    if waiting:
        return max(waiting, key=lambda t: t.at)
    return rng.choice(threads) if threads else None


def deliver_live_reply(
    *,
    sandbox_url: str,
    mailboxes: list[tuple[str, str]],
    rng: random.Random,
) -> str | None:
    """Have a demo contact answer a thread in one of ``mailboxes``
    (``(provider, address)`` pairs); say what happened, or None."""
    rng.shuffle(mailboxes)
    google = GoogleSandboxControl(sandbox_url)
    with MicrosoftSandboxControl(sandbox_url) as microsoft:
        for provider, owner in mailboxes:
            owner = owner.lower()
            if provider == "gmail":
                threads = _gmail_threads(google, owner)
            else:
                threads = _outlook_threads(microsoft, owner)
            chosen = _pick(threads, rng, time.time())
            if chosen is None:
                continue

            subject = "Re: " + REPLY_PREFIX.sub("", chosen.subject)
            name = chosen.contact.split()[0]
            text = f"Hi,\n\n{rng.choice(LIVE_REPLIES)}\n\nBest,\n{name}\n"
            if provider == "gmail":
                google.deliver(
                    from_=chosen.contact,
                    to=[owner],
                    mailbox=owner,
                    subject=subject,
                    text=text,
                    in_reply_to=chosen.reference,
                )
            else:
                microsoft.deliver(
                    owner,
                    sender=chosen.contact,
                    to=[owner],
                    subject=subject,
                    text=text,
                    reply_to_internet_message_id=chosen.reference,
                )
            return f"{chosen.contact} answered {subject!r} in {owner}"
    return None
