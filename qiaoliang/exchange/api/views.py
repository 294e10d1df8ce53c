"""API views of the exchange: thin, scoped through `for_user`/`get_for_user`, writes through services."""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core import idempotency
from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, get_for_user
from qiaoliang.core.viewsets import ScopedViewSet
from qiaoliang.exchange import selectors, services
from qiaoliang.exchange.api import serializers
from qiaoliang.exchange.api.filters import ListingFilter, MatchFilter
from qiaoliang.exchange.models import Listing, Match
from qiaoliang.exchange.permissions import RANK

LISTING_RELATED = ["enterprise", "organization", "industry", "region"]
MATCH_RELATED = ["need__enterprise", "offer__enterprise"]
MAX_TOP = 50

NOTE = extend_schema(request=serializers.ListingNoteInputSerializer, responses={200: serializers.ListingSerializer})
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description=_lazy(
        "A client-chosen key (up to 100 characters) that makes a retried request safe: the same key with the same "
        "body returns the first answer again without applying the change twice (kept for 24 hours)."
    ),
)  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List listings"),
        description=_lazy("Published listings and the user's own or managed listings in every status."),
    ),
    retrieve=extend_schema(summary=_lazy("Show a listing")),
    create=extend_schema(
        summary=_lazy("Post a listing"),
        request=serializers.ListingCreateInputSerializer,
        responses={201: serializers.ListingSerializer},
    ),
    partial_update=extend_schema(
        summary=_lazy("Change a listing"),
        description=_lazy("An enterprise's change to a published listing sends it back for review."),
        request=serializers.ListingChangeInputSerializer,
        responses={200: serializers.ListingSerializer},
    ),
)
class ListingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Offers and needs (资源信息): the board, posting and the review lifecycle."""

    serializer_class = serializers.ListingSerializer
    filterset_class = ListingFilter
    queryset = Listing.objects.none()

    def queryset_model(self) -> Any:
        return Listing

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(*LISTING_RELATED)

    def get_queryset(self) -> QuerySet[Listing]:
        # NULLs (drafts) last on both databases, so SQLite and PostgreSQL page the same way.
        newest = F("published_at").desc(nulls_last=True)
        return self.decorate(Listing.objects.for_user(self.user, VIEW)).order_by(newest, "-id")

    def _fetch(self, pk: int, action_name: str) -> Listing:
        return get_for_user(self.decorate(Listing.objects.all()), self.user, action_name, pk=pk)

    def _respond(self, listing: Listing, status_code: int = status.HTTP_200_OK) -> Response:
        listing = self.decorate(Listing.objects.all()).get(pk=listing.pk)
        return Response(serializers.ListingSerializer(listing, context=self.get_serializer_context()).data,
                        status=status_code)  # fmt: skip

    def create(self, request: Request) -> Response:
        data = serializers.ListingCreateInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        enterprise = fields.pop("enterprise")
        publish, submit = fields.pop("publish"), fields.pop("submit")
        if publish and not selectors.may_publish_directly(self.user, enterprise):
            raise PermissionDenied(_("Only staff who review the enterprise's listings may publish them directly."))
        listing = services.create_listing(
            actor=self.user, enterprise=enterprise, direction=fields.pop("direction"), category=fields.pop("category"),
            title=fields.pop("title"), valid_until=fields.pop("valid_until"), external_id=fields.pop("external_id"),
            submit=submit, publish=publish, **fields,
        )  # fmt: skip
        return self._respond(listing, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: int) -> Response:
        listing = self._fetch(pk, CHANGE)
        data = serializers.ListingChangeInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        listing = services.update_listing(actor=self.user, listing=listing, **data.validated_data)
        return self._respond(listing)

    def _move(
        self, request: Request, pk: int, action_name: str, to_status: str, *, note_required: bool = False
    ) -> Response:
        listing = self._fetch(pk, action_name)
        data = serializers.ListingNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = data.validated_data["note"].strip()
        if note_required and not note:
            raise ValidationError({"note": [_("Say what should be changed.")]})
        listing = services.transition_listing(actor=self.user, listing=listing, to_status=to_status, note=note)
        return self._respond(listing)

    @extend_schema(summary=_lazy("Send a listing for review"), request=serializers.ListingNoteInputSerializer,
                   responses={200: serializers.ListingSerializer})  # fmt: skip
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: int) -> Response:
        return self._move(request, pk, CHANGE, Listing.Status.PENDING)

    @extend_schema(summary=_lazy("Publish a listing (review)"), request=serializers.ListingNoteInputSerializer,
                   responses={200: serializers.ListingSerializer})  # fmt: skip
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: int) -> Response:
        return self._move(request, pk, REVIEW, Listing.Status.PUBLISHED)

    @extend_schema(summary=_lazy("Return a listing for changes (review)"),
                   request=serializers.ListingNoteInputSerializer,
                   responses={200: serializers.ListingSerializer})  # fmt: skip
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: int) -> Response:
        return self._move(request, pk, REVIEW, Listing.Status.REJECTED, note_required=True)

    @extend_schema(summary=_lazy("Close a listing"), request=serializers.ListingNoteInputSerializer,
                   responses={200: serializers.ListingSerializer})  # fmt: skip
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: int) -> Response:
        # The poster and the reviewers may close; the service checks which applies.
        return self._move(request, pk, VIEW, Listing.Status.CLOSED)

    @extend_schema(
        summary=_lazy("Ranked matches of a listing"),
        description=_lazy(
            "For the listing's own enterprise and its reviewers: the listings of the opposite direction that fit "
            "it best, with a calibrated 0..1 relevance and the reasons, and the stored match of each pair the caller "
            "may see (to move its status)."
        ),
        parameters=[
            OpenApiParameter(
                "top",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description=_lazy("How many matches (1–50, default 10)."),
            )
        ],
        responses={200: serializers.RankedMatchSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def matches(self, request: Request, pk: int) -> Response:
        listing = self._fetch(pk, RANK)
        try:
            top = int(request.query_params.get("top", 10))
        except ValueError as exc:
            raise ValidationError({"top": [_("Give a whole number.")]}) from exc
        if not 1 <= top <= MAX_TOP:
            raise ValidationError({"top": [_("Give a number from 1 to %(max)d.") % {"max": MAX_TOP}]})
        items = [
            {
                "rank": rank, "score": round(row["score"], 4), "reasons": serializers.reason_items(row["raw_reasons"]),
                "listing": row["listing"], "match": row["match"].pk if row["match"] else None,
                "match_status": row["match"].status if row["match"] else None,
            }
            for rank, row in enumerate(selectors.ranked_matches(self.user, listing, top=top), start=1)
        ]  # fmt: skip
        return Response(serializers.RankedMatchSerializer(items, many=True).data)


@extend_schema_view(
    list=extend_schema(
        summary=_lazy("List matches"),
        description=_lazy("Matches of the user's enterprises, or of the enterprises in a staff member's scope."),
    ),
    retrieve=extend_schema(summary=_lazy("Show a match")),
)
class MatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Offer–need matches (供需对接) and their workflow from suggestion to deal."""

    serializer_class = serializers.MatchSerializer
    filterset_class = MatchFilter
    queryset = Match.objects.none()
    http_method_names = ["get", "post", "head", "options"]

    def queryset_model(self) -> Any:
        return Match

    def decorate(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related(*MATCH_RELATED)

    def get_queryset(self) -> QuerySet[Match]:
        return self.decorate(Match.objects.for_user(self.user, VIEW)).order_by("-updated_at", "-id")

    @extend_schema(
        summary=_lazy("Move a match"),
        description=_lazy(
            "For the two enterprises of the match: contacted or in_talks agrees to talk for the caller's side (both "
            "agreeing starts the talks); deal proposes a deal (deal_amount in yuan, deal_date) or confirms the "
            "other side's proposal, which then counts; declined (with a reason) ends the match. Staff who manage "
            "one side may decline. Send an Idempotency-Key header so that a retried request is not applied twice."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.MatchStatusInputSerializer,
        responses={200: serializers.MatchSerializer, 409: OpenApiResponse(description=_lazy("Same key in use."))},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def move(self, request: Request, pk: int) -> Response:
        match = self.fetch(pk, VIEW)
        data = serializers.MatchStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data

        def produce() -> Response:
            moved = services.move_match(
                actor=self.user, match=match, to_status=values["status"], deal_amount=values.get("deal_amount"),
                deal_date=values.get("deal_date"), reason=values.get("reason", ""),
            )  # fmt: skip
            moved = self.decorate(Match.objects.all()).get(pk=moved.pk)
            return Response(serializers.MatchSerializer(moved, context=self.get_serializer_context()).data)

        return idempotency.run(request, scope=f"match-status:{match.pk}", body=values, produce=produce)
