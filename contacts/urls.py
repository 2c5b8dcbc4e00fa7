from django.urls import path

from contacts import views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("new/", views.contact_create, name="create"),
    path("export/", views.contact_export, name="export"),
    path("import/", views.contact_import, name="import"),
    path("import/<int:pk>/", views.contact_import_preview, name="import_preview"),
    path(
        "import/<int:pk>/errors.csv", views.contact_import_errors, name="import_errors"
    ),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path(
        "<int:pk>/conversations/",
        views.contact_conversations,
        name="conversations",
    ),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
]
