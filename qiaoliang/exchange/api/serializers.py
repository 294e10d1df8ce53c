"""Serializers of the exchange API: input serializers check shape, output serializers present; no writes here."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiaoliang.core.serializers import (
    IndustryBriefSerializer,
    IndustryCodeField,
    RegionBriefSerializer,
    RegionCodeField,
)
from qiaoliang.exchange.models import Category, Direction, Listing, Match
from qiaoliang.exchange.reasons import describe
from qiaoliang.orgs.api.serializers import EnterpriseBriefSerializer, OrganizationBriefSerializer
from qiaoliang.orgs.models import Enterprise

# --- output -------------------------------------------------------------------


# The subset of statuses a client may move a match to (a named enum in the OpenAPI schema: MatchMoveEnum).
MATCH_MOVES = [choice for choice in Match.Status.choices if choice[0] != Match.Status.SUGGESTED]


class ReasonSerializer(serializers.Serializer):
    """One reason for a match: its code, the sentence in the request's language, and its parameters."""

    code = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
    params = serializers.DictField(read_only=True)


def reason_items(reasons: list[Any] | None) -> list[dict[str, Any]]:
    """Return stored or engine reasons as {code, text, params} (text translated; unknown codes have no text)."""
    items = []
    for reason in reasons or []:
        if isinstance(reason, dict):
            code, params = str(reason.get("code", "")), {k: v for k, v in reason.items() if k != "code"}
        else:
            code, params = reason.code, dict(reason.params)
        items.append({"code": code, "text": describe(code, params), "params": params})
    return items


class ListingSerializer(serializers.ModelSerializer):
    """Present a listing with its enterprise, reviewing organisation, industry and region."""

    enterprise = EnterpriseBriefSerializer(read_only=True)
    organization = OrganizationBriefSerializer(read_only=True)
    industry = IndustryBriefSerializer(read_only=True, allow_null=True)
    region = RegionBriefSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=Listing.Status.choices, read_only=True)

    class Meta:
        model = Listing
        fields = [
            "id", "external_id", "direction", "category", "title", "description", "enterprise", "organization",
            "industry", "region", "service_area", "quantity", "unit", "price_min", "price_max", "price_text",
            "valid_until", "contact_visibility", "is_urgent", "status", "review_note", "published_at", "created_at",
            "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ListingBriefSerializer(serializers.ModelSerializer):
    """Present a listing in a match: what it is and who posted it."""

    enterprise = EnterpriseBriefSerializer(read_only=True)
    status = serializers.ChoiceField(choices=Listing.Status.choices, read_only=True)

    class Meta:
        model = Listing
        fields = ["id", "external_id", "direction", "category", "title", "enterprise", "region", "status",
                  "valid_until"]  # fmt: skip
        read_only_fields = fields


class MatchSerializer(serializers.ModelSerializer):
    """Present a match: the need, the offer, score, reasons and where the workflow stands."""

    need = ListingBriefSerializer(read_only=True)
    offer = ListingBriefSerializer(read_only=True)
    reasons = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Match.Status.choices, read_only=True)

    class Meta:
        model = Match
        fields = ["id", "need", "offer", "score", "reasons", "status", "need_agreed_at", "offer_agreed_at",
                  "proposed_side", "proposed_amount", "proposed_date", "deal_amount", "deal_date", "confirmed_at",
                  "declined_reason", "introduced_by", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, match: Match) -> list[dict[str, Any]]:
        return reason_items(match.reasons)


class RankedMatchSerializer(serializers.Serializer):
    """Present one ranked match of a listing: the other listing, score 0..1, reasons, and the stored match."""

    rank = serializers.IntegerField(read_only=True)
    score = serializers.FloatField(read_only=True)
    reasons = ReasonSerializer(many=True, read_only=True)
    listing = ListingBriefSerializer(read_only=True)
    match = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("Id of the stored match of the two listings, if there is one.")
    )
    match_status = serializers.ChoiceField(choices=Match.Status.choices, read_only=True, allow_null=True)


# --- input --------------------------------------------------------------------


class ListingChangeInputSerializer(serializers.Serializer):
    """Check the fields of a listing a client may set or change."""

    direction = serializers.ChoiceField(choices=Direction.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    industry = IndustryCodeField(required=False, allow_null=True)
    region = RegionCodeField(required=False, allow_null=True)
    service_area = serializers.CharField(max_length=120, required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    price_min = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, min_value=0,
        help_text=_("Lower end of the price or budget, in yuan."),
    )  # fmt: skip
    price_max = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, min_value=0,
        help_text=_("Upper end of the price or budget, in yuan."),
    )  # fmt: skip
    price_text = serializers.CharField(max_length=40, required=False, allow_blank=True)
    valid_until = serializers.DateField()
    contact_visibility = serializers.ChoiceField(choices=Listing.ContactVisibility.choices, required=False)
    is_urgent = serializers.BooleanField(required=False)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("A listing needs a title."))
        return value.strip()


class ListingCreateInputSerializer(ListingChangeInputSerializer):
    """Check a new listing: an enterprise the user may post for, and whether to submit or publish it."""

    enterprise = serializers.PrimaryKeyRelatedField(
        queryset=Enterprise.objects.all(), help_text=_("Id of the enterprise that offers or needs.")
    )
    external_id = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(default=False, help_text=_("Send the listing for review at once."))
    publish = serializers.BooleanField(
        default=False, help_text=_("Publish at once (only for staff who review the enterprise's listings).")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            field: Any = self.fields["enterprise"]
            field.queryset = Enterprise.objects.for_user(request.user, "change")


class ListingNoteInputSerializer(serializers.Serializer):
    """Check the note that goes with a status change (required when returning a listing for changes)."""

    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MatchStatusInputSerializer(serializers.Serializer):
    """Check a move of a match: contacted, in talks, deal (amount and date) or declined (reason)."""

    status = serializers.ChoiceField(choices=MATCH_MOVES, help_text=_("The new status."))
    deal_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, required=False, allow_null=True, help_text=_("Deal amount in yuan.")
    )
    deal_date = serializers.DateField(required=False, allow_null=True, help_text=_("Date of the deal."))
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="",
                                   help_text=_("Why the match was declined."))  # fmt: skip
