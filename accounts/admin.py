"""Support staff's view of accounts and their employees."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from accounts.models import Account, User


class EmployeeInline(admin.TabularInline):
    model = User
    fields = ("email", "full_name", "role", "is_active")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "employee_count", "created_at")
    search_fields = ("name", "employees__email")
    list_filter = ("created_at",)
    inlines = [EmployeeInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Account]:
        return super().get_queryset(request).annotate(employee_count=Count("employees"))

    @admin.display(description="Employees", ordering="employee_count")
    def employee_count(self, account: Account) -> int:
        return account.employee_count  # type: ignore[attr-defined]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "full_name", "account", "role", "is_active", "is_staff")
    list_filter = ("role", "is_active", "is_staff", "account")
    search_fields = ("email", "full_name", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Employee", {"fields": ("full_name", "time_zone", "account", "role")}),
        (
            "Access",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "account",
                    "role",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
