"""The Gmail methods the stand-in serves, by HTTP method and path.

Paths are those of the discovery document under ``/gmail/v1``; the methods
that take a message body are also served under Google's media upload
prefix ``/upload/gmail/v1``.
"""

from __future__ import annotations

from mailsync.sandbox.google import messages, sending, users
from mailsync.sandbox.google.api import Handler

USERS = "/gmail/v1/users/<user_id>"
UPLOAD = "/upload/gmail/v1/users/<user_id>"

GMAIL_ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", f"{USERS}/profile", "gmail.users.getProfile", users.get_profile),
    ("POST", f"{USERS}/watch", "gmail.users.watch", users.watch),
    ("POST", f"{USERS}/stop", "gmail.users.stop", users.stop),
    ("GET", f"{USERS}/history", "gmail.users.history.list", users.list_history),
    ("GET", f"{USERS}/labels", "gmail.users.labels.list", users.list_labels),
    ("POST", f"{USERS}/labels", "gmail.users.labels.create", users.add_label),
    ("GET", f"{USERS}/labels/<id>", "gmail.users.labels.get", users.get_label),
    (
        "GET",
        f"{USERS}/settings/sendAs",
        "gmail.users.settings.sendAs.list",
        users.list_send_as,
    ),
    ("GET", f"{USERS}/messages", "gmail.users.messages.list", messages.list_messages),
    (
        "POST",
        f"{USERS}/messages",
        "gmail.users.messages.insert",
        sending.insert_message,
    ),
    (
        "POST",
        f"{USERS}/messages/send",
        "gmail.users.messages.send",
        sending.send_message,
    ),
    (
        "POST",
        f"{USERS}/messages/import",
        "gmail.users.messages.import",
        sending.import_message,
    ),
    (
        "POST",
        f"{USERS}/messages/batchModify",
        "gmail.users.messages.batchModify",
        messages.batch_modify,
    ),
    ("GET", f"{USERS}/messages/<id>", "gmail.users.messages.get", messages.get_message),
    (
        "DELETE",
        f"{USERS}/messages/<id>",
        "gmail.users.messages.delete",
        messages.remove_message,
    ),
    (
        "POST",
        f"{USERS}/messages/<id>/modify",
        "gmail.users.messages.modify",
        messages.modify_message,
    ),
    (
        "POST",
        f"{USERS}/messages/<id>/trash",
        "gmail.users.messages.trash",
        messages.trash_message,
    ),
    (
        "POST",
        f"{USERS}/messages/<id>/untrash",
        "gmail.users.messages.untrash",
        messages.untrash_message,
    ),
    (
        "GET",
        f"{USERS}/messages/<message_id>/attachments/<id>",
        "gmail.users.messages.attachments.get",
        messages.get_attachment,
    ),
    ("GET", f"{USERS}/threads", "gmail.users.threads.list", messages.list_threads),
    ("GET", f"{USERS}/threads/<id>", "gmail.users.threads.get", messages.get_thread),
    (
        "POST",
        f"{USERS}/threads/<id>/modify",
        "gmail.users.threads.modify",
        messages.modify_thread,
    ),
    (
        "POST",
        f"{USERS}/threads/<id>/trash",
        "gmail.users.threads.trash",
        messages.trash_thread,
    ),
    (
        "POST",
        f"{USERS}/threads/<id>/untrash",
        "gmail.users.threads.untrash",
        messages.untrash_thread,
    ),
    (
        "POST",
        f"{UPLOAD}/messages/send",
        "gmail.users.messages.send",
        sending.send_message,
    ),
    (
        "POST",
        f"{UPLOAD}/messages",
        "gmail.users.messages.insert",
        sending.insert_message,
    ),
    (
        "POST",
        f"{UPLOAD}/messages/import",
        "gmail.users.messages.import",
        sending.import_message,
    ),
]
