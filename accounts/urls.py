from django.urls import include, path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/profile/", views.profile, name="profile"),
    path("settings/profile/mailbox/", include("mailsync.urls")),
]
