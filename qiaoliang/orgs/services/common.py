"""Helpers the orgs services share: the diff of a change and model validation as a domain error."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError


def jsonable(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def apply_changes(obj: Model, changes: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """Set the allowed fields that differ and return {field: [old, new]} for the audit entry."""
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(obj, name)
        if old != value:
            diff[name] = [jsonable(old), jsonable(value)]
            setattr(obj, name, value)
    return diff


def full_clean(obj: Model, exclude: list[str] | None = None) -> None:
    """Validate a model instance; the field errors become one domain error the user can read."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=True, validate_constraints=True)
    except ValidationError as exc:
        labels = {f.name: str(getattr(f, "verbose_name", f.name)) for f in obj._meta.fields}
        raise DomainError(
            "; ".join(f"{labels.get(k, k)}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            code=next(iter(exc.message_dict), "invalid"),
        ) from exc
