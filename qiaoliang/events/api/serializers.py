"""Serializers of the events API: input serializers check shape, output serializers present; no writes here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiaoliang.core.codes import mask_mobile
from qiaoliang.events.models import AgendaItem, Audience, Event, Kind, Mode, Registration, Speaker
from qiaoliang.orgs.models import Enterprise, Organization

# --- output ---------------------------------------------------------------------------------------------------


class OrganizationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "code", "name"]
        read_only_fields = fields


class SpeakerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Speaker
        fields = ["id", "name", "affiliation", "topic"]
        read_only_fields = fields


class AgendaItemSerializer(serializers.ModelSerializer):
    speakers = SpeakerSerializer(many=True, read_only=True)

    class Meta:
        model = AgendaItem
        fields = ["id", "starts_at", "ends_at", "title", "description", "speakers"]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    """Present an event with its organiser, seats and registration counts."""

    organizer = OrganizationRefSerializer(source="organization", read_only=True)
    co_organizers: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    audience_organizations: Any = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    series = serializers.CharField(source="series.name", read_only=True, allow_null=True, default=None)
    confirmed_count = serializers.IntegerField(read_only=True, help_text=_("Confirmed registrations (seats taken)."))
    waiting_count = serializers.IntegerField(read_only=True, help_text=_("Registrations on the waiting list."))
    agenda = AgendaItemSerializer(many=True, read_only=True)
    status = serializers.ChoiceField(choices=Event.Status.choices, read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
            "title",
            "kind",
            "mode",
            "audience",
            "status",
            "organizer",
            "co_organizers",
            "audience_organizations",
            "zone",
            "series",
            "issue_number",
            "description",
            "venue",
            "address",
            "livestream_url",
            "replay_url",
            "starts_at",
            "ends_at",
            "capacity",
            "confirmed_count",
            "waiting_count",
            "has_waiting_list",
            "registration_opens_at",
            "registration_closes_at",
            "verify_mobile",
            "questions",
            "online_min_minutes",
            "pitches_start_at",
            "pitch_minutes",
            "meetings_start_at",
            "slot_count",
            "slot_minutes",
            "table_count",
            "agenda",
            "created_at",
            "updated_at",
            "published_at",
        ]
        read_only_fields = fields


class RegistrationSerializer(serializers.Serializer):
    """Present a registration: its status and ticket (the code in the QR); the mobile masked unless allowed.

    A plain serializer with declared fields: a ModelSerializer rebuilds its fields from the model on every
    instance, which is a measurable share of a registration burst's CPU.
    """

    id = serializers.IntegerField(read_only=True)
    event = serializers.IntegerField(source="event_id", read_only=True)
    status = serializers.ChoiceField(choices=Registration.Status.choices, read_only=True)
    ticket = serializers.CharField(read_only=True, help_text=_("The code in the ticket's QR code."))
    name = serializers.CharField(read_only=True)
    mobile = serializers.SerializerMethodField()
    company = serializers.CharField(read_only=True)
    position = serializers.CharField(read_only=True)
    answers = serializers.DictField(read_only=True)
    source = serializers.ChoiceField(choices=Registration.Source.choices, read_only=True)  # type: ignore[assignment]
    enterprise = serializers.IntegerField(source="enterprise_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    confirmed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    checked_in_at = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_mobile(self, registration: Registration) -> str:
        personal = self.context.get("personal")
        return (
            registration.mobile if personal is None or registration.pk in personal else mask_mobile(registration.mobile)
        )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_checked_in_at(self, registration: Registration) -> Any:
        checkin = getattr(registration, "checkin", None) if self.context.get("with_checkin") else None
        return serializers.DateTimeField().to_representation(checkin.checked_in_at) if checkin else None


class CheckInResultSerializer(serializers.Serializer):
    """The answer to a scan: who, whether this scan checked them in or they were in already, and when."""

    registration = serializers.IntegerField()
    ticket = serializers.CharField()
    name = serializers.CharField()
    company = serializers.CharField()
    already_checked_in = serializers.BooleanField()
    checked_in_at = serializers.DateTimeField()
    detail = serializers.CharField()


# --- input ----------------------------------------------------------------------------------------------------


class SpeakerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    affiliation = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    topic = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class AgendaInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    speakers = SpeakerInputSerializer(many=True, required=False, default=list)


class QuestionInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=20, required=False)
    label = serializers.CharField(max_length=120)  # type: ignore[assignment]
    required = serializers.BooleanField(required=False, default=False)  # type: ignore[assignment]
    choices = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list, max_length=20
    )


class EventWriteFields(serializers.Serializer):
    """The fields an event is created or changed with (ISO 8601 date-times with their offset)."""

    title = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=Kind.choices)
    mode = serializers.ChoiceField(choices=Mode.choices)
    audience = serializers.ChoiceField(choices=Audience.choices)
    capacity = serializers.IntegerField(min_value=1, max_value=100_000)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    registration_opens_at = serializers.DateTimeField(required=False)
    registration_closes_at = serializers.DateTimeField(required=False)
    co_organizers = serializers.PrimaryKeyRelatedField(many=True, queryset=Organization.objects.all(), required=False)
    audience_organizations = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Organization.objects.all(), required=False
    )
    series = serializers.CharField(
        max_length=80,
        required=False,
        allow_blank=True,
        help_text=_("The series' name (created if new), e.g. 上海人力资源讲堂."),
    )
    issue_number = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    venue = serializers.CharField(max_length=120, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    livestream_url = serializers.URLField(max_length=300, required=False, allow_blank=True)
    replay_url = serializers.URLField(max_length=300, required=False, allow_blank=True)
    has_waiting_list = serializers.BooleanField(required=False)
    verify_mobile = serializers.BooleanField(required=False)
    questions = QuestionInputSerializer(many=True, required=False)
    online_min_minutes = serializers.IntegerField(min_value=0, max_value=600, required=False)
    pitches_start_at = serializers.DateTimeField(required=False, allow_null=True)
    pitch_minutes = serializers.IntegerField(min_value=1, max_value=120, required=False)
    meetings_start_at = serializers.DateTimeField(required=False, allow_null=True)
    slot_count = serializers.IntegerField(min_value=0, max_value=48, required=False)
    slot_minutes = serializers.IntegerField(min_value=5, max_value=180, required=False)
    table_count = serializers.IntegerField(min_value=0, max_value=2000, required=False)


class EventCreateInputSerializer(EventWriteFields):
    organizer = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), help_text=_("The organising organisation's id.")
    )
    agenda = AgendaInputSerializer(many=True, required=False)
    publish = serializers.BooleanField(
        required=False, default=True, help_text=_("Publish at once (default) or keep as a draft.")
    )


class EventChangeInputSerializer(EventWriteFields):
    pass


class RegistrationInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40)
    mobile = serializers.CharField(max_length=20)
    company = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    position = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    answers = serializers.DictField(
        child=serializers.CharField(max_length=500, allow_blank=True), required=False, default=dict
    )
    enterprise = serializers.PrimaryKeyRelatedField(
        queryset=Enterprise.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The person's enterprise (an enterprise contact with several enterprises must say which)."),
    )


class CheckInInputSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=200, help_text=_("The code in the ticket's QR code, or typed."))


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
