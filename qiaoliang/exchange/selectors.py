"""Reads for the resource exchange: the board, a user's listings, the review queue, matches and statistics.

Every read goes through `for_user`; helpers that decorate a page of rows (contacts, match states) take
the page's objects and run a fixed number of queries whatever the page size.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, VIEW_PERSONAL, can, has_capability
from qiaoliang.core.regions import region_filter
from qiaoliang.exchange import matching_service
from qiaoliang.exchange.models import (
    CapacityDeclaration,
    EmergencyBoard,
    Listing,
    ListingStatusChange,
    Match,
    MatchMessage,
)
from qiaoliang.exchange.permissions import RANK
from qiaoliang.exchange.reasons import describe_all
from qiaoliang.exchange.search import search_listings
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person
from qiaoliang.orgs.selectors import get_scope

LISTING_RELATED = ("enterprise", "region", "industry", "contact_person", "organization")
MATCH_RELATED = ("need", "offer", "need__enterprise", "offer__enterprise", "need__region", "offer__region")


@dataclass(frozen=True)
class BoardFilters:
    """The board's search box and filters, parsed leniently from a GET mapping."""

    q: str = ""
    direction: str = ""
    category: str = ""
    industry: str = ""
    region: str = ""
    organization: int | None = None
    urgent: bool = False

    @classmethod
    def from_mapping(cls, data: Any) -> BoardFilters:
        """Build filters from a GET mapping, ignoring values that cannot be right."""
        organization = str(data.get("organization") or "").strip()
        return cls(
            q=str(data.get("q") or "").strip()[:100],
            direction=str(data.get("direction") or "").strip()[:8],
            category=str(data.get("category") or "").strip()[:12],
            industry=str(data.get("industry") or "").strip()[:5].upper(),
            region=str(data.get("region") or "").strip()[:6],
            organization=int(organization) if organization.isdecimal() else None,
            urgent=str(data.get("urgent") or "").lower() in {"1", "on", "true", "yes"},
        )

    def as_query(self) -> dict[str, str]:
        """Return the active filters as query parameters."""
        values = {k: v for k, v in self.__dict__.items() if v not in ("", None, False)}
        if self.urgent:
            values["urgent"] = "1"
        return {k: str(v) for k, v in values.items()}


def board_listings(user: Any, filters: BoardFilters) -> QuerySet[Listing]:
    """Return the published listings the user may see, filtered and searched, urgent ones first."""
    queryset: QuerySet[Listing] = Listing.objects.for_user(user, "view").published().select_related(*LISTING_RELATED)
    if filters.direction in {"offer", "need"}:
        queryset = queryset.filter(direction=filters.direction)
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.industry:
        if filters.industry.isalpha():
            queryset = queryset.filter(industry__section=filters.industry)
        else:
            queryset = queryset.filter(industry__code__startswith=filters.industry)
    if filters.region:
        queryset = queryset.filter(region_filter("region_id", filters.region))
    if filters.organization:
        queryset = queryset.filter(
            Q(organization_id=filters.organization)
            | Exists(
                Membership.objects.filter(enterprise_id=OuterRef("enterprise_id"), organization_id=filters.organization)
            )
        )
    if filters.urgent:
        queryset = queryset.filter(is_urgent=True)
    queryset = search_listings(queryset, filters.q)
    return queryset.order_by("-is_urgent", "-published_at", "-id")


def my_listings(user: Any, status: str = "") -> QuerySet[Listing]:
    """Return the listings the user may change (their enterprise's, or those of enterprises they manage)."""
    queryset = Listing.objects.for_user(user, CHANGE).select_related(*LISTING_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.annotate(
        match_count=Count("matches_as_need", distinct=True) + Count("matches_as_offer", distinct=True)
    ).order_by("-updated_at", "-id")


def review_queue(user: Any) -> QuerySet[Listing]:
    """Return the listings waiting for the user's review: urgent ones first, then the longest waiting."""
    return (
        Listing.objects.for_user(user, REVIEW)
        .filter(status=Listing.Status.PENDING)
        .select_related(*LISTING_RELATED)
        .order_by("-is_urgent", "updated_at", "id")
    )


def changeable_enterprises(user: Any) -> QuerySet[Enterprise]:
    """Return the enterprises the user may post listings for, by pinyin."""
    return Enterprise.objects.for_user(user, CHANGE).filter(is_active=True).order_by("name_pinyin", "id")


def may_publish_directly(user: Any, enterprise: Enterprise) -> bool:
    """Tell whether the user reviews the enterprise's listings, so what they post goes up at once."""
    scope = get_scope(user)
    if scope.is_all:
        return True
    if not scope.change_org_ids:
        return False
    return Membership.objects.filter(
        enterprise=enterprise, status=Membership.Status.ACTIVE, organization_id__in=scope.change_org_ids
    ).exists() or (enterprise.registered_by_id in scope.change_org_ids)


def may_review_any(user: Any) -> bool:
    """Tell whether the user reviews listings somewhere (for the navigation)."""
    return has_capability(user, "exchange.review")


def contact_people(enterprise_ids: Sequence[int]) -> QuerySet[Person]:
    """Return the people listings of these enterprises may name as contact."""
    return Person.objects.filter(enterprise_id__in=list(enterprise_ids)).order_by("-is_primary_contact", "name_pinyin")


def attach_contacts(user: Any, listings: Sequence[Listing]) -> None:
    """Set `contact` and `contact_visible` on each listing (a fixed number of queries for a page).

    - public: every signed-in user who sees the listing;
    - members: the contacts of enterprises that share an active membership with the listing's enterprise;
    - matched: the other party of a match in talks or closed as a deal (both sides agreed to talk).
    The posting enterprise's own contacts and the users who manage it (staff, its secretaries) always see it;
    a zone convenor's view-only reach does not show personal numbers.
    """
    if not listings:
        return
    scope = get_scope(user)
    ids = [listing.pk for listing in listings]
    enterprise_ids = {listing.enterprise_id for listing in listings}
    primary: dict[int, Person] = {}
    for person in Person.objects.filter(enterprise_id__in=enterprise_ids, is_primary_contact=True).order_by("id"):
        primary.setdefault(person.enterprise_id, person)  # type: ignore[arg-type]
    own = set(scope.own_enterprise_ids)
    managed: set[int] = set()
    member_of_mine: set[int] = set()
    matched: set[int] = set()
    if not scope.is_all:
        managed = set(
            Enterprise.objects.for_user(user, VIEW_PERSONAL).filter(pk__in=enterprise_ids).values_list("pk", flat=True)
        )
        if scope.own_organization_ids:
            member_of_mine = set(
                Membership.objects.filter(
                    enterprise_id__in=enterprise_ids, organization_id__in=scope.own_organization_ids,
                    status=Membership.Status.ACTIVE,
                ).values_list("enterprise_id", flat=True)
            )  # fmt: skip
        if own:
            pairs = Match.objects.filter(status__in=[Match.Status.IN_TALKS, Match.Status.DEAL]).filter(
                Q(need_id__in=ids, offer__enterprise_id__in=own) | Q(offer_id__in=ids, need__enterprise_id__in=own)
            )
            for need_id, offer_id in pairs.values_list("need_id", "offer_id"):
                matched.update({need_id, offer_id})
    visibility = Listing.ContactVisibility
    for listing in listings:
        listing.contact = listing.contact_person or primary.get(listing.enterprise_id)  # type: ignore[attr-defined]
        if scope.is_all or listing.enterprise_id in own | managed or listing.contact_visibility == visibility.PUBLIC:
            visible = True
        elif listing.contact_visibility == visibility.MEMBERS:
            visible = listing.enterprise_id in member_of_mine
        else:
            visible = listing.pk in matched
        listing.contact_visible = visible  # type: ignore[attr-defined]


def listing_history(listing: Listing) -> QuerySet[Any]:
    """Return a listing's status timeline with the actors."""
    return listing.history.select_related("actor").order_by("created_at", "id")


def listing_matches_by_other(listing: Listing, other_ids: Sequence[int]) -> dict[int, Match]:
    """Return the stored matches between a listing and other listings, keyed by the other listing's id."""
    if listing.direction == "need":
        rows = Match.objects.filter(need=listing, offer_id__in=list(other_ids))
        return {match.offer_id: match for match in rows}
    rows = Match.objects.filter(offer=listing, need_id__in=list(other_ids))
    return {match.need_id: match for match in rows}


def match_list(user: Any, status: str = "", listing_id: int | None = None) -> QuerySet[Match]:
    """Return the matches the user may see, most recently moved first."""
    queryset = Match.objects.for_user(user, "view").select_related(*MATCH_RELATED)
    if status:
        queryset = queryset.filter(status=status)
    if listing_id:
        queryset = queryset.filter(Q(need_id=listing_id) | Q(offer_id=listing_id))
    return queryset.order_by("-updated_at", "-id")


def match_history(match: Match) -> QuerySet[Any]:
    """Return a match's status timeline with the actors."""
    return match.history.select_related("actor").order_by("created_at", "id")


def match_messages(match: Match) -> QuerySet[MatchMessage]:
    """Return a match's conversation, oldest first, with the senders."""
    return match.messages.select_related("sender").order_by("created_at", "id")


def contact_for(listing: Listing) -> Person | None:
    """Return the person to contact about a listing: its contact, else the enterprise's primary contact."""
    if listing.contact_person_id:
        return listing.contact_person
    return Person.objects.filter(enterprise_id=listing.enterprise_id, is_primary_contact=True).order_by("id").first()


def manages(user: Any, listing: Listing) -> bool:
    """Tell whether the user manages the listing's enterprise (and so sees its personal data)."""
    return Enterprise.objects.for_user(user, VIEW_PERSONAL).filter(pk=listing.enterprise_id).exists()


def own_enterprises(user: Any) -> QuerySet[Enterprise]:
    """Return the enterprises the user is a contact of."""
    return Enterprise.objects.filter(pk__in=get_scope(user).own_enterprise_ids, is_active=True).order_by("name_pinyin")


def ranked_matches(user: Any, listing: Listing, *, top: int = 10) -> list[dict[str, Any]]:
    """Return the engine's ranked listings for one the user may rank, each with the stored match the user may see.

    The engine ranks every open listing; what reaches the user is narrowed to the listings and matches the
    rules let them see.
    """
    if not can(user, RANK, listing):
        return []
    ranked = matching_service.rank(listing, top_n=top)
    visible = set(
        Listing.objects.for_user(user, VIEW).filter(pk__in=[other.pk for other, _result in ranked])
        .values_list("pk", flat=True)
    )  # fmt: skip
    pair = Q(need=listing) if listing.direction == "need" else Q(offer=listing)
    stored = {
        (match.offer_id if listing.direction == "need" else match.need_id): match
        for match in Match.objects.for_user(user, VIEW).filter(pair)
    }
    return [
        {
            "listing": other,
            "score": result.score,
            "percent": round(result.score * 100),
            "reasons": describe_all(result.reasons),
            "raw_reasons": result.reasons,
            "match": stored.get(other.pk),
        }
        for other, result in ranked
        if other.pk in visible
    ]


def introducible_listing(user: Any, direction: str, value: Any) -> Listing | None:
    """Return a published listing of one direction the user may pick, from a submitted id (or None)."""
    text = str(value or "")
    if not text.isdecimal() or int(text) > 2**63 - 1:
        return None
    return (
        Listing.objects.for_user(user, VIEW).published().filter(pk=int(text), direction=direction)
        .select_related("enterprise").first()
    )  # fmt: skip


def introducible_listings(user: Any, direction: str, query: str = "") -> QuerySet[Listing]:
    """Return published listings of one direction staff may pick for an introduction."""
    queryset: QuerySet[Listing] = Listing.objects.for_user(user, "view").published().filter(direction=direction)
    queryset = search_listings(queryset, query) if query else queryset
    return queryset.select_related("enterprise").order_by("-published_at", "-id")


# --- emergency boards --------------------------------------------------------------------


def emergency_needs(user: Any, board: EmergencyBoard, *, top: int = 3, limit: int = 20) -> list[Listing]:
    """Return the board's open urgent needs, each with `fitting` offers: the engine's ranked offers that pass the
    suggestion threshold, the same ranking the need's own page shows (nothing else)."""
    needs = list(
        Listing.objects.for_user(user, VIEW)
        .published()
        .filter(direction="need", category=board.category)
        .select_related("enterprise", "region")
        .order_by("-is_urgent", "-published_at", "-id")[:limit]
    )
    threshold = float(settings.MATCH_SUGGEST_SCORE)
    visible_ids: set[int] = set()
    ranked: dict[int, list[tuple[Listing, Any]]] = {}
    for need in needs:
        ranked[need.pk] = [(offer, result) for offer, result in matching_service.rank(need, top_n=top)
                           if result.score >= threshold]  # fmt: skip
        visible_ids.update(offer.pk for offer, _result in ranked[need.pk])
    visible = set(Listing.objects.for_user(user, VIEW).filter(pk__in=visible_ids).values_list("pk", flat=True))
    for need in needs:
        need.fitting = [  # type: ignore[attr-defined]
            {"offer": offer, "percent": round(result.score * 100), "reasons": describe_all(result.reasons)}
            for offer, result in ranked[need.pk]
            if offer.pk in visible
        ]
    return needs


def capacity_declarations(user: Any, board: EmergencyBoard) -> QuerySet[CapacityDeclaration]:
    """Return the board's stock and capacity declarations of the enterprises the user may see."""
    return (
        CapacityDeclaration.objects.filter(
            board=board, enterprise_id__in=Enterprise.objects.for_user(user, "view").values("pk")
        )
        .select_related("enterprise")
        .order_by("product", "-updated_at")
    )


def boards(user: Any) -> QuerySet[EmergencyBoard]:
    """Return the emergency boards, open ones first, each with its declaration count."""
    counted = EmergencyBoard.objects.annotate(declaration_count=Count("declarations"))
    return counted.order_by("-is_active", "-started_at")


# --- statistics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DealStats:
    """Deals brokered within a user's scope: totals, by category and by month (amounts in yuan)."""

    count: int
    amount: Decimal
    by_category: list[dict[str, Any]]
    by_month: list[dict[str, Any]]


def deal_stats(user: Any, *, since: datetime.date | None = None, organization: Organization | None = None) -> DealStats:
    """Count the deals the user may see and sum their amounts, by category (the need's) and month."""
    deals = Match.objects.for_user(user, "view").filter(status=Match.Status.DEAL)
    if since:
        deals = deals.filter(deal_date__gte=since)
    if organization is not None:
        deals = deals.filter(Q(need__organization=organization) | Q(offer__organization=organization))
    totals = deals.aggregate(count=Count("id"), amount=Sum("deal_amount"))
    by_category = [
        dict(row)
        for row in deals.values("need__category")
        .annotate(count=Count("id"), amount=Sum("deal_amount"))
        .order_by("-count", "need__category")
    ]
    by_month = [
        dict(row)
        for row in deals.annotate(month=TruncMonth("deal_date"))
        .values("month")
        .annotate(count=Count("id"), amount=Sum("deal_amount"))
        .order_by("-month")
    ]
    return DealStats(
        count=totals["count"] or 0,
        amount=totals["amount"] or Decimal("0"),
        by_category=by_category,
        by_month=by_month,
    )


def prefetch_history(queryset: QuerySet[Listing]) -> QuerySet[Listing]:
    """Prefetch listings' timelines with actors (two queries for any page)."""
    return queryset.prefetch_related(
        Prefetch("history", queryset=ListingStatusChange.objects.select_related("actor").order_by("created_at", "id"))
    )
