"""Back office for the resource exchange: read-only views of listings, matches, boards and their histories.

Every write of the exchange goes through its services (status tables, histories, audit, re-indexing),
so the back office only shows the rows; staff change them in the exchange pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from qiaoliang.exchange.models import (
    CapacityDeclaration,
    EmergencyBoard,
    Listing,
    ListingAttachment,
    ListingStatusChange,
    Match,
    MatchMessage,
    MatchStatusChange,
)


class ReadOnlyMixin:
    """Show rows without add, change or delete (writes belong to the services)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ListingStatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = ListingStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = ("created_at", "from_status", "to_status", "actor", "note")
    extra = 0


class ListingAttachmentInline(ReadOnlyMixin, admin.TabularInline):
    model = ListingAttachment
    fields = ("name", "size", "content_type", "uploaded_by", "created_at")
    readonly_fields = ("name", "size", "content_type", "uploaded_by", "created_at")
    extra = 0


@admin.register(Listing)
class ListingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "title", "direction", "category", "status", "enterprise", "organization", "valid_until",
                    "is_urgent"]  # fmt: skip
    list_filter = ["status", "direction", "category", "is_urgent"]
    search_fields = ["title", "external_id", "enterprise__name"]
    list_select_related = ["enterprise", "organization"]
    raw_id_fields = ["enterprise", "organization", "industry", "region", "contact_person", "created_by"]
    exclude = ["embedding"]
    inlines = [ListingAttachmentInline, ListingStatusChangeInline]
    date_hierarchy = "created_at"


class MatchStatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = MatchStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = ("created_at", "from_status", "to_status", "actor", "note")
    extra = 0


class MatchMessageInline(ReadOnlyMixin, admin.TabularInline):
    model = MatchMessage
    fields = ("created_at", "side", "sender", "kind", "body")
    readonly_fields = ("created_at", "side", "sender", "kind", "body")
    extra = 0


@admin.register(Match)
class MatchAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "need", "offer", "status", "score", "deal_amount", "deal_date", "updated_at"]
    list_filter = ["status"]
    search_fields = ["need__title", "offer__title", "need__enterprise__name", "offer__enterprise__name"]
    list_select_related = ["need", "offer"]
    raw_id_fields = ["need", "offer", "introduced_by", "proposed_by", "confirmed_by"]
    inlines = [MatchStatusChangeInline, MatchMessageInline]


class CapacityDeclarationInline(ReadOnlyMixin, admin.TabularInline):
    model = CapacityDeclaration
    fields = ("enterprise", "product", "stock", "daily_capacity", "unit", "updated_at")
    readonly_fields = ("enterprise", "product", "stock", "daily_capacity", "unit", "updated_at")
    extra = 0


@admin.register(EmergencyBoard)
class EmergencyBoardAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "category", "is_active", "started_at", "ended_at"]
    list_filter = ["is_active", "category"]
    inlines = [CapacityDeclarationInline]


@admin.register(CapacityDeclaration)
class CapacityDeclarationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["product", "enterprise", "board", "stock", "daily_capacity", "unit", "updated_at"]
    list_select_related = ["enterprise", "board"]
    search_fields = ["product", "enterprise__name"]
