from django.urls import path

from mailsync import views

app_name = "mailsync"

urlpatterns = [
    path("done/", views.connect_done, name="connect_done"),
    path(
        "replace/<int:mailbox_id>/",
        views.confirm_replacement_view,
        name="confirm_replacement",
    ),
    path("disconnect/", views.disconnect, name="disconnect"),
]
