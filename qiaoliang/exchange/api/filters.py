"""Query filters of the exchange API (django-filter sets)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.permissions import VIEW
from qiaoliang.exchange.models import Category, Direction, Listing, Match
from qiaoliang.exchange.search import search_listings
from qiaoliang.orgs.models import Organization


def region_prefix(code: str) -> str:
    """Return the code prefix a region takes in: a province (110000) or city (110100) takes what lies below."""
    code = code.strip()
    if len(code) != 6 or not code.isdigit():
        return code
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


class ListingFilter(django_filters.FilterSet):
    """Filter listings as the board does, plus status; `search` is the Chinese full-text search."""

    direction = django_filters.ChoiceFilter(choices=Direction.choices, help_text=_("Offer or need."))
    category = django_filters.ChoiceFilter(choices=Category.choices, help_text=_("Category of the listing."))
    status = django_filters.ChoiceFilter(choices=Listing.Status.choices, help_text=_("Status of the listing."))
    industry = django_filters.CharFilter(
        method="filter_industry",
        help_text=_("GB/T 4754-2017 section letter or code; a shorter code takes its whole branch."),
    )
    region = django_filters.CharFilter(
        method="filter_region", help_text=_("GB/T 2260 region code; a province or city code takes everything below it.")
    )
    organization = django_filters.NumberFilter(
        method="filter_organization",
        help_text=_("Id of an organisation: listings it or an organisation below it reviews."),
    )
    enterprise = django_filters.NumberFilter(field_name="enterprise_id", help_text=_("Id of the enterprise."))
    urgent = django_filters.BooleanFilter(field_name="is_urgent", help_text=_("Only urgent listings (true) or others."))
    search = django_filters.CharFilter(
        method="filter_search",
        help_text=_("Words to find in title and description (Chinese, Simplified or Traditional)."),
    )

    class Meta:
        model = Listing
        fields = ["direction", "category", "status", "industry", "region", "organization", "enterprise", "urgent"]

    def filter_industry(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        value = value.strip().upper()
        if not value:
            return queryset
        if value.isalpha():
            return queryset.filter(industry__section=value)
        return queryset.filter(industry__code__startswith=value)

    def filter_region(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        prefix = region_prefix(value)
        return queryset.filter(region__code__startswith=prefix) if prefix else queryset

    def filter_organization(self, queryset: QuerySet[Listing], name: str, value: Any) -> QuerySet[Listing]:
        # An organisation the user cannot see answers as if it did not exist: nothing.
        user = self.request.user if self.request is not None else None
        path = Organization.objects.for_user(user, VIEW).filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        return queryset.filter(organization__path__startswith=path)

    def filter_search(self, queryset: QuerySet[Listing], name: str, value: str) -> QuerySet[Listing]:
        return search_listings(queryset, value)


class MatchFilter(django_filters.FilterSet):
    """Filter matches by status and by one of their listings."""

    status = django_filters.ChoiceFilter(choices=Match.Status.choices, help_text=_("Status of the match."))
    listing = django_filters.NumberFilter(method="filter_listing", help_text=_("Id of the need or the offer."))
    need = django_filters.NumberFilter(field_name="need_id", help_text=_("Id of the need."))
    offer = django_filters.NumberFilter(field_name="offer_id", help_text=_("Id of the offer."))

    class Meta:
        model = Match
        fields = ["status", "listing", "need", "offer"]

    def filter_listing(self, queryset: QuerySet[Match], name: str, value: Any) -> QuerySet[Match]:
        return queryset.filter(Q(need_id=value) | Q(offer_id=value))
