"""My Staff (for Admins) and the public pages of an invitation."""

from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("add/", views.add_employee, name="add"),
    path("<int:pk>/", views.edit_employee, name="edit"),
    path("<int:pk>/deactivate/", views.deactivate_employee, name="deactivate"),
    path("<int:pk>/reactivate/", views.reactivate_employee, name="reactivate"),
    path("<int:pk>/invite/", views.resend_invitation, name="resend_invitation"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("invitations/", views.request_invitation, name="request_invitation"),
]
