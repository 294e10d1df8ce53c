"""API of policies: the library (published policies for every signed-in user, drafts for their staff), an
enterprise's decisions with reasons (政策体检), questions and answers. Writes go through the services."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core.exceptions import NotAllowedError
from qiaoliang.core.permissions import CHANGE, VIEW, has_capability
from qiaoliang.core.viewsets import ScopedViewSet
from qiaoliang.orgs.models import Enterprise, Organization
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies import selectors
from qiaoliang.policies.api import serializers
from qiaoliang.policies.models import Policy, PolicyQuestion, Rule, SupportItem
from qiaoliang.policies.permissions import ANSWER
from qiaoliang.policies.rules import Tri
from qiaoliang.policies.services import decisions, library, questions

REFUSED = OpenApiResponse(description=_lazy("Refused, with the reason in `detail` and a `code`."))
STATES = {Tri.TRUE: "met", Tri.FALSE: "not_met", Tri.UNKNOWN: "unknown"}


@extend_schema_view(
    list=extend_schema(summary=_lazy("List policies"), description=_lazy(
        "Published policies, newest first; drafts too for their organisation's staff. Filter with q and level.")),
    retrieve=extend_schema(summary=_lazy("Show a policy")),
    create=extend_schema(summary=_lazy("Create a draft policy (staff)"), request=serializers.PolicyCreateSerializer,
                         responses={201: serializers.PolicySerializer, 400: REFUSED, 403: REFUSED}),
)  # fmt: skip
class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = serializers.PolicySerializer

    def queryset_model(self) -> Any:
        return Policy

    def get_object_action(self) -> str:
        return VIEW

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("organization")

    def get_queryset(self) -> QuerySet[Policy]:
        return selectors.library(self.user, selectors.LibraryFilters.from_mapping(self.request.query_params))

    def create(self, request: Request) -> Response:
        data = serializers.PolicyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        organization = Organization.objects.for_user(self.user, CHANGE).filter(pk=values.pop("organization")).first()
        if organization is None:
            raise NotAllowedError(_("You do not manage that organisation."))
        policy = library.create_policy(actor=self.user, organization=organization, data=values)
        return Response(serializers.PolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary=_lazy("Policy statistics: published, pushes, enterprises reached, 免申即享, answer times"),
                   parameters=[serializers.PolicyStatisticsQuerySerializer],
                   responses={200: serializers.PolicyStatisticsSerializer, 400: REFUSED, 403: REFUSED})  # fmt: skip
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def statistics(self, request: Request) -> Response:
        """Figures of the caller's organisations over a period (staff, secretaries and zone convenors)."""
        if not (has_capability(self.user, "policies.manage") or get_scope(self.user).zone_ids):
            raise NotAllowedError(_("Policy statistics are for staff, secretaries and zone convenors."))
        query = serializers.PolicyStatisticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = timezone.localdate()
        start = query.validated_data.get("start") or today.replace(month=1, day=1)
        end = query.validated_data.get("end") or today
        if end < start:  # also a start after today with the end left to its default
            raise ValidationError({"end": _("The end of the period cannot come before its start.")})
        figures = selectors.statistics(self.user, start, end)
        figures["per_item"] = [
            {"item": i.pk, "item_name": i.name, "policy": i.policy_id, "eligible": i.eligible_count,
             "near_miss": i.near_miss_count, "needs_data": i.needs_data_count}
            for i in figures["per_item"]
        ]  # fmt: skip
        return Response(serializers.PolicyStatisticsSerializer({"start": start, "end": end, **figures}).data)

    @extend_schema(summary=_lazy("The policy's support items with the rules in force"),
                   responses=serializers.SupportItemSerializer(many=True))  # fmt: skip
    @action(detail=True, methods=["get"], pagination_class=None)
    def items(self, request: Request, pk: int) -> Response:
        policy = self.fetch(pk)
        active = Rule.objects.filter(status=Rule.Status.ACTIVE)
        rows = SupportItem.objects.filter(policy=policy).prefetch_related(
            Prefetch("rules", queryset=active, to_attr="active_rules")
        )
        return Response(serializers.SupportItemSerializer(rows, many=True).data)

    @extend_schema(summary=_lazy("Ask a question on the policy (enterprise contacts)"),
                   request=serializers.PolicyAskSerializer,
                   responses={201: serializers.PolicyQuestionSerializer, 400: REFUSED, 403: REFUSED})  # fmt: skip
    @action(detail=True, methods=["post"])
    def ask(self, request: Request, pk: int) -> Response:
        policy = self.fetch(pk)
        data = serializers.PolicyAskSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = questions.ask(actor=self.user, policy=policy, **data.validated_data)
        return Response(serializers.PolicyQuestionSerializer(row).data, status=status.HTTP_201_CREATED)


class CheckupViewSet(ScopedViewSet):
    """政策体检 for the caller's enterprise."""

    serializer_class = serializers.PolicyDecisionSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[SupportItem]:
        return SupportItem.objects.none()  # the answers are computed, not rows (for the schema generator)

    @extend_schema(summary=_lazy("Policy check-up: every item in force, with the decision and its reasons"),
                   responses={200: serializers.PolicyDecisionSerializer(many=True), 403: REFUSED})  # fmt: skip
    def list(self, request: Request) -> Response:
        scope = get_scope(self.user)
        if not scope.own_enterprise_ids:
            raise NotAllowedError(_("The check-up is for enterprise contacts."))
        enterprise = Enterprise.objects.get(pk=min(scope.own_enterprise_ids))
        rows = []
        for answer in decisions.checkup(enterprise):
            outcome = answer.outcome
            rows.append({
                "item": answer.item.pk, "item_name": answer.item.name, "policy": answer.item.policy_id,
                "decision": outcome.decision, "provisional": outcome.provisional, "missing": outcome.missing_fields,
                "near_miss": [r.condition.describe() for r in outcome.near_miss] if outcome.near_miss else [],
                "conditions": [{"label": r.condition.describe(), "state": STATES[r.state], "actual": r.actual,
                                "missing": r.missing, "clause": r.condition.clause}
                               for group in outcome.groups for r in group],
            })  # fmt: skip
        return Response(serializers.PolicyDecisionSerializer(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(summary=_lazy("Questions the caller answers (or asked)")),
    retrieve=extend_schema(summary=_lazy("Show a question")),
)
class QuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = serializers.PolicyQuestionSerializer

    def queryset_model(self) -> Any:
        return PolicyQuestion

    def get_object_action(self) -> str:
        return VIEW

    def get_queryset(self) -> QuerySet[PolicyQuestion]:
        status_filter = self.request.query_params.get("status", "open")
        answerable = PolicyQuestion.objects.for_user(self.user, ANSWER)
        if answerable.exists():
            return selectors.question_inbox(self.user, status=status_filter)
        return selectors.own_questions(self.user)

    @extend_schema(summary=_lazy("Answer a question (the department's liaisons, staff)"),
                   request=serializers.PolicyAnswerSerializer,
                   responses={200: serializers.PolicyQuestionSerializer, 400: REFUSED, 403: REFUSED})  # fmt: skip
    @action(detail=True, methods=["post"])
    def answer(self, request: Request, pk: int) -> Response:
        question = self.fetch(pk, ANSWER)
        data = serializers.PolicyAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = questions.answer(actor=self.user, question=question, text=data.validated_data["answer"],
                               in_faq=data.validated_data["in_faq"])  # fmt: skip
        return Response(serializers.PolicyQuestionSerializer(row).data)
