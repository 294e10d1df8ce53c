"""Back office for the reference tables and the audit log (all read-only), and the audited admin base."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from qiaoliang.core import audit
from qiaoliang.core.models import AuditLog, Industry, Notification, Region


def _organization_id(obj: models.Model) -> int | None:
    """Return the organisation an object belongs to, for the audit entry's organisation column."""
    if obj._meta.label_lower == "orgs.organization":
        return int(obj.pk) if obj.pk else None
    value = getattr(obj, "organization_id", None)
    return int(value) if value else None


class AuditedAdminMixin:
    """Write an audit entry for every save and delete made in the back office, in the same transaction.

    The admin's add, change and delete views already run in a transaction; the bulk delete action
    does not, so it gets its own.
    """

    def audit_write(self, request: HttpRequest, obj: models.Model, verb: str, data: dict[str, Any]) -> None:
        audit.record(
            f"admin.{obj._meta.label_lower}.{verb}",
            actor=request.user,
            target=obj,
            organization_id=_organization_id(obj),
            data=data,
        )

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            self.audit_write(request, obj, "changed" if change else "created", {"fields": list(form.changed_data)})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            self.audit_write(request, obj, "deleted", {})
            super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.audit_write(request, obj, "deleted", {})
            super().delete_queryset(request, queryset)  # type: ignore[misc]

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_formset(request, form, formset, change)  # type: ignore[misc]
            for obj in formset.new_objects:
                self.audit_write(request, obj, "created", {"parent": str(form.instance.pk)})
            for obj, fields in formset.changed_objects:
                self.audit_write(request, obj, "changed", {"parent": str(form.instance.pk), "fields": list(fields)})
            for obj in formset.deleted_objects:
                self.audit_write(request, obj, "deleted", {"parent": str(form.instance.pk)})


class ReadOnlyAdmin(admin.ModelAdmin):
    """Let the back office look but never add, change or delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Industry)
class IndustryAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "level", "section"]
    list_filter = ["level", "section"]
    search_fields = ["code", "name"]
    list_per_page = 100


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "full_name", "level"]
    list_filter = ["level"]
    search_fields = ["code", "name", "full_name"]
    list_per_page = 100


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "actor", "target_repr", "organization_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["action", "target_type", "target_id", "target_repr", "request_id", "actor__username"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Show notifications read-only (they are written by the services that act)."""

    list_display = ["title", "user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "actor"]
    search_fields = ["title", "user__username"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
