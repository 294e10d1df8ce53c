"""Serializers of the events API: input serializers check shape, output serializers present; no writes here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiaoliang.core.api import MAX_ID
from qiaoliang.core.codes import mask_mobile
from qiaoliang.core.serializers import OptionalURLField
from qiaoliang.events.models import AgendaItem, Audience, Event, Kind, Mode, Registration, Speaker
from qiaoliang.events.services.events import MAX_AGENDA_ITEMS, MAX_QUESTIONS, NUMBER_LIMITS
from qiaoliang.orgs.models import Enterprise, Organization

MAX_ORGANIZATIONS = 200  # co-organisers or audience organisations of one event
MAX_ITEM_SPEAKERS = 20  # speakers of one agenda item


def _number(name: str, **kwargs: Any) -> serializers.IntegerField:
    """Return an integer field with the range the service allows for the event's field of that name."""
    low, high = NUMBER_LIMITS[name]
    return serializers.IntegerField(min_value=low, max_value=high, **kwargs)


def _bounded_list(child: serializers.Serializer, max_length: int, **kwargs: Any) -> Any:
    """Return a list of at most `max_length` children, counted before any is read (and maxItems in the schema)."""
    return serializers.ListSerializer(
        child=child, max_length=max_length, validators=[MaxLengthValidator(max_length)], **kwargs
    )


# --- ids --------------------------------------------------------------------------------------------------------


class IdField(serializers.PrimaryKeyRelatedField):
    """An object by its id: a whole number from 1 to 2**63 - 1, checked before any query.

    DRF's own field reads 1.5 as id 1 (the model field truncates) and sends any number to the database.
    """

    def __init__(self, **kwargs: Any) -> None:
        self.id_field = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        super().__init__(pk_field=self.id_field, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        pk = self.id_field.run_validation(data)
        queryset: Any = self.get_queryset()
        try:
            return queryset.get(pk=pk)
        except ObjectDoesNotExist:
            self.fail("does_not_exist", pk_value=pk)


class IdListField(serializers.ManyRelatedField):
    """A list of ids (each as `IdField`), at most `max_length` of them, counted before any query."""

    def __init__(self, *, queryset: Any, max_length: int, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(child_relation=IdField(queryset=queryset), **kwargs)
        self.validators.append(MaxLengthValidator(max_length))

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, list | tuple) and len(data) > self.max_length:
            raise serializers.ValidationError(
                _("Give %(max)d ids at the most.") % {"max": self.max_length}, code="max_length"
            )
        return super().to_internal_value(data)


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
    # null, never "": the schema promises a URI.
    livestream_url = OptionalURLField()
    replay_url = OptionalURLField()

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
        return _DATETIME.to_representation(checkin.checked_in_at) if checkin else None

    def to_representation(self, instance: Registration) -> dict[str, Any]:
        """Write the fields declared above directly: DRF builds (deep-copies) the sixteen fields for every answer,
        a measurable share of a registration burst's API requests. The declarations stay for the schema and for
        `drf_representation`, which test_api.py::test_the_fast_registration_output_is_what_the_declared_fields_give
        compares this with."""
        r = instance
        return {
            "id": r.pk, "event": r.event_id, "status": _str(r.status), "ticket": _str(r.ticket), "name": _str(r.name),
            "mobile": self.get_mobile(r), "company": _str(r.company), "position": _str(r.position),
            "answers": None if r.answers is None else {str(k): v for k, v in r.answers.items()},
            "source": _str(r.source), "enterprise": r.enterprise_id, "created_at": _datetime(r.created_at),
            "confirmed_at": _datetime(r.confirmed_at), "cancelled_at": _datetime(r.cancelled_at),
            "checked_in_at": self.get_checked_in_at(r),
        }  # fmt: skip

    def drf_representation(self, instance: Registration) -> dict[str, Any]:
        """The representation DRF builds from the declared fields (the reference for the fast path)."""
        return dict(super().to_representation(instance))


_DATETIME = serializers.DateTimeField()


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _datetime(value: Any) -> str | None:
    return None if value is None else _DATETIME.to_representation(value)


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
    speakers = _bounded_list(SpeakerInputSerializer(), MAX_ITEM_SPEAKERS, required=False, default=list)


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
    capacity = _number("capacity")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    registration_opens_at = serializers.DateTimeField(required=False)
    registration_closes_at = serializers.DateTimeField(required=False)
    co_organizers = IdListField(queryset=Organization.objects.all(), max_length=MAX_ORGANIZATIONS, required=False)
    audience_organizations = IdListField(
        queryset=Organization.objects.all(), max_length=MAX_ORGANIZATIONS, required=False
    )
    series = serializers.CharField(
        max_length=80,
        required=False,
        allow_blank=True,
        help_text=_("The series' name (created if new), e.g. 上海人力资源讲堂."),
    )
    issue_number = _number("issue_number", required=False, allow_null=True)
    description = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    venue = serializers.CharField(max_length=120, required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    livestream_url = serializers.URLField(max_length=300, required=False, allow_blank=True)
    replay_url = serializers.URLField(max_length=300, required=False, allow_blank=True)
    has_waiting_list = serializers.BooleanField(required=False)
    verify_mobile = serializers.BooleanField(required=False)
    questions = _bounded_list(QuestionInputSerializer(), MAX_QUESTIONS, required=False)
    online_min_minutes = _number("online_min_minutes", required=False)
    pitches_start_at = serializers.DateTimeField(required=False, allow_null=True)
    pitch_minutes = _number("pitch_minutes", required=False)
    meetings_start_at = serializers.DateTimeField(required=False, allow_null=True)
    slot_count = _number("slot_count", required=False)
    slot_minutes = _number("slot_minutes", required=False)
    table_count = _number("table_count", required=False)


class EventCreateInputSerializer(EventWriteFields):
    organizer = IdField(queryset=Organization.objects.all(), help_text=_("The organising organisation's id."))
    agenda = _bounded_list(AgendaInputSerializer(), MAX_AGENDA_ITEMS, required=False)
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
    enterprise = IdField(
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
