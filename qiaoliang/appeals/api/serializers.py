"""API shapes of appeals."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from qiaoliang.appeals.models import Appeal, AppealEvent
from qiaoliang.appeals.services import MAX_WORKING_DAYS
from qiaoliang.core.serializers import OptionalChoiceField


class AppealEventSerializer(serializers.ModelSerializer):
    actor: serializers.StringRelatedField[Any] = serializers.StringRelatedField()

    class Meta:
        model = AppealEvent
        fields = ["kind", "from_status", "to_status", "note", "actor", "created_at"]
        read_only_fields = fields


class AppealSerializer(serializers.ModelSerializer):
    enterprise = serializers.CharField(source="enterprise.name", read_only=True)
    organization = serializers.CharField(source="organization.name", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True, allow_null=True, default=None)
    category = serializers.CharField(source="category.code", read_only=True, allow_null=True, default=None)
    satisfaction = OptionalChoiceField(choices=Appeal.Satisfaction.choices)  # null until the enterprise answers

    class Meta:
        model = Appeal
        fields = [
            "id", "number", "title", "description", "status", "urgency", "source", "enterprise", "organization",
            "category", "department", "deadline", "answer", "answered_at", "answered_on_time", "satisfaction",
            "rating", "feedback", "solved", "created_at", "version",
        ]  # fmt: skip
        read_only_fields = fields


class AppealCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=5000)
    urgency = serializers.ChoiceField(choices=Appeal.Urgency.choices, default=Appeal.Urgency.NORMAL)
    shareable = serializers.BooleanField(default=False)


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text=_("The appeal's version the change was made on (stale → 400).")
    )


class AssignSerializer(VersionedSerializer):
    department = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    working_days = serializers.IntegerField(min_value=1, max_value=MAX_WORKING_DAYS, required=False)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AnswerSerializer(VersionedSerializer):
    answer = serializers.CharField(max_length=5000)
    solved = serializers.BooleanField(default=True)


class ConfirmSerializer(VersionedSerializer):
    satisfaction = serializers.ChoiceField(choices=Appeal.Satisfaction.choices)
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    feedback = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
