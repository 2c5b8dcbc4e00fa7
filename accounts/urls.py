from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/profile/", views.profile, name="profile"),
]
