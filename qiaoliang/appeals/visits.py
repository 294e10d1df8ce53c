"""Visits to enterprises (走访调研): planned and recorded by staff and zone convenors; appeals raised at a visit link
back to it, so the federation can say "63 visits, 62 problems coordinated and solved" from data."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from qiaoliang.appeals.models import Appeal, Visit
from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, VIEW, require
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import get_scope, reviewing_organization


def _text(value: str, limit: int, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), code=field)
    if len(text) > limit:
        raise DomainError(_("At most %(max)d characters.") % {"max": limit}, code=field)
    return text


@transaction.atomic
def plan_visit(*, actor: Any, enterprise: Enterprise, visit_on: datetime.date, visitors: str,
               purpose: str = "") -> Visit:  # fmt: skip
    """Plan a visit to an enterprise of an organisation the actor runs or convenes."""
    organization = reviewing_organization(enterprise)
    if organization is None:
        raise DomainError(_("The enterprise is a member of no organisation."), code="enterprise")
    scope = get_scope(actor) if actor is not None else None
    if scope is not None and not scope.is_all and organization.pk not in (scope.change_org_ids | scope.member_org_ids):
        raise NotAllowedError(_("You may not visit enterprises of this organisation."))
    visit = Visit.objects.create(
        organization=organization, enterprise=enterprise, visit_on=visit_on,
        visitors=_text(visitors, 200, "visitors", required=True), purpose=_text(purpose, 200, "purpose"),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    audit.record("appeals.visit.planned", actor=visit.created_by, target=visit, organization_id=organization.pk)
    return visit


@transaction.atomic
def record_visit(*, actor: Any, visit: Visit, findings: str, done: bool = True) -> Visit:
    """Record what the visit found (or cancel it)."""
    require(actor, CHANGE, visit, _("You may not record this visit."))
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    locked.findings = _text(findings, 5000, "findings", required=done)
    locked.status = Visit.Status.DONE if done else Visit.Status.CANCELLED
    locked.save(update_fields=["findings", "status", "updated_at"])
    audit.record(f"appeals.visit.{locked.status}", actor=actor if getattr(actor, "is_authenticated", False) else None,
                 target=locked, organization_id=locked.organization_id)  # fmt: skip
    return locked


def visit_counts(user: Any, start: datetime.date, end: datetime.date) -> list[dict[str, Any]]:
    """Per organisation: visits done, appeals raised at them, and how many of those were solved."""
    visits = Visit.objects.for_user(user, VIEW).filter(visit_on__gte=start, visit_on__lte=end)
    done = visits.filter(status=Visit.Status.DONE)
    rows = {
        row["organization_id"]: {**row, "appeals": 0, "solved": 0}
        for row in done.values("organization_id", "organization__name").annotate(visits=Count("pk"))
    }
    raised = (
        Appeal.objects.filter(visit__in=done.values("pk"))
        .values("visit__organization_id")
        .annotate(appeals=Count("pk"), solved=Count("pk", filter=Q(solved=True)))
    )
    for row in raised:
        target = rows.get(row["visit__organization_id"])
        if target is not None:
            target["appeals"], target["solved"] = row["appeals"], row["solved"]
    return sorted(rows.values(), key=lambda row: (-row["visits"], row["organization__name"]))


__all__ = ["plan_visit", "record_visit", "visit_counts"]
