"""API views of events: thin, scoped through `for_user`/`get_for_user`, writes through services.

Registrations and check-in scans are the writes clients retry: both take an Idempotency-Key header.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core import idempotency
from qiaoliang.core.api import MAX_ID
from qiaoliang.core.permissions import CHANGE, VIEW, VIEW_PERSONAL, get_for_user, remember
from qiaoliang.core.viewsets import ScopedViewSet
from qiaoliang.events import permissions as event_permissions
from qiaoliang.events import selectors, services
from qiaoliang.events.api import serializers
from qiaoliang.events.models import AgendaItem, CheckIn, Event, Registration, Speaker
from qiaoliang.events.permissions import CHECKIN
from qiaoliang.events.services.registration import REGISTRATION_FIELDS

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=_lazy(
        "A client-chosen key (up to 100 characters) that makes a retried request safe: the same key with the same "
        "body returns the first answer again without applying the change twice (kept for 24 hours)."
    ),
)
REFUSED = OpenApiResponse(description=_lazy("Refused, with the reason in `detail` and a `code`."))


def _event_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Turn validated input into the service's keyword arguments (questions as plain dicts)."""
    fields = dict(values)
    if "questions" in fields:
        fields["questions"] = [dict(question) for question in fields["questions"]]
    return fields


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List events"),
        description=_lazy(
            "The events the caller sees: those of their organisations in every status, and the "
            "published events whose audience includes them. Each with its seats and registrations."
        ),
    ),
    retrieve=extend_schema(summary=_lazy("Show an event (capacity, confirmed_count, waiting_count)")),
    create=extend_schema(
        summary=_lazy("Create an event"),
        description=_lazy(
            "For the staff of the organising organisation (token auth). Date-times in ISO 8601 with "
            "their offset; registration opens now and closes at the start unless given. Published at "
            "once unless publish is false. The answer holds the event and its id."
        ),
        request=serializers.EventCreateInputSerializer,
        responses={201: serializers.EventSerializer, 400: REFUSED, 403: REFUSED},
    ),
    partial_update=extend_schema(
        summary=_lazy("Change an event"),
        description=_lazy(
            "A new capacity adds seats (the waiting list moves up) or removes free ones; it cannot "
            "go below the seats taken."
        ),
        request=serializers.EventChangeInputSerializer,
        responses={200: serializers.EventSerializer, 400: REFUSED},
    ),
)
class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Events (活动): meetings, lectures, trainings, matchmaking meetings."""

    serializer_class = serializers.EventSerializer
    queryset = Event.objects.none()
    filter_backends: list[Any] = []

    def queryset_model(self) -> Any:
        return Event

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        agenda = Prefetch(
            "agenda",
            queryset=AgendaItem.objects.prefetch_related(
                Prefetch("speakers", queryset=Speaker.objects.order_by("position", "id"))
            ),
        )
        return selectors.with_counts(queryset.select_related("organization", "series")).prefetch_related(
            "co_organizers", "audience_organizations", agenda
        )

    def get_queryset(self) -> QuerySet[Event]:
        return self.decorate(Event.objects.for_user(self.user, VIEW)).order_by("-starts_at", "-id")

    def fetch_plain(self, pk: Any, action: str, fields: tuple[str, ...] = ()) -> Event:
        """Fetch the event alone (no counts, no agenda): the registration and check-in hot paths need none."""
        if int(pk) > MAX_ID:
            raise NotFound
        queryset = Event.objects.only(*fields) if fields else Event.objects.all()
        return get_for_user(queryset, self.user, action, pk=pk)

    def fetch_for_registration(self, pk: Any) -> Event:
        """The event a registration is POSTed to, with what `register_person` asks `can` already known.

        The event's staff (the burst's callers) are recognised in Python from the event's organisation and zone
        (`permissions.runs`, one prepared read); for everyone else the rules decide whether they see it (one more
        query), and `register_person` then asks nothing more.
        """
        if int(pk) > MAX_ID:
            raise NotFound
        event = selectors.event_columns(int(pk), REGISTRATION_FIELDS)
        if event is None:
            raise NotFound
        if event_permissions.runs(self.user, event):
            remember(self.user, VIEW, event, True)  # running an event implies seeing it
            remember(self.user, CHANGE, event, True)
            return event
        remember(self.user, CHANGE, event, False)
        event = self.fetch_plain(pk, VIEW, REGISTRATION_FIELDS)  # 404 unless the rules let the caller see it
        remember(self.user, VIEW, event, True)
        return event

    def _respond(self, event: Event, status_code: int = status.HTTP_200_OK) -> Response:
        event = self.decorate(Event.objects.all()).get(pk=event.pk)
        return Response(
            serializers.EventSerializer(event, context=self.get_serializer_context()).data, status=status_code
        )

    def _series(self, organization: Any, name: str | None) -> Any:
        if not name:
            return None
        return services.create_series(actor=self.user, organization=organization, name=name)

    def create(self, request: Request) -> Response:
        data = serializers.EventCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = _event_fields(data.validated_data)
        organization = fields.pop("organizer")
        series = self._series(organization, fields.pop("series", ""))
        agenda = [dict(item, speakers=[dict(s) for s in item.get("speakers", [])]) for item in fields.pop("agenda", [])]
        event = services.create_event(
            actor=self.user, organization=organization, series=series, agenda=agenda, **fields
        )
        return self._respond(event, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        event = self.fetch(pk, CHANGE)
        data = serializers.EventChangeInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = _event_fields(data.validated_data)
        if "series" in fields:
            fields["series"] = self._series(event.organization, fields["series"])
        event = services.update_event(actor=self.user, event=event, **fields)
        return self._respond(event)

    @extend_schema(
        methods=["POST"],
        summary=_lazy("Register someone for an event"),
        description=_lazy(
            "The event's staff may register anyone, an enterprise contact the people of their enterprise. The answer "
            "is 201 with the registration (status confirmed or waiting, and ticket: the code in its QR) when it was "
            "made, 200 with the existing one when the mobile number is already registered for the event. The same "
            "Idempotency-Key again answers with the same registration and creates nothing."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.RegistrationInputSerializer,
        responses={
            201: serializers.RegistrationSerializer,
            200: serializers.RegistrationSerializer,
            400: REFUSED,
            403: REFUSED,
            409: OpenApiResponse(description=_lazy("Same key in use.")),
        },
    )
    @extend_schema(
        methods=["GET"],
        summary=_lazy("List an event's registrations"),
        description=_lazy("For the event's staff: every registration in id order (the waiting list's order)."),
        responses={200: serializers.RegistrationSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"])
    def registrations(self, request: Request, pk: int) -> Response:
        if request.method == "GET":
            event = self.fetch_plain(pk, CHECKIN)
            page = self.paginate_queryset(
                Registration.objects.filter(event=event).select_related("checkin").order_by("id")
            )
            rows = serializers.RegistrationSerializer(page, many=True, context={"with_checkin": True}).data
            return self.get_paginated_response(rows)
        event = self.fetch_for_registration(pk)
        data = serializers.RegistrationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def produce() -> Response:
            result = services.register_person(
                actor=self.user,
                event=event,
                name=values["name"],
                mobile=values["mobile"],
                company=values["company"],
                position=values["position"],
                answers=values["answers"],
                enterprise=values["enterprise"],
                source=Registration.Source.API,
            )
            body = serializers.RegistrationSerializer(result.registration).data
            return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

        body = {**values, "enterprise": values["enterprise"].pk if values["enterprise"] else None}
        return idempotency.run(request, scope=f"event-registration:{event.pk}", body=body, produce=produce)

    @extend_schema(
        summary=_lazy("Check a ticket in"),
        description=_lazy(
            "For the event's staff and its co-organisers': 201 when this scan checked the person in, 200 with "
            "already_checked_in true (and the first time) on a repeat, 404 for an unknown code, 400 with the reason "
            "for a ticket of another event, a cancelled or waiting registration or an expired ticket."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.CheckInInputSerializer,
        responses={
            201: serializers.CheckInResultSerializer,
            200: serializers.CheckInResultSerializer,
            400: REFUSED,
            404: REFUSED,
        },
    )
    @action(detail=True, methods=["post"])
    def checkins(self, request: Request, pk: int) -> Response:
        event = self.fetch_plain(pk, CHECKIN)
        data = serializers.CheckInInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = data.validated_data["ticket"]

        def produce() -> Response:
            result = services.check_in(actor=self.user, event=event, ticket=ticket, method=CheckIn.Method.API)
            return Response(
                checkin_body(result), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
            )

        return idempotency.run(request, scope=f"event-checkin:{event.pk}", body={"ticket": ticket}, produce=produce)


def checkin_body(result: services.CheckInResult) -> dict[str, Any]:
    """Return the JSON answer to a scan (the sentence in the request's language)."""
    when = formats.date_format(timezone.localtime(result.checkin.checked_in_at), "H:i")
    registration = result.registration
    detail = (
        _("Checked in: %(name)s") % {"name": registration.name}
        if result.created
        else _("Already checked in (%(time)s)") % {"time": when}
    )
    return {
        "registration": registration.pk,
        "ticket": registration.ticket,
        "name": registration.name,
        "company": registration.company,
        "already_checked_in": not result.created,
        "checked_in_at": result.checkin.checked_in_at,
        "detail": detail,
    }


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List registrations"),
        description=_lazy("The caller's own registrations, their enterprise's, and those of the events they run."),
    ),
    retrieve=extend_schema(summary=_lazy("Show a registration")),
)
class RegistrationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Registrations (报名) and their tickets."""

    serializer_class = serializers.RegistrationSerializer
    queryset = Registration.objects.none()
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "head", "options"]

    def queryset_model(self) -> Any:
        return Registration

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("checkin")

    def get_queryset(self) -> QuerySet[Registration]:
        return self.decorate(Registration.objects.for_user(self.user, VIEW)).order_by("-id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        context["with_checkin"] = True
        context["personal"] = (
            set(Registration.objects.for_user(self.user, VIEW_PERSONAL).values_list("pk", flat=True)[:10_000])
            if self.action == "list"
            else None
        )
        return context

    def retrieve(self, request: Request, pk: int) -> Response:
        registration = self.fetch(pk, VIEW)
        personal = {registration.pk} if self._personal(registration) else set()
        data = serializers.RegistrationSerializer(registration, context={"with_checkin": True, "personal": personal})
        return Response(data.data)

    def _personal(self, registration: Registration) -> bool:
        return Registration.objects.for_user(self.user, VIEW_PERSONAL).filter(pk=registration.pk).exists()

    @extend_schema(
        summary=_lazy("Cancel a registration"),
        description=_lazy(
            "Answers 200 with status cancelled; the first registration on the waiting list takes the "
            "seat in the same transaction. Cancelling again changes nothing."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.CancelInputSerializer,
        responses={200: serializers.RegistrationSerializer, 400: REFUSED, 403: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: int) -> Response:
        registration = self.fetch(pk, CHANGE)
        data = serializers.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"]

        def produce() -> Response:
            cancelled = services.cancel_registration(actor=self.user, registration=registration, reason=reason)
            return Response(serializers.RegistrationSerializer(cancelled, context={"personal": None}).data)

        return idempotency.run(
            request, scope=f"registration-cancel:{registration.pk}", body={"reason": reason}, produce=produce
        )
