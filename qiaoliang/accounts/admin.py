"""Back office for accounts: users with their role assignments."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from qiaoliang.accounts.models import RoleAssignment, User
from qiaoliang.core.admin import AuditedAdminMixin


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    fields = ["role", "organization", "zone", "enterprise", "department", "created_at"]
    readonly_fields = ["created_at"]
    raw_id_fields = ["organization", "zone", "enterprise", "department"]


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name", "email", "mobile", "person")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "mobile", "usable_password", "password1", "password2")}),
    )
    list_display = ["username", "display_name", "mobile", "email", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "roles__role"]
    search_fields = ["username", "display_name", "mobile", "email", "first_name", "last_name"]
    raw_id_fields = ["person"]
    inlines = [RoleAssignmentInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "organization", "zone", "enterprise", "department", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__mobile", "organization__name", "enterprise__name", "zone__name"]
    raw_id_fields = ["user", "organization", "zone", "enterprise", "department"]
    list_select_related = ["user", "organization", "zone", "enterprise", "department"]
