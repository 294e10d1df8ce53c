"""API of appeals: scoped as the pages (an enterprise sees its own appeals, a department those routed to it);
writes through the services, with the appeal's version against lost updates."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.appeals import selectors, services
from qiaoliang.appeals.api import serializers
from qiaoliang.appeals.models import Appeal
from qiaoliang.appeals.permissions import ANSWER, RESPOND
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, VIEW, has_capability
from qiaoliang.core.viewsets import ScopedViewSet
from qiaoliang.orgs.models import Department, Enterprise
from qiaoliang.orgs.selectors import get_scope

REFUSED = OpenApiResponse(description=_lazy("Refused, with the reason in `detail` and a `code`."))


@extend_schema_view(
    list=extend_schema(summary=_lazy("List appeals"), description=_lazy(
        "The appeals the caller sees, newest first: an enterprise its own, a department those routed to it, an "
        "organisation's staff those it collected. Filter with status (or open), q and overdue.")),
    retrieve=extend_schema(summary=_lazy("Show an appeal")),
    create=extend_schema(summary=_lazy("Submit an appeal (enterprise contacts)"),
                         request=serializers.AppealCreateSerializer,
                         responses={201: serializers.AppealSerializer, 400: REFUSED, 403: REFUSED}),
)  # fmt: skip
class AppealViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = serializers.AppealSerializer

    def queryset_model(self) -> Any:
        return Appeal

    def get_object_action(self) -> str:
        return VIEW

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(*selectors.LIST_RELATED)

    def get_queryset(self) -> QuerySet[Appeal]:
        filters = selectors.AppealFilters.from_mapping(self.request.query_params)
        return selectors.appeal_list(self.user, filters)

    def create(self, request: Request) -> Response:
        if not has_capability(self.user, "appeals.submit"):
            raise NotAllowedError(_("Only an enterprise's contact submits appeals."))
        data = serializers.AppealCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enterprise = Enterprise.objects.get(pk=sorted(get_scope(self.user).own_enterprise_ids)[0])
        appeal = services.submit_appeal(actor=self.user, enterprise=enterprise, **data.validated_data)
        return Response(serializers.AppealSerializer(appeal).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_lazy("The appeal's timeline"), responses=serializers.AppealEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: int) -> Response:
        appeal = self.fetch(pk)
        internal = Appeal.objects.for_user(self.user, CHANGE).filter(pk=appeal.pk).exists()
        events = selectors.timeline(appeal, internal=internal)
        return Response(serializers.AppealEventSerializer(events, many=True).data)

    @extend_schema(summary=_lazy("Route an appeal to a department (staff)"), request=serializers.AssignSerializer,
                   responses={200: serializers.AppealSerializer, 400: REFUSED, 403: REFUSED})  # fmt: skip
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: int) -> Response:
        appeal = self.fetch(pk, CHANGE)
        data = serializers.AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        department = Department.objects.filter(pk=data.validated_data["department"], is_active=True).first()
        if department is None:
            raise DomainError(_("Choose an active liaison department."), code="department")
        appeal = services.assign(actor=self.user, appeal=appeal, department=department,
                                 working_days=data.validated_data.get("working_days"),
                                 note=data.validated_data["note"], version=data.validated_data["version"])  # fmt: skip
        return Response(serializers.AppealSerializer(appeal).data)

    @extend_schema(summary=_lazy("Answer an appeal (its department)"), request=serializers.AnswerSerializer,
                   responses={200: serializers.AppealSerializer, 400: REFUSED, 403: REFUSED})  # fmt: skip
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: int) -> Response:
        appeal = self.fetch(pk, ANSWER)
        data = serializers.AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.answer_appeal(actor=self.user, appeal=appeal, answer=data.validated_data["answer"],
                                        solved=data.validated_data["solved"],
                                        version=data.validated_data["version"])  # fmt: skip
        return Response(serializers.AppealSerializer(appeal).data)

    @extend_schema(summary=_lazy("Confirm and rate the answer (the enterprise)"), request=serializers.ConfirmSerializer,
                   responses={200: serializers.AppealSerializer, 400: REFUSED, 403: REFUSED})  # fmt: skip
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: int) -> Response:
        appeal = self.fetch(pk, RESPOND)
        data = serializers.ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = services.confirm(actor=self.user, appeal=appeal, satisfaction=data.validated_data["satisfaction"],
                                  rating=data.validated_data.get("rating"), feedback=data.validated_data["feedback"],
                                  version=data.validated_data["version"])  # fmt: skip
        return Response(serializers.AppealSerializer(appeal).data)
