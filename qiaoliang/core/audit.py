"""Write audit entries: every write, and every view or export of personal data."""

from __future__ import annotations

import re
from typing import Any

from django.db import models

from qiaoliang.core.middleware import current_request
from qiaoliang.core.models import AuditLog

_SECRET_KEYS = {"password", "token", "secret", "otp", "key"}
_MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_RE = re.compile(r"(?<![0-9A-Z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Z])")


def mask_value(key: str, value: Any) -> Any:
    """Return the value with secrets removed and personal numbers masked."""
    if any(secret in key.lower() for secret in _SECRET_KEYS):
        return "***"
    if isinstance(value, dict):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    if isinstance(value, str):
        value = _MOBILE_RE.sub(r"\1****\3", value)
        return _ID_RE.sub(r"\1********\3", value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)


def entry_values(
    action: str,
    *,
    actor: Any = None,
    target_type: str = "",
    target_repr: str = "",
    organization_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return an audit entry's columns but its target id (the actor, request id and IP taken from the request).

    `record` writes them through the ORM; a hot path that writes its row in one SQL statement (a registration
    burst) writes the same values with the id its statement made.
    """
    request = current_request.get()
    if actor is None and request is not None and getattr(request, "user", None) is not None:
        actor = request.user if request.user.is_authenticated else None
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return {
        "actor_id": actor.pk if actor is not None else None,
        "organization_id": organization_id,
        "action": action,
        "target_type": target_type,
        "target_repr": mask_value("repr", target_repr)[:200] if target_repr else "",
        "data": mask_value("data", data or {}),
        "request_id": getattr(request, "request_id", "") if request is not None else "",
        "ip_address": ip or None,
    }


def record(
    action: str,
    *,
    actor: Any = None,
    target: models.Model | None = None,
    organization_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit entry; call it inside the transaction of the write it records."""
    values = entry_values(
        action,
        actor=actor,
        target_type=target._meta.label_lower if target is not None else "",
        target_repr=str(target) if target is not None else "",
        organization_id=organization_id,
        data=data,
    )
    return AuditLog.objects.create(target_id=str(target.pk) if target is not None else "", **values)
