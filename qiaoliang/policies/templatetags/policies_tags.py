"""Template helpers of policies: where an enterprise fills in what a condition is missing."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def missing_url(missing: str) -> str:
    """The facts page opened at the figure, year or declaration a condition needs ("revenue:2025")."""
    field, _sep, rest = missing.split("|")[0].partition(":")
    base = reverse("policies:facts")
    if field == "declaration":
        return f"{base}?{urlencode({'key': rest})}#declarations"
    if field in ("declared_money", "declared_number"):
        return f"{base}?{urlencode({'key': rest})}#declarations"
    if field in ("region", "industry", "size", "ownership", "founded_on"):
        return reverse("orgs:my_enterprise")
    year = rest.split(",")[0] if rest else ""
    return f"{base}?{urlencode({'field': field, 'year': year})}#figures"
