"""Graph handlers for the profile, mail folders, messages and attachments."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from mailsync.sandbox.microsoft.api import Call, field_of
from mailsync.sandbox.microsoft.compose import add_file_attachment, apply_fields
from mailsync.sandbox.microsoft.errors import bad_request, not_found
from mailsync.sandbox.microsoft.mime import build_mime
from mailsync.sandbox.microsoft.odata import (
    check_filter_and_orderby,
    next_link,
    parse_filter,
    parse_int,
    parse_orderby,
    parse_select,
    shape,
    sort_resources,
)
from mailsync.sandbox.microsoft.resources import (
    DEFAULT_FOLDER_PROPERTIES,
    DEFAULT_MESSAGE_PROPERTIES,
    DEFAULT_USER_PROPERTIES,
    attachment_resource,
    folder_resource,
    message_resource,
    user_resource,
)
from mailsync.sandbox.microsoft.state import ROOT_FOLDER, Folder, Message

ATTACHMENT_PROPERTIES = (
    "lastModifiedDateTime",
    "name",
    "contentType",
    "size",
    "isInline",
    "contentId",
    "contentLocation",
    "contentBytes",
)


# Profile ---------------------------------------------------------------------


def get_profile(call: Call) -> Response:
    body = shape(
        user_resource(call.user),
        DEFAULT_USER_PROPERTIES,
        parse_select(call.args),
        "user",
    )
    body["@odata.context"] = call.context("users/$entity")
    return call.answer(body)


# Folders ---------------------------------------------------------------------


def list_folders(call: Call) -> Response:
    root = call.folder(ROOT_FOLDER)
    return _folder_collection(call, root, "mailFolders")


def list_child_folders(call: Call) -> Response:
    parent = call.folder()
    return _folder_collection(
        call, parent, f"users('{call.user.id}')/mailFolders('{parent.id}')/childFolders"
    )


def get_folder(call: Call) -> Response:
    folder = call.folder()
    body = shape(
        _folder_json(call, folder),
        DEFAULT_FOLDER_PROPERTIES,
        parse_select(call.args),
        "mailFolder",
    )
    body["@odata.context"] = call.context(
        f"users('{call.user.id}')/mailFolders/$entity"
    )
    return call.answer(body)


def create_folder(call: Call) -> Response:
    parent = call.folder() if "folder" in call.params else call.folder(ROOT_FOLDER)
    body = call.json_body()
    name = field_of(body, "displayName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("The folder's displayName is required.")
    folder = call.provider.exchange.create_folder(
        call.user, parent, name.strip(), bool(field_of(body, "isHidden", False))
    )
    answer = _folder_json(call, folder)
    answer["@odata.context"] = call.context(
        f"users('{call.user.id}')/mailFolders/$entity"
    )
    return call.answer(answer, status=201)


def _folder_collection(call: Call, parent: Folder, context: str) -> Response:
    include_hidden = call.args.get("includeHiddenFolders", "").lower() == "true"
    children = [
        folder
        for folder in call.provider.exchange.child_folders(call.user, parent)
        if include_hidden or not folder.is_hidden
    ]
    return collection(
        call,
        [_folder_json(call, folder) for folder in children],
        defaults=DEFAULT_FOLDER_PROPERTIES,
        type_name="mailFolder",
        context=call.context(context),
    )


def _folder_json(call: Call, folder: Folder) -> dict[str, Any]:
    exchange = call.provider.exchange
    return folder_resource(
        folder,
        children=len(exchange.child_folders(call.user, folder)),
        messages=exchange.messages_in(call.user, folder),
    )


# Messages --------------------------------------------------------------------


def list_messages(call: Call) -> Response:
    exchange = call.provider.exchange
    if "folder" in call.params:
        folder = call.folder()
        messages = exchange.messages_in(call.user, folder)
        context = f"users('{call.user.id}')/mailFolders('{folder.id}')/messages"
    else:
        messages = list(call.user.messages.values())
        context = f"users('{call.user.id}')/messages"
    select = parse_select(call.args)
    messages.sort(key=lambda message: (message.received, message.seq), reverse=True)
    return collection(
        call,
        [message_resource(message, call.preferences, select) for message in messages],
        defaults=DEFAULT_MESSAGE_PROPERTIES,
        type_name="message",
        context=call.context(context + _select_suffix(select)),
        default_order=[("receivedDateTime", True)],
    )


def get_message(call: Call) -> Response:
    return message_answer(call, call.message())


def message_answer(call: Call, message: Message, status: int = 200) -> Response:
    select = parse_select(call.args)
    body = shape(
        message_resource(message, call.preferences, select),
        DEFAULT_MESSAGE_PROPERTIES,
        select,
        "message",
    )
    body["@odata.context"] = call.context(
        f"users('{call.user.id}')/messages{_select_suffix(select)}/$entity"
    )
    return call.answer(body, status=status)


def update_message(call: Call) -> Response:
    message = call.message()
    apply_fields(call.provider.exchange, call.user, message, call.json_body())
    call.provider.exchange.touch(call.user, message)
    return message_answer(call, message)


def delete_message(call: Call) -> Response:
    """Move to Deleted Items, or delete for good from there, as Outlook."""
    exchange = call.provider.exchange
    message = call.message()
    deleted_items = exchange.well_known(call.user, "deleteditems")
    if message.folder_id == deleted_items.id:
        exchange.delete(call.user, message)
    else:
        exchange.move(call.user, message, deleted_items)
    return Response(status=204)


def move_message(call: Call) -> Response:
    message = call.message()
    destination = field_of(call.json_body(), "destinationId")
    if not isinstance(destination, str):
        raise bad_request("The destinationId parameter is required.")
    folder = call.provider.exchange.folder(call.user, destination)
    if folder is None:
        raise not_found("The specified folder could not be found in the store.")
    call.provider.exchange.move(call.user, message, folder)
    return message_answer(call, message, status=201)


def get_mime(call: Call) -> Response:
    return Response(build_mime(call.message()), content_type="text/plain")


# Attachments -----------------------------------------------------------------


def list_attachments(call: Call) -> Response:
    message = call.message()
    return collection(
        call,
        [attachment_resource(attachment) for attachment in message.attachments],
        defaults=ATTACHMENT_PROPERTIES,
        type_name="attachment",
        context=call.context(
            f"users('{call.user.id}')/messages('{message.rest_id}')/attachments"
        ),
    )


def get_attachment(call: Call) -> Response:
    attachment = _attachment(call)
    body = shape(
        attachment_resource(attachment),
        ATTACHMENT_PROPERTIES,
        parse_select(call.args),
        "attachment",
    )
    body["@odata.context"] = call.context("attachments/$entity")
    return call.answer(body)


def get_attachment_value(call: Call) -> Response:
    attachment = _attachment(call)
    return Response(
        base64.b64decode(attachment.content_b64), content_type=attachment.content_type
    )


def add_attachment(call: Call) -> Response:
    message = call.message()
    added = add_file_attachment(call.provider.exchange, message, call.json_body())
    call.provider.exchange.touch(call.user, message)
    attachment = next(item for item in message.attachments if item.id == added["id"])
    body = attachment_resource(attachment)
    body["@odata.context"] = call.context("attachments/$entity")
    return call.answer(body, status=201)


def delete_attachment(call: Call) -> Response:
    message = call.message()
    attachment = _attachment(call)
    message.attachments.remove(attachment)
    call.provider.exchange.touch(call.user, message)
    return Response(status=204)


def _attachment(call: Call) -> Any:
    message = call.message()
    for attachment in message.attachments:
        if attachment.id == call.params["attachment"]:
            return attachment
    raise not_found()


# Collections -----------------------------------------------------------------


def collection(
    call: Call,
    resources: list[dict[str, Any]],
    *,
    defaults: Iterable[str],
    type_name: str,
    context: str,
    default_order: list[tuple[str, bool]] | None = None,
) -> Response:
    """Filter, sort, page and shape a collection, with a nextLink."""
    args = call.args
    select = parse_select(args)
    where = parse_filter(args.get("$filter"))
    orderby = parse_orderby(args.get("$orderby"))
    if where is not None:
        check_filter_and_orderby(where.properties, orderby)

    matching = [item for item in resources if where is None or where(item)]
    matching = sort_resources(matching, orderby or default_order or [])
    if args.get("$search"):
        raise bad_request("The sandbox does not support $search; use $filter.")
    top = max(1, min(parse_int(args, "$top", 10), 1000))
    skip = parse_int(args, "$skip", 0)
    page = matching[skip : skip + top]

    body: dict[str, Any] = {"@odata.context": context}
    if args.get("$count", "").lower() == "true":
        body["@odata.count"] = len(matching)
    body["value"] = [shape(item, defaults, select, type_name) for item in page]
    if skip + top < len(matching):
        body["@odata.nextLink"] = next_link(call.request.base_url, args, skip + top)
    return call.answer(body)


def _select_suffix(select: list[str] | None) -> str:
    return f"({quote(','.join(select), safe=',')})" if select else ""
