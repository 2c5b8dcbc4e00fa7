from django.urls import path

from conversations import views

app_name = "conversations"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("updates/", views.inbox_updates, name="inbox_updates"),
    path("<int:thread_id>/", views.thread_detail, name="thread"),
    path("<int:thread_id>/updates/", views.thread_updates, name="thread_updates"),
    path("<int:thread_id>/earlier/", views.thread_earlier, name="thread_earlier"),
    path("contacts/<int:contact_id>/write/", views.write_to_contact, name="write"),
    path("messages/<int:message_id>/body/", views.message_body, name="message_body"),
    path("messages/<int:message_id>/reply/", views.reply, name="reply"),
    path("messages/<int:message_id>/retry/", views.retry, name="retry"),
    path(
        "attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("sharing/", views.sharing, name="sharing"),
]
