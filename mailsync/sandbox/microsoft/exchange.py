"""Mailboxes, folders and messages: the Exchange behind the Graph routes.

Callers hold ``sandbox.lock`` around every method that changes state. Each
change of a message takes the mailbox's next sequence number, and each
message that leaves a folder leaves a ``Removal`` behind, which is what
delta queries read.
"""

from __future__ import annotations

import base64
import copy
import secrets
import uuid
from collections.abc import Iterable

from mailsync.sandbox.core import Clock
from mailsync.sandbox.microsoft.mime import ParsedMime, html_to_text
from mailsync.sandbox.microsoft.state import (
    ROOT_FOLDER,
    WELL_KNOWN_FOLDERS,
    Attachment,
    EmailAddress,
    Folder,
    Message,
    MicrosoftState,
    Removal,
    User,
    opaque_id,
    tenant_id_for,
)


class MailboxError(Exception):
    """A request Exchange refuses; ``code`` is Graph's error code."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Exchange:
    def __init__(self, state: MicrosoftState, clock: Clock) -> None:
        self.state = state
        self.clock = clock
        self._rest_ids: dict[str, str] = {}
        self.rebuild_index()

    def rebuild_index(self) -> None:
        self._rest_ids = {
            message.rest_id: message.immutable_id
            for user in self.state.users.values()
            for message in user.messages.values()
        }

    # Mailboxes and folders ---------------------------------------------------

    def create_mailbox(
        self,
        *,
        address: str,
        display_name: str,
        given_name: str = "",
        surname: str = "",
        proxy_addresses: Iterable[str] = (),
    ) -> User:
        if self.state.user_by_address(address) is not None:
            raise MailboxError(
                "ErrorObjectAlreadyExists", f"{address} already has a mailbox", 409
            )
        first, _, last = display_name.partition(" ")
        proxies = [f"SMTP:{address}"] + [
            proxy if ":" in proxy else f"smtp:{proxy}" for proxy in proxy_addresses
        ]
        user = User(
            id=str(uuid.uuid4()),
            address=address,
            display_name=display_name,
            given_name=given_name or first,
            surname=surname or last,
            tenant_id=tenant_id_for(address),
            mail_nickname=address.split("@", 1)[0],
            proxy_addresses=proxies,
        )
        root = Folder(
            id=opaque_id("AQMkAD", 30),
            display_name="Top of Information Store",
            parent_id=opaque_id("AQMkAD", 30),
            well_known_name=ROOT_FOLDER,
        )
        user.folders[root.id] = root
        for well_known_name, name in WELL_KNOWN_FOLDERS.items():
            folder = Folder(
                id=opaque_id("AQMkAD", 30),
                display_name=name,
                parent_id=root.id,
                well_known_name=well_known_name,
            )
            user.folders[folder.id] = folder
        self.state.users[user.id] = user
        return user

    def folder(self, user: User, reference: str) -> Folder | None:
        """Find a folder by id or by well-known name (``inbox``, ...)."""
        if reference in user.folders:
            return user.folders[reference]
        lowered = reference.lower()
        for folder in user.folders.values():
            if folder.well_known_name == lowered:
                return folder
        return None

    def well_known(self, user: User, name: str) -> Folder:
        folder = self.folder(user, name)
        assert folder is not None, name
        return folder

    def child_folders(self, user: User, parent: Folder) -> list[Folder]:
        children = [
            folder for folder in user.folders.values() if folder.parent_id == parent.id
        ]
        return sorted(children, key=lambda folder: folder.display_name.lower())

    def create_folder(
        self, user: User, parent: Folder, display_name: str, is_hidden: bool = False
    ) -> Folder:
        for sibling in self.child_folders(user, parent):
            if sibling.display_name.lower() == display_name.lower():
                raise MailboxError(
                    "ErrorFolderExists",
                    "A folder with the specified name already exists.",
                    409,
                )
        folder = Folder(
            id=opaque_id("AAMkAD", 30),
            display_name=display_name,
            parent_id=parent.id,
            is_hidden=is_hidden,
        )
        user.folders[folder.id] = folder
        return folder

    def messages_in(self, user: User, folder: Folder) -> list[Message]:
        return [
            message
            for message in user.messages.values()
            if message.folder_id == folder.id
        ]

    # Messages ----------------------------------------------------------------

    def find_message(self, user: User, message_id: str) -> Message | None:
        """Find a message by its default id or its immutable id."""
        immutable_id = self._rest_ids.get(message_id, message_id)
        return user.messages.get(immutable_id)

    def find_by_internet_message_id(
        self, user: User, internet_message_id: str
    ) -> list[Message]:
        return [
            message
            for message in user.messages.values()
            if message.internet_message_id == internet_message_id
        ]

    def new_message(
        self,
        user: User,
        folder: Folder,
        *,
        subject: str = "",
        body_type: str = "text",
        body: str = "",
        from_: EmailAddress | None = None,
        to: Iterable[EmailAddress] = (),
        cc: Iterable[EmailAddress] = (),
        bcc: Iterable[EmailAddress] = (),
        reply_to: Iterable[EmailAddress] = (),
        internet_message_id: str | None = None,
        in_reply_to: str | None = None,
        references: Iterable[str] = (),
        custom_headers: Iterable[dict[str, str]] = (),
        is_draft: bool = False,
        is_read: bool = False,
        received: float | None = None,
        sent: float | None = None,
        mime_b64: str | None = None,
        text_body: str | None = None,
    ) -> Message:
        """Store a new message in ``folder``, threaded by its headers."""
        now = self.clock.now()
        references = list(references)
        conversation_id, conversation_index = self.thread(user, in_reply_to, references)
        message = Message(
            immutable_id=opaque_id("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A"),
            rest_id=opaque_id("AAMkAGI2"),
            folder_id=folder.id,
            internet_message_id=internet_message_id or new_internet_message_id(),
            conversation_id=conversation_id,
            conversation_index=conversation_index,
            created=now,
            modified=now,
            received=received if received is not None else now,
            change_key=_change_key(),
            subject=subject,
            body_type=body_type,
            body=body,
            text_body=text_body if text_body is not None else _plain(body_type, body),
            from_=from_,
            sender=from_,
            to=list(to),
            cc=list(cc),
            bcc=list(bcc),
            reply_to=list(reply_to),
            sent=sent,
            is_read=is_read,
            is_draft=is_draft,
            custom_headers=list(custom_headers),
            in_reply_to=in_reply_to,
            references=references,
            mime_b64=mime_b64,
        )
        self._store(user, message)
        return message

    def message_from_mime(
        self,
        user: User,
        folder: Folder,
        parsed: ParsedMime,
        raw: bytes | None,
        *,
        is_draft: bool = False,
        is_read: bool = False,
        received: float | None = None,
    ) -> Message:
        message = self.new_message(
            user,
            folder,
            subject=parsed.subject,
            body_type="html" if parsed.html is not None else "text",
            body=parsed.html if parsed.html is not None else parsed.text,
            text_body=parsed.text,
            from_=parsed.from_,
            to=parsed.to,
            cc=parsed.cc,
            bcc=parsed.bcc,
            reply_to=parsed.reply_to,
            internet_message_id=parsed.message_id,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            custom_headers=parsed.custom_headers,
            is_draft=is_draft,
            is_read=is_read,
            received=received,
            sent=parsed.sent,
            mime_b64=base64.b64encode(raw).decode() if raw is not None else None,
        )
        message.sender = parsed.sender
        for attachment in parsed.attachments:
            self.add_attachment(
                message,
                name=attachment.name,
                content_type=attachment.content_type,
                content=attachment.content,
                is_inline=attachment.is_inline,
                content_id=attachment.content_id,
            )
        return message

    def copy_to_mailbox(self, source: Message, user: User, folder: Folder) -> Message:
        """Deliver a copy of ``source`` to another mailbox, threaded there."""
        now = self.clock.now()
        conversation_id, conversation_index = self.thread(
            user, source.in_reply_to, source.references
        )
        delivered = copy.deepcopy(source)
        delivered.immutable_id = opaque_id("AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A")
        delivered.rest_id = opaque_id("AAMkAGI2")
        delivered.folder_id = folder.id
        delivered.conversation_id = conversation_id
        delivered.conversation_index = conversation_index
        delivered.created = delivered.modified = delivered.received = now
        delivered.change_key = _change_key()
        delivered.is_read = False
        delivered.is_draft = False
        delivered.bcc = []
        delivered.categories = []
        for attachment in delivered.attachments:
            attachment.id = opaque_id("AAMkAGI2", 24)
        self._store(user, delivered)
        return delivered

    def add_attachment(
        self,
        message: Message,
        *,
        name: str,
        content_type: str,
        content: bytes,
        is_inline: bool = False,
        content_id: str | None = None,
    ) -> Attachment:
        attachment = Attachment(
            id=opaque_id("AAMkAGI2", 24),
            name=name,
            content_type=content_type or "application/octet-stream",
            content_b64=base64.b64encode(content).decode(),
            last_modified=self.clock.now(),
            is_inline=is_inline,
            content_id=content_id,
        )
        message.attachments.append(attachment)
        return attachment

    def touch(self, user: User, message: Message) -> None:
        """Record a change to ``message`` so delta queries report it."""
        user.seq += 1
        message.seq = user.seq
        message.modified = self.clock.now()
        message.change_key = _change_key()

    def move(self, user: User, message: Message, folder: Folder) -> None:
        """Move a message; its default id changes, as on Exchange Online."""
        if folder.id == message.folder_id:
            return
        reason = "changed" if folder.well_known_name == "deleteditems" else "deleted"
        self._remember_removal(user, message, reason)
        del self._rest_ids[message.rest_id]
        message.rest_id = opaque_id("AAMkAGI2")
        message.folder_id = folder.id
        self._rest_ids[message.rest_id] = message.immutable_id
        self.touch(user, message)

    def delete(self, user: User, message: Message) -> None:
        """Delete permanently, as a hard delete or emptying Deleted Items."""
        self._remember_removal(user, message, "deleted")
        del user.messages[message.immutable_id]
        self._rest_ids.pop(message.rest_id, None)

    def thread(
        self, user: User, in_reply_to: str | None, references: list[str]
    ) -> tuple[str, str]:
        """Return the conversation id and index a message gets in ``user``.

        A message joins the conversation of the nearest message it refers
        to (In-Reply-To, then References from the newest); otherwise it
        starts a new conversation. The index grows by five bytes per reply,
        as Outlook's Thread-Index does.
        """
        for parent_id in [in_reply_to, *reversed(references)]:
            if not parent_id:
                continue
            for parent in self.find_by_internet_message_id(user, parent_id):
                index = base64.b64decode(parent.conversation_index)
                reply_index = index + secrets.token_bytes(5)
                return parent.conversation_id, base64.b64encode(reply_index).decode()
        root_index = b"\x01" + secrets.token_bytes(21)
        return opaque_id("AAQkAD", 30), base64.b64encode(root_index).decode()

    def expire_sync_state(self, users: Iterable[User]) -> None:
        """Make every delta token issued so far for these mailboxes stale."""
        for user in users:
            for folder in user.folders.values():
                folder.sync_epoch += 1
                folder.removals.clear()

    def _store(self, user: User, message: Message) -> None:
        user.messages[message.immutable_id] = message
        self._rest_ids[message.rest_id] = message.immutable_id
        user.seq += 1
        message.seq = user.seq

    def _remember_removal(self, user: User, message: Message, reason: str) -> None:
        user.seq += 1
        user.folders[message.folder_id].removals.append(
            Removal(
                seq=user.seq,
                rest_id=message.rest_id,
                immutable_id=message.immutable_id,
                reason=reason,
            )
        )


def new_internet_message_id() -> str:
    # Shaped like Exchange Online's: a unique local part at a server name.
    server = "SB1PR01MB" + secrets.token_hex(2).upper()
    return f"<{secrets.token_hex(12).upper()}@{server}.sandbox.outlook.com>"


def _change_key() -> str:
    return "CQAAABYAAA" + base64.b64encode(secrets.token_bytes(12)).decode()


def _plain(body_type: str, body: str) -> str:
    return html_to_text(body) if body_type == "html" else body
