"""API shapes every app's API shares: the reference codes (GB/T 4754 industries, GB/T 2260 regions) and fields
that answer null, never "", where the schema promises a URI, an e-mail address or one of a set of values."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qiaoliang.core import industries, regions
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


@extend_schema_field(OpenApiTypes.STR)
class IndustryCodeField(serializers.Field):
    """Take a GB/T 4754-2017 code of any level, a class name or a common word (旅行社 → 7291); answer the code."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text", "GB/T 4754-2017 industry code (such as 7291) or name (旅行社及相关服务, 旅行社)."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Industry | None:
        if not isinstance(data, str | int):
            raise serializers.ValidationError(_("Give the industry as a code or a name."))
        match = industries.resolver().resolve(str(data)[:60])
        if match.error:
            raise serializers.ValidationError(match.error)
        return Industry.objects.get(code=match.code) if match.code else None

    def to_representation(self, value: Any) -> Any:
        return getattr(value, "code", value)


@extend_schema_field(OpenApiTypes.STR)
class RegionCodeField(serializers.Field):
    """Take a GB/T 2260 code of any level and revision or a name (杭州市西湖区); answer the code. A bare name that
    several divisions carry is refused with the candidates."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "GB/T 2260 region code (such as 330106, also a former code) or name "
                                       "(浙江省杭州市西湖区, 杭州市西湖区).")  # fmt: skip
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Region | None:
        if not isinstance(data, str | int):
            raise serializers.ValidationError(_("Give the region as a code or a name."))
        region, error = regions.region_field_error(str(data)[:60])
        if error:
            raise serializers.ValidationError(error)
        return region  # type: ignore[no-any-return]

    def to_representation(self, value: Any) -> Any:
        return getattr(value, "code", value)
