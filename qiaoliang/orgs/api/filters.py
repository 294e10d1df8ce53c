"""Query filters of the orgs API: django-filter sets, and the member directory's parameters."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person
from qiaoliang.orgs.selectors import DirectoryFilters


class OrganizationFilter(django_filters.FilterSet):
    """Filter organisations by kind, chamber kind and parent."""

    kind = django_filters.ChoiceFilter(choices=Organization.Kind.choices, help_text=_("Kind of organisation."))
    chamber_kind = django_filters.ChoiceFilter(
        choices=[c for c in Organization.ChamberKind.choices if c[0]], help_text=_("Kind of chamber.")
    )
    parent = django_filters.NumberFilter(field_name="parent_id", help_text=_("Id of the parent organisation."))

    class Meta:
        model = Organization
        fields = ["kind", "chamber_kind", "parent"]


class MembershipFilter(django_filters.FilterSet):
    """Filter memberships by organisation, enterprise, member level and status."""

    organization = django_filters.NumberFilter(field_name="organization_id", help_text=_("Id of the organisation."))
    enterprise = django_filters.NumberFilter(field_name="enterprise_id", help_text=_("Id of the enterprise."))
    level = django_filters.ChoiceFilter(choices=Membership.Level.choices, help_text=_("Member level."))
    status = django_filters.ChoiceFilter(choices=Membership.Status.choices, help_text=_("Membership status."))

    class Meta:
        model = Membership
        fields = ["organization", "enterprise", "level", "status"]


class PersonFilter(django_filters.FilterSet):
    """Filter people by enterprise and by whether they are a primary contact."""

    enterprise = django_filters.NumberFilter(field_name="enterprise_id", help_text=_("Id of the enterprise."))
    is_primary_contact = django_filters.BooleanFilter(help_text=_("Only primary contacts (true) or only others."))

    class Meta:
        model = Person
        fields = ["enterprise", "is_primary_contact"]


class DirectoryQuerySerializer(serializers.Serializer):
    """Check the member directory's query parameters; the selector then applies them as the UI does."""

    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text=_("Name (Simplified or Traditional), pinyin or its initials such as bjqy, or the USCC."),
    )  # fmt: skip
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text=_("Same as search."))
    industry = serializers.CharField(
        required=False, allow_blank=True, max_length=5,
        help_text=_("GB/T 4754-2017 section letter or code; a shorter code takes its whole branch."),
    )  # fmt: skip
    region = serializers.RegexField(
        r"^\d{0,6}$", required=False, allow_blank=True,
        help_text=_("GB/T 2260 region code; a province or city code takes everything below it."),
    )  # fmt: skip
    size = serializers.ChoiceField(
        choices=Enterprise.Size.choices, required=False, allow_blank=True, help_text=_("Enterprise size.")
    )
    organization = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Only members of this organisation (id).")
    )
    level = serializers.ChoiceField(
        choices=Membership.Level.choices, required=False, allow_blank=True, help_text=_("Only members of this level.")
    )
    status = serializers.ChoiceField(
        choices=Membership.Status.choices,
        required=False,
        allow_blank=True,
        help_text=_("Only enterprises with a membership in this status."),
    )

    def to_filters(self) -> DirectoryFilters:
        """Return the checked parameters as the directory filters the UI and export use."""
        data: dict[str, Any] = dict(self.validated_data)
        return DirectoryFilters.from_mapping(data)


def _parameter(name: str, field: serializers.Field) -> OpenApiParameter:
    enum = list(field.choices) if isinstance(field, serializers.ChoiceField) else None
    kind = OpenApiTypes.INT if isinstance(field, serializers.IntegerField) else OpenApiTypes.STR
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=field.help_text or "", enum=enum)


DIRECTORY_PARAMETERS = [_parameter(name, field) for name, field in DirectoryQuerySerializer().fields.items()]
