"""What events offer in the navigation, on each role's home page, and on the exchange's statistics page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.navigation import HomePanel, NavItem, register_nav, register_panel
from qiaoliang.core.permissions import CHANGE, VIEW, has_capability
from qiaoliang.events import selectors
from qiaoliang.events.models import Event
from qiaoliang.orgs.selectors import get_scope

UPCOMING = 6

register_nav(
    NavItem(
        "events",
        _("Events"),
        "events:list",
        85,
        lambda user: has_capability(user, "events.use"),
        namespaces=("events",),
    )
)


def _manage_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    mine = Event.objects.for_user(user, CHANGE).exclude(status=Event.Status.CANCELLED)
    upcoming = selectors.with_counts(mine.filter(ends_at__gte=now).select_related("organization")).order_by(
        "starts_at"
    )[:UPCOMING]
    to_conclude = mine.filter(status=Event.Status.PUBLISHED, ends_at__lt=now).order_by("-ends_at")[:3]
    return {
        "upcoming": list(upcoming),
        "to_conclude": list(to_conclude),
        "drafts": mine.filter(status=Event.Status.DRAFT).count(),
        "is_convenor": bool(get_scope(user).zone_ids),
    }


register_panel(
    HomePanel(
        "events-manage",
        15,
        "events/panels/manage.html",
        lambda user: has_capability(user, "events.manage"),
        _manage_context,
    )
)


def _enterprise_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "tickets": list(selectors.my_tickets(user)[:UPCOMING]),
        "participations": selectors.own_participations(user)[:3],
    }


register_panel(
    HomePanel(
        "events-enterprise",
        8,
        "events/panels/enterprise.html",
        lambda user: has_capability(user, "events.enterprise"),
        _enterprise_context,
    )
)


def _speaker_context(request: HttpRequest) -> dict[str, Any]:
    return {"talks": list(selectors.speaking_events(request.user)[:UPCOMING])}


def _is_speaker_role(user: Any) -> bool:
    return has_capability(user, "events.speak")


register_panel(HomePanel("events-speaker", 12, "events/panels/speaker.html", _is_speaker_role, _speaker_context))


def _upcoming_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    events = (
        Event.objects.for_user(user, VIEW)
        .filter(status=Event.Status.PUBLISHED, ends_at__gte=timezone.now())
        .select_related("organization")
        .order_by("starts_at")[:UPCOMING]
    )
    return {"events": list(events)}


def _is_member_only(user: Any) -> bool:
    scope = get_scope(user)
    return scope.has_role and not has_capability(user, "events.manage") and not scope.own_enterprise_ids


register_panel(HomePanel("events-upcoming", 40, "events/panels/upcoming.html", _is_member_only, _upcoming_context))


def _deals_context(request: HttpRequest) -> dict[str, Any]:
    return {"deals": selectors.meeting_deals(request.user)}


register_panel(
    HomePanel(
        "events-meeting-deals",
        50,
        "events/panels/exchange_stats.html",
        lambda user: has_capability(user, "events.use"),
        _deals_context,
        place="exchange.stats",
    )
)
