"""The Conversations pages: the team's threads, one thread, the composer,
framed message bodies and attachment downloads.

Every page needs the Conversations permission and reads through
``conversations.selectors``, which apply the mailbox owners' sharing
choices; rows of another account are a 404.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import EmployeeRequest, employee_permission_required
from accounts.tenancy import get_for_account_or_404
from contacts.models import Contact
from conversations import selectors, services
from conversations.forms import ComposeForm, InboxFilterForm, SharingForm, signed_body
from conversations.models import Message
from conversations.sanitize import body_policy, clean_email_html
from mailsync.services.attachments import AttachmentUnavailable, fetch_attachment

conversations_permission = employee_permission_required("accounts.access_conversations")
settings_permission = employee_permission_required("accounts.access_settings")

POLL_SECONDS = 15


# The team's threads


@conversations_permission
@require_GET
def inbox(request: EmployeeRequest) -> HttpResponse:
    search = InboxFilterForm(request.GET)
    filters = search.filters()
    context = _inbox_list(request, filters, _inbox_key(request, filters))
    return render(request, "conversations/inbox.html", {"search": search, **context})


@conversations_permission
@require_GET
def inbox_updates(request: EmployeeRequest) -> HttpResponse:
    """The list again when it changed since the page's ``key``; else 204."""
    filters = InboxFilterForm(request.GET).filters()
    key = _inbox_key(request, filters)
    if key == request.GET.get("key"):
        return HttpResponse(status=204)

    return render(
        request, "conversations/_inbox_list.html", _inbox_list(request, filters, key)
    )


def _inbox_list(
    request: EmployeeRequest, filters: selectors.InboxFilter, key: str
) -> dict[str, Any]:
    """What the inbox's list of threads shows, and how it polls."""
    page = selectors.inbox_page(
        viewer=request.user,
        account=request.account,
        filters=filters,
        number=request.GET.get("page"),
    )
    return {
        "page": page,
        "key": key,
        "filters_query": _filters_query(request),
        "poll_seconds": POLL_SECONDS,
    }


def _filters_query(request: EmployeeRequest) -> str:
    """The list's filters as a query string, without the page or the key."""
    query = request.GET.copy()
    for name in ("key", "page"):
        query.pop(name, None)
    return query.urlencode()


def _inbox_key(request: EmployeeRequest, filters: selectors.InboxFilter) -> str:
    threads = selectors.inbox_threads(
        viewer=request.user, account=request.account, filters=filters
    )
    return selectors.list_fingerprint(viewer=request.user, threads=threads)


# One thread


@conversations_permission
@require_GET
def thread_detail(request: EmployeeRequest, thread_id: int) -> HttpResponse:
    return _render_thread(request, thread_id)


@conversations_permission
@require_GET
def thread_updates(request: EmployeeRequest, thread_id: int) -> HttpResponse:
    """The latest messages again when they changed since ``key``; else 204."""
    view = selectors.thread_for(
        viewer=request.user, account=request.account, thread_id=thread_id
    )
    key = selectors.thread_fingerprint(viewer=request.user, thread=view.thread)
    if key == request.GET.get("key") or view.is_private:
        return HttpResponse(status=204)

    page = selectors.thread_messages(
        viewer=request.user,
        thread=view.thread,
        since_id=_int_or_none(request.GET.get("since")),
    )
    services.mark_thread_read(employee=request.user, thread=view.thread)
    return render(
        request,
        "conversations/_latest_messages.html",
        {"thread": view, "page": page, "key": key, "poll_seconds": POLL_SECONDS},
    )


@conversations_permission
@require_GET
def thread_earlier(request: EmployeeRequest, thread_id: int) -> HttpResponse:
    view = selectors.thread_for(
        viewer=request.user, account=request.account, thread_id=thread_id
    )
    before = _int_or_none(request.GET.get("before"))
    if view.is_private or before is None:
        return HttpResponse(status=204)

    page = selectors.thread_messages(
        viewer=request.user, thread=view.thread, before_id=before
    )
    return render(
        request, "conversations/_earlier_messages.html", {"thread": view, "page": page}
    )


def _render_thread(
    request: EmployeeRequest,
    thread_id: int,
    *,
    reply_to: Message | None = None,
    form: ComposeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = selectors.thread_for(
        viewer=request.user, account=request.account, thread_id=thread_id
    )
    page = selectors.thread_messages(viewer=request.user, thread=view.thread)
    if reply_to is None and not view.is_private:
        reply_to = _latest_repliable(request, page)
    if form is None and reply_to is not None:
        form = ComposeForm(initial=_reply_initial(request, reply_to))

    services.mark_thread_read(employee=request.user, thread=view.thread)
    return render(
        request,
        "conversations/thread.html",
        {
            "thread": view,
            "page": page,
            "key": selectors.thread_fingerprint(
                viewer=request.user, thread=view.thread
            ),
            "poll_seconds": POLL_SECONDS,
            "reply_to": reply_to,
            "form": form,
            "mailbox": selectors.sending_mailbox(employee=request.user),
        },
        status=status,
    )


def _latest_repliable(
    request: EmployeeRequest, page: selectors.MessagePage
) -> Message | None:
    if not page.messages:
        return None
    return selectors.repliable_message(
        viewer=request.user, account=request.account, message_id=page.messages[-1].id
    )


def _reply_initial(request: EmployeeRequest, message: Message) -> dict[str, Any]:
    subject = message.subject
    if not re.match(r"\s*re\s*:", subject, re.I):
        subject = f"Re: {subject}".strip()
    return {
        "to": ", ".join(selectors.reply_recipients(message)),
        "subject": subject,
        "body": signed_body(request.user.signature),
    }


# Writing


@conversations_permission
@require_http_methods(["GET", "POST"])
def reply(request: EmployeeRequest, message_id: int) -> HttpResponse:
    """Answer a message: the reply joins its thread."""
    message = selectors.repliable_message(
        viewer=request.user, account=request.account, message_id=message_id
    )
    if request.method == "GET":
        return _render_thread(request, message.thread_id, reply_to=message)

    form = ComposeForm(request.POST, request.FILES)
    sent = _send(request, form, reply_to=message, contact_ids=[])
    if sent is None:
        return _render_thread(request, message.thread_id, reply_to=message, form=form)
    return redirect(f"{reverse('conversations:thread', args=[sent.thread_id])}#latest")


@conversations_permission
@require_POST
def write_to_contact(request: EmployeeRequest, contact_id: int) -> HttpResponse:
    """Start a new thread with the contact, from their Conversations tab."""
    contact = _get_contact(request, contact_id)
    form = ComposeForm(
        request.POST,
        request.FILES,
        contact_addresses=[email.address for email in contact.sorted_emails],
    )
    sent = _send(request, form, reply_to=None, contact_ids=[contact.pk])
    if sent is None:
        return render_contact_conversations(request, contact, form=form)
    messages.success(request, "Your email is on its way.")
    # The new thread's page shows the email as Sending, then Sent or Failed.
    return redirect(f"{reverse('conversations:thread', args=[sent.thread_id])}#latest")


def _send(
    request: EmployeeRequest,
    form: ComposeForm,
    *,
    reply_to: Message | None,
    contact_ids: list[int],
) -> Message | None:
    """Queue the form's email, or mark what is wrong on the form."""
    mailbox = selectors.sending_mailbox(employee=request.user)
    if mailbox is None:
        form.add_error(None, "Connect your mailbox on My Profile to send email.")
    if not form.is_valid() or mailbox is None:
        return None
    try:
        return services.write_email(
            author=request.user,
            mailbox=mailbox,
            to=form.to_addresses(),
            cc=form.cleaned_data["cc"],
            subject=form.cleaned_data["subject"],
            text_body=form.cleaned_data["body"],
            attachments=form.outgoing_files(),
            reply_to=reply_to,
            contact_ids=contact_ids,
        )
    except services.ComposeError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return None


@conversations_permission
@require_POST
def retry(request: EmployeeRequest, message_id: int) -> HttpResponse:
    message = selectors.own_failed_message(
        viewer=request.user, account=request.account, message_id=message_id
    )
    if services.retry_outbound_email(message=message):
        messages.success(request, "Sending your email again.")
    return redirect(
        f"{reverse('conversations:thread', args=[message.thread_id])}"
        f"#message-{message.pk}"
    )


def render_contact_conversations(
    request: EmployeeRequest,
    contact: Contact,
    *,
    form: ComposeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The contact record's Conversations tab: threads and the composer."""
    addresses = [email.address for email in contact.sorted_emails]
    if form is None:
        form = ComposeForm(
            contact_addresses=addresses,
            initial={
                "to_contact": addresses[:1],
                "body": signed_body(request.user.signature),
            },
        )
    page = selectors.contact_threads(
        viewer=request.user, contact=contact, number=request.GET.get("page")
    )
    return render(
        request,
        "contacts/conversations.html",
        {
            "contact": contact,
            "tab": "conversations",
            "page": page,
            "form": form,
            "mailbox": selectors.sending_mailbox(employee=request.user),
        },
        status=status,
    )


# A message's parts


@conversations_permission
@require_GET
@xframe_options_sameorigin
def message_body(request: EmployeeRequest, message_id: int) -> HttpResponse:
    """The sanitized HTML body, as a document of its own for a sandboxed
    frame; remote images load only with ``?images=1``."""
    message = selectors.readable_message(
        viewer=request.user, account=request.account, message_id=message_id
    )
    images = request.GET.get("images") == "1"
    clean = clean_email_html(message.html_body, images=images)
    response = render(
        request,
        "conversations/message_body.html",
        {"clean": clean, "images": images},
    )
    response["Content-Security-Policy"] = body_policy(images=images)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@conversations_permission  # type: ignore[arg-type]
@require_GET
def attachment_download(
    request: EmployeeRequest, attachment_id: int
) -> HttpResponseBase:
    attachment = selectors.readable_attachment(
        viewer=request.user, account=request.account, attachment_id=attachment_id
    )
    try:
        fetched = fetch_attachment(attachment=attachment, reader_id=request.user.pk)
    except AttachmentUnavailable as error:
        messages.error(request, f"Could not download {attachment.filename}: {error}")
        return redirect(
            f"{reverse('conversations:thread', args=[attachment.message.thread_id])}"
            f"#message-{attachment.message_id}"
        )

    # Always a download, never shown inline: a file from mail is not
    # trusted to be what its content type claims.
    response = FileResponse(
        io.BytesIO(fetched.content),
        as_attachment=True,
        filename=safe_download_name(attachment.filename),
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]+")


def safe_download_name(filename: str) -> str:
    """A file name to save as: no paths, quotes or control characters."""
    name = _UNSAFE_FILENAME.sub("_", filename).strip(" .")
    return name[:200] or "attachment"


# Sharing


@settings_permission
@require_POST
def sharing(request: EmployeeRequest) -> HttpResponse:
    """My Profile: how much of the employee's email teammates see."""
    mailbox = selectors.current_mailbox(employee=request.user)
    form = SharingForm(request.POST, instance=mailbox)
    if mailbox is None:
        messages.error(request, "Connect a mailbox first.")
    elif form.is_valid():
        services.set_mailbox_sharing(
            employee=request.user, sharing=form.cleaned_data["sharing"]
        )
        messages.success(request, "Saved what your teammates see of your email.")
    else:
        messages.error(request, "Choose one of the options.")
    return redirect(f"{reverse('profile')}#email-sharing")


def _get_contact(request: EmployeeRequest, contact_id: int) -> Contact:
    return get_for_account_or_404(
        Contact.objects.prefetch_related("emails"), request, pk=contact_id
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
