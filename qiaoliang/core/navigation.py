"""The navigation and the home page, filled by the apps: each registers what it offers and to whom.

`core` renders the entries; it imports no app. An entry is shown only when its `visible(user)` says so,
and the view behind it asks the same capability, so no navigation entry leads to a 403. A home panel is
one role's work (its to-dos and figures) with its own template and context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    """One entry of the main navigation."""

    key: str
    label: Any
    url_name: str
    order: int
    visible: Callable[[Any], bool]
    namespaces: tuple[str, ...] = ()
    url_names: tuple[str, ...] = ()  # within a namespace shared with other entries
    badge: Callable[[Any], int] | None = None
    testid: str = ""

    def is_active(self, request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        if match is None:
            return False
        if self.url_names:
            return f"{match.namespace}:{match.url_name}" in self.url_names
        return match.namespace in self.namespaces


@dataclass(frozen=True)
class HomePanel:
    """One block of a role's home page: a template and the context it needs."""

    key: str
    order: int
    template: str
    visible: Callable[[Any], bool]
    context: Callable[[HttpRequest], dict[str, Any]] = field(default=lambda request: {})
    # Where the panel shows: "home" (a role's 工作台) or another page that gathers sections from several apps
    # (e.g. "exchange.stats", where the events app adds the deals of matchmaking meetings).
    place: str = "home"


_items: dict[str, NavItem] = {}
_panels: dict[str, HomePanel] = {}


def register_nav(item: NavItem) -> None:
    """Add a navigation entry (its key must be new)."""
    if item.key in _items:
        raise ImproperlyConfigured(f"navigation entry {item.key!r} registered twice")
    _items[item.key] = item


def register_panel(panel: HomePanel) -> None:
    """Add a home-page panel (its key must be new)."""
    if panel.key in _panels:
        raise ImproperlyConfigured(f"home panel {panel.key!r} registered twice")
    _panels[panel.key] = panel


def nav_for(request: HttpRequest) -> list[dict[str, Any]]:
    """Return the entries the request's user may use, in order, with their links, badges and state."""
    user = request.user
    entries = []
    for item in sorted(_items.values(), key=lambda entry: (entry.order, entry.key)):
        if not item.visible(user):
            continue
        entries.append(
            {
                "key": item.key,
                "label": item.label,
                "url": reverse(item.url_name),
                "active": item.is_active(request),
                "badge": item.badge(user) if item.badge else 0,
                "testid": item.testid or f"nav-{item.key}",
            }
        )
    return entries


def panels_for(request: HttpRequest, place: str = "home") -> list[dict[str, Any]]:
    """Return the panels of a place (the home page by default) the request's user may see, with their context."""
    user = request.user
    return [
        {"key": panel.key, "template": panel.template, **panel.context(request)}
        for panel in sorted(_panels.values(), key=lambda entry: (entry.order, entry.key))
        if panel.place == place and panel.visible(user)
    ]
