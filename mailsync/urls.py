from django.urls import path

from mailsync import views

app_name = "mailsync"

urlpatterns = [
    path("profile/mailbox/done/", views.connect_done, name="connect_done"),
    path(
        "profile/mailbox/replace/<int:mailbox_id>/",
        views.confirm_replacement_view,
        name="confirm_replacement",
    ),
    path("profile/mailbox/disconnect/", views.disconnect, name="disconnect"),
    path("profile/never-log/", views.add_own_never_log, name="add_own_never_log"),
    path(
        "profile/never-log/<int:entry_id>/remove/",
        views.remove_own_never_log,
        name="remove_own_never_log",
    ),
    path("email/", views.email_settings, name="email_settings"),
    path(
        "email/never-log/<int:entry_id>/remove/",
        views.remove_account_never_log,
        name="remove_account_never_log",
    ),
]
