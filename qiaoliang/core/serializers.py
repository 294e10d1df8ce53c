"""API shapes every app's API shares: the reference codes (GB/T 4754 industries, GB/T 2260 regions) and fields
that answer null, never "", where the schema promises a URI, an e-mail address or one of a set of values."""

from __future__ import annotations

from typing import Any

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


class BlankAsNullMixin:
    """Answer null for an empty value: "" is no valid URI, e-mail address or choice."""

    def to_representation(self, value: Any) -> Any:
        if value in ("", None):
            return None
        return super().to_representation(value)  # type: ignore[misc]


class OptionalURLField(BlankAsNullMixin, serializers.URLField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)


class OptionalEmailField(BlankAsNullMixin, serializers.EmailField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, allow_null=True, **kwargs)


class OptionalChoiceField(BlankAsNullMixin, serializers.ChoiceField):
    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices=[choice for choice in choices if choice[0] != ""], read_only=True, allow_null=True,
                         **kwargs)  # fmt: skip
