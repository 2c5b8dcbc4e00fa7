"""URL configuration: the pages, sign-in (allauth) and the Django admin."""

from django.contrib import admin
from django.urls import include, path

from accounts.views import not_offered

admin.site.site_header = "RevStackr support"
admin.site.site_title = "RevStackr support"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Shadow allauth's pages for adding login addresses and for third-party
    # connections (see accounts.views.not_offered).
    path("accounts/email/", not_offered, name="email_not_offered"),
    path("accounts/3rdparty/", not_offered, name="connections_not_offered"),
    path("accounts/", include("allauth.urls")),
    path("contacts/", include("contacts.urls")),
    path("conversations/", include("conversations.urls")),
    path("settings/staff/", include("staff.urls")),
    path("settings/", include("mailsync.urls")),
    path("", include("accounts.urls")),
]
