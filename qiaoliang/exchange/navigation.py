"""What the exchange offers in the navigation and on each role's home page."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.navigation import HomePanel, NavItem, register_nav, register_panel
from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, has_capability
from qiaoliang.exchange.models import Listing, Match
from qiaoliang.orgs.selectors import get_scope

register_nav(
    NavItem("exchange", _("Resource exchange"), "exchange:board", 80, lambda user: has_capability(user, "exchange.use"),
            namespaces=("exchange",))
)  # fmt: skip


def _review_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    pending = Listing.objects.for_user(user, REVIEW).filter(status=Listing.Status.PENDING)
    month_start = timezone.localdate().replace(day=1)
    deals = Match.objects.for_user(user, VIEW).filter(status=Match.Status.DEAL, deal_date__gte=month_start)
    return {
        "pending_count": pending.count(),
        "urgent_pending": pending.filter(is_urgent=True).count(),
        "oldest": list(pending.select_related("enterprise").order_by("-is_urgent", "updated_at")[:5]),
        "urgent_needs": Listing.objects.for_user(user, VIEW)
        .published()
        .filter(direction="need", is_urgent=True)
        .count(),
        "deals_this_month": deals.count(),
    }


register_panel(
    HomePanel(
        "exchange-review",
        20,
        "exchange/panels/review.html",
        lambda user: has_capability(user, "exchange.review"),
        _review_context,
    )
)


def _enterprise_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    own = get_scope(user).own_enterprise_ids
    listings = Listing.objects.filter(enterprise_id__in=own)
    by_status = dict(listings.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    mine = Q(need__enterprise_id__in=own) | Q(offer__enterprise_id__in=own)
    matches = Match.objects.filter(mine)
    waiting_for_me = matches.filter(
        Q(status=Match.Status.CONTACTED)
        & ((Q(need__enterprise_id__in=own) & Q(need_agreed_at__isnull=True))
           | (Q(offer__enterprise_id__in=own) & Q(offer_agreed_at__isnull=True)))
    )  # fmt: skip
    to_confirm = (
        matches.filter(status=Match.Status.IN_TALKS)
        .exclude(proposed_side="")
        .exclude(
            Q(proposed_side="need", need__enterprise_id__in=own)
            | Q(proposed_side="offer", offer__enterprise_id__in=own)
        )
    )
    return {
        "published": by_status.get(Listing.Status.PUBLISHED, 0),
        "pending": by_status.get(Listing.Status.PENDING, 0),
        "returned": by_status.get(Listing.Status.REJECTED, 0),
        "drafts": by_status.get(Listing.Status.DRAFT, 0),
        "suggested": matches.filter(status=Match.Status.SUGGESTED).count(),
        "in_talks": matches.filter(status=Match.Status.IN_TALKS).count(),
        "waiting_for_me": list(waiting_for_me.select_related("need", "offer").order_by("-updated_at")[:5]),
        "to_confirm": list(to_confirm.select_related("need", "offer")[:5]),
        "returned_listings": list(listings.filter(status=Listing.Status.REJECTED).order_by("-updated_at")[:3]),
    }


register_panel(
    HomePanel("exchange-enterprise", 6, "exchange/panels/enterprise.html",
              lambda user: has_capability(user, "exchange.party"), _enterprise_context)
)  # fmt: skip


def _browse_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    needs = (
        Listing.objects.for_user(user, VIEW).published().filter(direction="need")
        .select_related("enterprise").order_by("-is_urgent", "-published_at")[:6]
    )  # fmt: skip
    return {"needs": list(needs), "may_post": Listing.objects.for_user(user, CHANGE).exists()}


def _is_browser(user: Any) -> bool:
    scope = get_scope(user)
    return scope.has_role and not scope.own_enterprise_ids and not has_capability(user, "exchange.review")


register_panel(HomePanel("exchange-browse", 30, "exchange/panels/browse.html", _is_browser, _browse_context))
