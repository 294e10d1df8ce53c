"""Back office for events: read-only views of events, registrations, check-ins and meetings.

Every write goes through the services (seats, the waiting list, status tables, audit), so the back office only
shows the rows; staff change them in the event pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from qiaoliang.events.models import (
    CheckIn,
    Event,
    EventSeries,
    EventStatusChange,
    Meeting,
    MeetingRequest,
    OnlineImport,
    Participant,
    Registration,
    RegistrationStatusChange,
)


class ReadOnlyMixin:
    """Show rows without add, change or delete (writes belong to the services)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventStatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = EventStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0


@admin.register(Event)
class EventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "title", "kind", "mode", "audience", "status", "organization", "starts_at", "capacity"]
    list_filter = ["status", "kind", "mode", "audience"]
    search_fields = ["title", "venue"]
    list_select_related = ["organization"]
    inlines = [EventStatusChangeInline]


@admin.register(EventSeries)
class EventSeriesAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "name", "organization"]
    search_fields = ["name"]


class RegistrationStatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    model = RegistrationStatusChange
    fields = ("created_at", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "event", "name", "status", "source", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["name", "ticket", "company"]
    list_select_related = ["event"]
    raw_id_fields = ["event", "user", "person", "enterprise", "seat", "registered_by"]
    inlines = [RegistrationStatusChangeInline]


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "event", "registration", "checked_in_at", "method", "checked_in_by"]
    list_filter = ["method"]
    raw_id_fields = ["event", "registration", "checked_in_by"]


@admin.register(OnlineImport)
class OnlineImportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "event",
        "file_name",
        "status",
        "row_count",
        "matched_by_mobile",
        "matched_by_name",
        "unmatched",
        "created_at",
    ]
    raw_id_fields = ["event", "uploaded_by"]


@admin.register(Participant)
class ParticipantAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "event", "enterprise", "pitch_order", "pitch_title"]
    raw_id_fields = ["event", "enterprise", "added_by"]


@admin.register(MeetingRequest)
class MeetingRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "event", "requester", "recipient", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["event", "requester", "recipient", "listing", "requested_by"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "event", "a", "b", "slot", "table", "is_pinned"]
    raw_id_fields = ["event", "request", "a", "b"]
