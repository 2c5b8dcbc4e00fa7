"""URL configuration: the pages, sign-in (allauth) and the Django admin."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "RevStackr support"
admin.site.site_title = "RevStackr support"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("contacts/", include("contacts.urls")),
    path("settings/staff/", include("staff.urls")),
    path("settings/", include("mailsync.urls")),
    path("", include("accounts.urls")),
]
