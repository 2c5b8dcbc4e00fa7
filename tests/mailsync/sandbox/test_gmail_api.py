"""The Gmail stand-in through google-api-python-client: shapes, behaviour."""

from __future__ import annotations

import base64
import io
import json
from email.message import EmailMessage
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseUpload

from mailsync.sandbox import Sandbox
from mailsync.sandbox.google import GoogleProvider
from mailsync.sandbox.google.control_client import GoogleSandboxControl
from tests.mailsync.sandbox.gmail_schema import FETCHED_MESSAGE, assert_matches
from tests.mailsync.sandbox.google_fixtures import (
    GMAIL_METADATA,
    GMAIL_READONLY,
    GMAIL_SEND,
)

CONTACT = "Amy Buyer <amy@contoso.test>"


def _raw(message: EmailMessage) -> str:
    return base64.urlsafe_b64encode(message.as_bytes()).decode()


def _outgoing(
    to: str, subject: str, text: str = "Hello", **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def _header(resource: dict[str, Any], name: str) -> str:
    for header in resource["payload"]["headers"]:
        if header["name"].lower() == name.lower():
            return str(header["value"])
    raise KeyError(name)


def test_profile_labels_and_send_as(gmail: Any, owner: str) -> None:
    profile = gmail.users().getProfile(userId=owner).execute()
    labels = gmail.users().labels().list(userId="me").execute()
    send_as = gmail.users().settings().sendAs().list(userId="me").execute()

    assert_matches(profile, "Profile")
    assert_matches(labels, "ListLabelsResponse")
    assert_matches(send_as, "ListSendAsResponse")
    assert profile["emailAddress"] == owner
    assert {"INBOX", "SENT", "SPAM", "TRASH", "CATEGORY_FORUMS"} <= {
        label["id"] for label in labels["labels"]
    }
    assert [alias["sendAsEmail"] for alias in send_as["sendAs"]] == [
        owner,
        "sales@revstackr.test",
    ]


def test_delivered_message_in_every_format(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    [delivered] = google.deliver(
        from_=CONTACT,
        to=owner,
        subject="Quote",
        text="Here's the quote.",
        html="<p>Here's the <b>quote</b>.</p>",
        attachments=[
            {"filename": "quote.pdf", "content_type": "application/pdf", "text": "%PDF"}
        ],
    )
    messages = gmail.users().messages()

    full = messages.get(userId="me", id=delivered["id"]).execute()
    metadata = messages.get(
        userId="me", id=delivered["id"], format="metadata", metadataHeaders=["Subject"]
    ).execute()
    minimal = messages.get(userId="me", id=delivered["id"], format="minimal").execute()
    raw = messages.get(userId="me", id=delivered["id"], format="raw").execute()

    for fmt, resource in [
        ("full", full),
        ("metadata", metadata),
        ("minimal", minimal),
        ("raw", raw),
    ]:
        assert_matches(
            resource, "Message", required=(*FETCHED_MESSAGE[fmt], "labelIds")
        )
    assert full["labelIds"] == ["INBOX", "UNREAD", "CATEGORY_PERSONAL"]
    assert full["snippet"] == "Here&#39;s the quote."
    assert full["payload"]["mimeType"] == "multipart/mixed"
    alternative, attachment = full["payload"]["parts"]
    assert [part["partId"] for part in alternative["parts"]] == ["0.0", "0.1"]
    text = base64.urlsafe_b64decode(alternative["parts"][0]["body"]["data"])
    assert text == b"Here's the quote.\n"
    assert attachment["filename"] == "quote.pdf"
    assert [h["name"] for h in metadata["payload"]["headers"]] == ["Subject"]
    assert "payload" not in minimal
    assert b"Subject: Quote" in base64.urlsafe_b64decode(raw["raw"])
    assert int(full["internalDate"]) > 0 and len(full["id"]) == 16

    body = (
        messages.attachments()
        .get(
            userId="me",
            messageId=delivered["id"],
            id=attachment["body"]["attachmentId"],
        )
        .execute()
    )
    assert_matches(body, "MessagePartBody")
    assert base64.urlsafe_b64decode(body["data"]) == b"%PDF"


def test_send_keeps_message_id_lands_in_sent_once_and_reaches_recipients(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.create_user("bob@revstackr.test", "Bob")
    message = _outgoing(
        "amy@contoso.test, bob@revstackr.test",
        "Proposal",
        Message_ID="<crm-1@revstackr.test>",
    )

    sent = (
        gmail.users()
        .messages()
        .send(userId="me", body={"raw": _raw(message)})
        .execute()
    )

    assert_matches(sent, "Message", required=("labelIds",))
    assert sent["labelIds"] == ["SENT"]
    in_sent = google.messages(owner, label="SENT")
    assert [m["id"] for m in in_sent] == [sent["id"]]
    assert in_sent[0]["rfc822MessageId"] == "<crm-1@revstackr.test>"
    assert in_sent[0]["headers"]["From"] == "Sam Seller <sam@revstackr.test>"
    [bobs] = google.messages("bob@revstackr.test")
    assert bobs["labelIds"] == ["INBOX", "UNREAD", "CATEGORY_PERSONAL"]
    assert bobs["rfc822MessageId"] == "<crm-1@revstackr.test>"
    [outside] = google.outbound()
    assert outside["recipients"] == ["amy@contoso.test"]


def test_send_adds_a_message_id_when_missing(gmail: Any, owner: str) -> None:
    sent = (
        gmail.users()
        .messages()
        .send(userId="me", body={"raw": _raw(_outgoing("amy@contoso.test", "Hi"))})
        .execute()
    )

    full = gmail.users().messages().get(userId="me", id=sent["id"]).execute()
    assert _header(full, "Message-ID").startswith("<")


@pytest.mark.parametrize("with_metadata", [False, True])
def test_send_through_the_upload_url(
    gmail: Any, owner: str, google: GoogleSandboxControl, with_metadata: bool
) -> None:
    first = (
        gmail.users()
        .messages()
        .send(userId="me", body={"raw": _raw(_outgoing("amy@contoso.test", "Upload"))})
        .execute()
    )
    message = _outgoing("amy@contoso.test", "Re: Upload", "big body " * 1000)
    media = MediaIoBaseUpload(io.BytesIO(message.as_bytes()), mimetype="message/rfc822")
    body = {"threadId": first["threadId"]} if with_metadata else None

    sent = (
        gmail.users()
        .messages()
        .send(userId="me", body=body, media_body=media)
        .execute()
    )

    assert sent["labelIds"] == ["SENT"]
    assert (sent["threadId"] == first["threadId"]) is with_metadata
    stored = (
        gmail.users().messages().get(userId="me", id=sent["id"], format="raw").execute()
    )
    assert base64.urlsafe_b64decode(stored["raw"]).endswith(message.as_bytes()[-500:])


def test_insert_and_import_keep_labels_and_choose_the_date(
    gmail: Any, owner: str
) -> None:
    message = _outgoing(owner, "Old news", Date="Mon, 01 Jan 2024 10:00:00 +0000")
    message["From"] = CONTACT

    inserted = (
        gmail.users()
        .messages()
        .insert(userId="me", body={"raw": _raw(message), "labelIds": ["INBOX"]})
        .execute()
    )
    imported = (
        gmail.users()
        .messages()
        .import_(
            userId="me", body={"raw": _raw(message), "labelIds": ["INBOX", "UNREAD"]}
        )
        .execute()
    )

    assert inserted["labelIds"] == ["INBOX"]
    assert imported["labelIds"] == ["INBOX", "UNREAD"]
    got = gmail.users().messages().get(userId="me", id=imported["id"]).execute()
    assert got["internalDate"] == "1704103200000"
    with pytest.raises(HttpError) as refused:
        gmail.users().messages().insert(
            userId="me", body={"raw": _raw(message), "labelIds": ["NOPE"]}
        ).execute()
    assert refused.value.status_code == 400


def test_reply_joins_the_thread_and_a_new_subject_does_not(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    [first] = google.deliver(
        from_=CONTACT, to=owner, subject="Pricing", text="How much?"
    )
    reply = _outgoing(
        "amy@contoso.test",
        "RE: Pricing",
        In_Reply_To=first["rfc822MessageId"],
        References=first["rfc822MessageId"],
    )
    other = _outgoing(
        "amy@contoso.test",
        "Something else",
        In_Reply_To=first["rfc822MessageId"],
    )

    sent_reply = (
        gmail.users().messages().send(userId="me", body={"raw": _raw(reply)}).execute()
    )
    sent_other = (
        gmail.users().messages().send(userId="me", body={"raw": _raw(other)}).execute()
    )
    [answer] = google.deliver(
        from_=CONTACT, to=owner, in_reply_to=sent_reply["id"], text="Thanks"
    )

    assert sent_reply["threadId"] == first["threadId"]
    assert sent_other["threadId"] != first["threadId"]
    assert answer["threadId"] == first["threadId"]
    thread = gmail.users().threads().get(userId="me", id=first["threadId"]).execute()
    assert_matches(thread, "Thread")
    assert [m["id"] for m in thread["messages"]] == [
        first["id"],
        sent_reply["id"],
        answer["id"],
    ]


def test_list_pages_newest_first_and_hides_spam_and_trash(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    ids = [
        google.deliver(
            from_=CONTACT, to=owner, subject=f"n{i}", text="x", date=1_700_000_000 + i
        )[0]["id"]
        for i in range(5)
    ]
    google.deliver(from_=CONTACT, to=owner, subject="spam", text="x", labels=["SPAM"])
    gmail.users().messages().trash(userId="me", id=ids[0]).execute()

    seen: list[str] = []
    token = None
    while True:
        page = (
            gmail.users()
            .messages()
            .list(userId="me", maxResults=2, pageToken=token)
            .execute()
        )
        assert_matches(page, "ListMessagesResponse", required=("messages",))
        seen += [m["id"] for m in page["messages"]]
        token = page.get("nextPageToken")
        if token is None:
            break

    assert seen == ids[:0:-1]
    everything = (
        gmail.users().messages().list(userId="me", includeSpamTrash=True).execute()
    )
    assert everything["resultSizeEstimate"] == 6
    only_trash = (
        gmail.users().messages().list(userId="me", labelIds=["TRASH"]).execute()
    )
    assert [m["id"] for m in only_trash["messages"]] == [ids[0]]


def test_history_records_adds_label_changes_and_deletes(
    make_gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    # Deleting for good needs Gmail's full scope.
    gmail = make_gmail(owner, ["https://mail.google.com/"])
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    [delivered] = google.deliver(from_=CONTACT, to=owner, subject="a", text="x")
    gmail.users().messages().modify(
        userId="me", id=delivered["id"], body={"removeLabelIds": ["UNREAD"]}
    ).execute()
    gmail.users().messages().delete(userId="me", id=delivered["id"]).execute()

    history = gmail.users().history().list(userId="me", startHistoryId=start).execute()
    added_only = (
        gmail.users()
        .history()
        .list(userId="me", startHistoryId=start, historyTypes=["messageAdded"])
        .execute()
    )
    paged = (
        gmail.users()
        .history()
        .list(userId="me", startHistoryId=start, maxResults=1)
        .execute()
    )

    assert_matches(history, "ListHistoryResponse", required=("history",))
    assert_matches(paged, "ListHistoryResponse", required=("nextPageToken",))
    kinds = [
        next(key for key in entry if key not in ("id", "messages"))
        for entry in history["history"]
    ]
    assert kinds == ["messagesAdded", "labelsRemoved", "messagesDeleted"]
    assert history["history"][1]["labelsRemoved"][0]["labelIds"] == ["UNREAD"]
    assert int(history["historyId"]) == int(start) + 3
    assert len(added_only["history"]) == 1
    assert len(paged["history"]) == 1 and "nextPageToken" in paged


def test_history_before_the_oldest_kept_id_is_not_found(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    start = gmail.users().getProfile(userId="me").execute()["historyId"]
    google.deliver(from_=CONTACT, to=owner, subject="a", text="x")

    google.expire_history(owner)

    with pytest.raises(HttpError) as expired:
        gmail.users().history().list(userId="me", startHistoryId=start).execute()
    assert expired.value.status_code == 404
    current = gmail.users().getProfile(userId="me").execute()["historyId"]
    assert (
        "history"
        not in gmail.users()
        .history()
        .list(userId="me", startHistoryId=current)
        .execute()
    )


def test_batch_runs_each_call_and_counts_each_against_quota(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    ids = [
        google.deliver(from_=CONTACT, to=owner, subject=str(i), text="x")[0]["id"]
        for i in range(3)
    ]
    answers: dict[str, Any] = {}

    def collect(request_id: str, response: Any, error: Exception | None) -> None:
        answers[request_id] = error or response

    batch = gmail.new_batch_http_request(callback=collect)
    for message_id in [*ids, "0000000000000000"]:
        batch.add(
            gmail.users().messages().get(userId="me", id=message_id, format="minimal")
        )
    batch.execute()

    assert [answers[str(i)]["id"] for i in range(1, 4)] == ids
    assert isinstance(answers["4"], HttpError) and answers["4"].status_code == 404
    [row] = [
        r for r in google.counters() if r["operation"] == "gmail.users.messages.get"
    ]
    assert row == {**row, "calls": 4, "units": 80, "mailbox": owner}


def test_threads_list_and_watch(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    [first] = google.deliver(from_=CONTACT, to=owner, subject="T", text="one")
    google.deliver(from_=CONTACT, to=owner, in_reply_to=first["id"], text="two")

    threads = gmail.users().threads().list(userId="me").execute()
    watch = (
        gmail.users()
        .watch(userId="me", body={"topicName": "projects/p/topics/t"})
        .execute()
    )
    gmail.users().stop(userId="me").execute()

    assert_matches(threads, "ListThreadsResponse")
    assert_matches(watch, "WatchResponse")
    assert [t["id"] for t in threads["threads"]] == [first["threadId"]]
    assert threads["threads"][0]["snippet"] == "two"


def test_scopes_limit_what_a_token_can_do(make_gmail: Any, owner: str) -> None:
    reader = make_gmail(owner, [GMAIL_READONLY])
    sender = make_gmail(owner, [GMAIL_SEND])

    reader.users().messages().list(userId="me").execute()
    with pytest.raises(HttpError) as no_send:
        reader.users().messages().send(
            userId="me", body={"raw": _raw(_outgoing("a@b.test", "x"))}
        ).execute()
    with pytest.raises(HttpError) as no_read:
        sender.users().messages().list(userId="me").execute()

    for refused in (no_send.value, no_read.value):
        assert refused.status_code == 403
        assert refused.error_details[0]["reason"] == "insufficientPermissions"


def test_another_users_mailbox_is_refused(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.create_user("bob@revstackr.test", "Bob")

    with pytest.raises(HttpError) as refused:
        gmail.users().getProfile(userId="bob@revstackr.test").execute()

    assert refused.value.status_code == 403


def test_partial_response_with_fields(
    gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.deliver(from_=CONTACT, to=owner, subject="f", text="x")

    page = gmail.users().messages().list(userId="me", fields="messages(id)").execute()

    assert list(page) == ["messages"] and list(page["messages"][0]) == ["id"]


def test_state_survives_dump_and_load(
    sandbox: Sandbox, gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    google.deliver(from_=CONTACT, to=owner, subject="kept", text="x")
    provider = next(p for p in sandbox.providers if isinstance(p, GoogleProvider))
    dumped = json.loads(json.dumps(provider.dump()))

    provider.reset()
    provider.load(dumped)

    listed = gmail.users().messages().list(userId="me").execute()
    assert listed["resultSizeEstimate"] == 1


def test_metadata_scope_reads_headers_but_not_bodies(
    make_gmail: Any, owner: str, google: GoogleSandboxControl
) -> None:
    gmail = make_gmail(owner, [GMAIL_METADATA])
    [delivered] = google.deliver(from_=CONTACT, to=owner, subject="m", text="secret")

    metadata = (
        gmail.users()
        .messages()
        .get(userId="me", id=delivered["id"], format="metadata")
        .execute()
    )
    with pytest.raises(HttpError) as no_body:
        gmail.users().messages().get(userId="me", id=delivered["id"]).execute()
    with pytest.raises(HttpError) as no_search:
        gmail.users().messages().list(userId="me", q="secret").execute()

    assert _header(metadata, "Subject") == "m"
    assert no_body.value.status_code == 403
    assert no_search.value.status_code == 403


def test_batch_of_more_than_100_calls_is_refused(gmail: Any, owner: str) -> None:
    batch = gmail.new_batch_http_request()
    for _ in range(101):
        batch.add(gmail.users().getProfile(userId="me"))

    with pytest.raises(HttpError) as refused:
        batch.execute()

    assert refused.value.status_code == 400
