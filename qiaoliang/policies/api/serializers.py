"""API shapes of policies."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from qiaoliang.policies.models import Policy, PolicyQuestion, SupportItem


class SupportItemSerializer(serializers.ModelSerializer):
    rule = serializers.SerializerMethodField()

    class Meta:
        model = SupportItem
        fields = ["id", "policy", "name", "benefit", "max_amount", "how_to_apply", "window_opens", "window_closes",
                  "delivery", "rule"]  # fmt: skip
        read_only_fields = fields

    def get_rule(self, item: SupportItem) -> dict[str, Any] | None:
        rules = getattr(item, "active_rules", None)
        rule = rules[0] if rules else None
        return {"version": rule.version, "expression": rule.expression} if rule else None


class PolicySerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name", read_only=True)
    # A plain string: many policies have no source link, and "" is not a URI (the schema's "uri" format).
    source_url = serializers.CharField(read_only=True)

    class Meta:
        model = Policy
        fields = ["id", "title", "issuer", "document_number", "level", "issued_on", "effective_from", "expires_on",
                  "source_url", "summary", "status", "published_at", "organization"]  # fmt: skip
        read_only_fields = fields


class PolicyCreateSerializer(serializers.Serializer):
    organization = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    title = serializers.CharField(max_length=200)
    issuer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    document_number = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    level = serializers.ChoiceField(choices=Policy.Level.choices, default=Policy.Level.MUNICIPAL)
    issued_on = serializers.DateField(required=False, allow_null=True, default=None)
    effective_from = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    source_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    summary = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    full_text = serializers.CharField(max_length=200_000, required=False, allow_blank=True, default="")


class PolicyConditionResultSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # the condition's text, not a field label
    state = serializers.ChoiceField(choices=[("met", "met"), ("not_met", "not_met"), ("unknown", "unknown")])
    actual = serializers.CharField()
    missing = serializers.CharField()
    clause = serializers.IntegerField(allow_null=True)


class PolicyDecisionSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    item_name = serializers.CharField()
    policy = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=[("eligible", "eligible"), ("ineligible", "ineligible"),
                                                ("needs_data", "needs_data")])  # fmt: skip
    provisional = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    near_miss = serializers.ListField(child=serializers.CharField())
    conditions = PolicyConditionResultSerializer(many=True)


class PolicyQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyQuestion
        fields = ["id", "policy", "question", "complexity", "status", "deadline", "answer", "answered_at",
                  "answered_on_time", "created_at"]  # fmt: skip
        read_only_fields = fields


class PolicyAskSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=2000)
    complexity = serializers.ChoiceField(choices=PolicyQuestion.Complexity.choices, default="simple")


class PolicyAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=5000)
    in_faq = serializers.BooleanField(default=True)


class PolicyStatisticsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text="YYYY-MM-DD; default 1 January of this year")
    end = serializers.DateField(required=False, help_text="YYYY-MM-DD; default today")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and end < start:
            raise serializers.ValidationError({"end": _("The end of the period cannot come before its start.")})
        return attrs


class PolicyItemFigureSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    item_name = serializers.CharField()
    policy = serializers.IntegerField()
    eligible = serializers.IntegerField()
    near_miss = serializers.IntegerField()
    needs_data = serializers.IntegerField()


class PolicyStatisticsSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    published = serializers.IntegerField(help_text="policies published in the period")
    in_library = serializers.IntegerField(help_text="policies published and not withdrawn")
    sent = serializers.IntegerField(help_text="pushes sent to enterprises that qualify")
    reached = serializers.IntegerField(help_text="enterprises reached by pushes")
    opened = serializers.IntegerField(help_text="pushes opened")
    cases = serializers.IntegerField(help_text="免申即享 cases changed in the period")
    paid = serializers.IntegerField(help_text="免申即享 cases paid")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="yuan paid through 免申即享")
    asked = serializers.IntegerField()
    answered = serializers.IntegerField()
    on_time = serializers.IntegerField()
    open = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="percent of answered questions answered on time")
    per_item = PolicyItemFigureSerializer(many=True, help_text="the 20 items with the most eligible enterprises")
