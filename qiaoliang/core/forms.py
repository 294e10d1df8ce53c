"""Form helpers shared by every app: Bootstrap styling, dates, GB/T code fields and choices, and a service's
refusal shown on the form that caused it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError

from qiaoliang.core import industries, regions
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import Industry, Region

T = TypeVar("T")


def add_domain_error(form: forms.BaseForm, exc: DomainError, fields: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form: on the field its code names (or `fields` maps it to), else on top."""
    field = (fields or {}).get(exc.code, exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


def call_service(form: forms.BaseForm, service: Callable[[], T], fields: dict[str, str] | None = None) -> T | None:
    """Run a service for a valid form; a DomainError becomes a form error (None is returned).

    A NotAllowedError is not a form problem: it goes on to the error middleware and becomes a 403.
    """
    try:
        return service()
    except NotAllowedError:
        raise
    except DomainError as exc:
        add_domain_error(form, exc, fields)
        return None


_PLACEHOLDER_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


@cache
def industry_section_choices() -> list[tuple[str, str]]:
    """Return the 20 sections (门类) of GB/T 4754-2017 as select choices."""
    sections = Industry.objects.filter(level=Industry.Level.SECTION).order_by("code").values_list("code", "name")
    return [(code, f"{code} {name}") for code, name in sections]


@cache
def region_choices() -> list[tuple[str, Any]]:
    """Return provinces and their cities as grouped select choices (6-digit codes)."""
    rows = (
        Region.objects.filter(level__lte=Region.Level.CITY, last_year__isnull=True)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    groups: list[tuple[str, Any]] = []
    current: list[tuple[str, str]] = []
    for code, name, level in rows:
        if level == Region.Level.PROVINCE:
            current = [(code, name)]
            groups.append((name, current))
        elif name not in _PLACEHOLDER_CITY_NAMES:
            current.append((code, f"— {name}"))
    return groups


class BootstrapForm(forms.Form):
    """Give every widget its Bootstrap class, and mark the fields that have errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                css = "form-check-input me-1"  # on each option's input: a form-control box never shows a tick
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()


class CodeFieldsMixin:
    """Turn industry and region inputs into the reference rows, with clear errors: codes of any level and revision,
    names and common words, as the importers read them (core.industries, core.regions). A form with a `uscc` or
    `enterprise` field reads a bare 西湖区 in the city of the USCC's registration code."""

    cleaned_data: dict[str, Any]

    def clean_industry_code(self) -> Industry | None:
        match = industries.resolver().resolve(self.cleaned_data.get("industry_code") or "")
        if match.error:
            raise ValidationError(match.error, code="industry")
        return Industry.objects.get(code=match.code) if match.code else None

    def _region_context(self) -> tuple[str, ...]:
        """The codes a bare name is read in: the USCC's registration code when the form has one."""
        uscc = self.cleaned_data.get("uscc") or getattr(self.cleaned_data.get("enterprise"), "uscc", "")
        own = (str(uscc)[2:8],) if uscc and len(str(uscc)) == 18 else ()
        return own

    def clean_region_code(self) -> Region | None:
        region, error = regions.region_field_error(self.cleaned_data.get("region_code") or "", self._region_context())
        if error:
            raise ValidationError(error, code="region")
        return region  # type: ignore[no-any-return]
