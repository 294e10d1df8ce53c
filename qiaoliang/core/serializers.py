"""API shapes of the reference codes every app's API shows (GB/T 4754 industries, GB/T 2260 regions)."""

from __future__ import annotations

from rest_framework import serializers

from qiaoliang.core.models import Industry, Region


class IndustryBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name"]
        read_only_fields = fields


class RegionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "full_name"]
        read_only_fields = fields
