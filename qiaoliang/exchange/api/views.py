"""API views of the exchange: thin, scoped through `for_user`/`get_for_user`, writes through services."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.cache import cache
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core.permissions import CHANGE, VIEW, get_for_user
from qiaoliang.exchange import matching_service, selectors, services
from qiaoliang.exchange.api import serializers
from qiaoliang.exchange.api.filters import ListingFilter, MatchFilter
from qiaoliang.exchange.models import Listing, Match
from qiaoliang.exchange.permissions import REVIEW
from qiaoliang.orgs.api.views import ScopedViewSet

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
            "The listings of the opposite direction that fit this one best, with a 0..1 score and the reasons, "
            "and the stored match of each pair if there is one (to move its status)."
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
        listing = self._fetch(pk, VIEW)
        try:
            top = int(request.query_params.get("top", 10))
        except ValueError as exc:
            raise ValidationError({"top": [_("Give a whole number.")]}) from exc
        if not 1 <= top <= MAX_TOP:
            raise ValidationError({"top": [_("Give a number from 1 to %(max)d.") % {"max": MAX_TOP}]})
        ranked = matching_service.rank(listing, top_n=top)
        visible = set(
            Listing.objects.for_user(self.user, VIEW).filter(pk__in=[other.pk for other, _r in ranked])
            .values_list("pk", flat=True)
        )  # fmt: skip
        pair = Q(need=listing) if listing.direction == "need" else Q(offer=listing)
        stored = {
            (m.offer_id if listing.direction == "need" else m.need_id): m
            for m in Match.objects.filter(pair).only("id", "need_id", "offer_id", "status")
        }
        items: list[dict[str, Any]] = []
        for other, result in ranked:
            if other.pk not in visible:
                continue
            match = stored.get(other.pk)
            items.append({
                "rank": len(items) + 1, "score": round(result.score, 4),
                "reasons": serializers.reason_items(result.reasons), "listing": other,
                "match": match.pk if match else None, "match_status": match.status if match else None,
            })  # fmt: skip
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
            "contacted, in_talks, deal (with deal_amount in yuan and deal_date) or declined (with a reason). "
            "Send an Idempotency-Key header so that a retried request is not applied twice."
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=serializers.MatchStatusInputSerializer,
        responses={200: serializers.MatchSerializer, 409: OpenApiResponse(description=_lazy("Same key in use."))},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def move(self, request: Request, pk: int) -> Response:
        match = get_for_user(self.decorate(Match.objects.all()), self.user, CHANGE, pk=pk)
        data = serializers.MatchStatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with IdempotentRequest(request, scope=f"match-status:{match.pk}", body=data.validated_data) as replay:
            if replay.response is not None:
                return replay.response
            values = data.validated_data
            match = services.transition_match(
                actor=self.user, match=match, to_status=values["status"], deal_amount=values.get("deal_amount"),
                deal_date=values.get("deal_date"), reason=values.get("reason", ""),
            )  # fmt: skip
            match = self.decorate(Match.objects.all()).get(pk=match.pk)
            response = Response(serializers.MatchSerializer(match, context=self.get_serializer_context()).data)
            replay.store(response)
            return response


class IdempotentRequest:
    """Make a retried write safe with the client's Idempotency-Key header, remembered in the cache for a day.

    The key is claimed with `cache.add` (atomic in Redis and in the local-memory cache), so of two requests
    with the same key one runs and the other gets 409 until the first has finished; afterwards the same key
    with the same body returns the stored answer. Keys are per user and per target, so users cannot collide.
    A request without the header runs normally; the status table still refuses a repeated move.
    """

    TIMEOUT = 24 * 60 * 60
    VERSION = 1

    def __init__(self, request: Request, *, scope: str, body: dict[str, Any]) -> None:
        self.key = (request.headers.get("Idempotency-Key") or "").strip()
        if len(self.key) > 100:
            raise ValidationError({"Idempotency-Key": [_("The key is longer than 100 characters.")]})
        digest = hashlib.sha256(f"{request.user.pk}:{scope}:{self.key}".encode()).hexdigest()
        self.cache_key = f"qiaoliang:idempotency:v{self.VERSION}:{digest}"
        self.fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
        self.response: Response | None = None
        self._claimed = False

    def __enter__(self) -> IdempotentRequest:
        if not self.key:
            return self
        if cache.add(self.cache_key, {"state": "running", "fingerprint": self.fingerprint}, self.TIMEOUT):
            self._claimed = True
            return self
        stored = cache.get(self.cache_key) or {}
        if stored.get("fingerprint") != self.fingerprint:
            raise ValidationError({"Idempotency-Key": [_("This key was used for a different request.")]})
        if stored.get("state") != "done":
            self.response = Response(
                {"detail": _("A request with this key is still running; try again."), "code": "idempotency_conflict"},
                status=status.HTTP_409_CONFLICT,
            )
            return self
        self.response = Response(stored["data"], status=stored["status"], headers={"Idempotent-Replayed": "true"})
        return self

    def store(self, response: Response) -> None:
        if self._claimed:
            cache.set(self.cache_key, {"state": "done", "fingerprint": self.fingerprint, "status": response.status_code,
                                       "data": response.data}, self.TIMEOUT)  # fmt: skip

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if self._claimed and exc_type is not None:
            cache.delete(self.cache_key)  # the change was not applied: a retry may run again
