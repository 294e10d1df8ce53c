"""Enterprise facts and honours: entered by the enterprise (then reviewed) or by staff, imported from xlsx.

Every figure is converted to its field's base unit and checked against the column before it is stored; a
change recomputes the enterprise's decisions in the background (well under a second per enterprise).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.files import delete_on_commit
from qiaoliang.core.notifications import notify
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import has_capability
from qiaoliang.core.text import clean_text, normalize_text
from qiaoliang.core.uploads import check_upload
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import contacts_of, get_scope, reviewing_organization
from qiaoliang.policies import honour_rules, honours
from qiaoliang.policies.facts import FIELDS, Source
from qiaoliang.policies.models import EnterpriseFact, EnterpriseHonour
from qiaoliang.policies.units import Dimension, UnitError, format_quantity, is_bare_number, parse_quantity

S = EnterpriseFact.Status
EARLIEST_YEAR = 1980
EVIDENCE_MAX_MB = 10
EVIDENCE_TYPES = (".pdf", ".png", ".jpg", ".jpeg")


def _role(actor: Any, enterprise: Enterprise) -> str:
    """'enterprise' for its own contacts, 'staff' for managers of an organisation it belongs to; else refused."""
    scope = get_scope(actor)
    if enterprise.pk in scope.own_enterprise_ids:
        return "enterprise"
    if scope.is_all:
        return "staff"
    if (
        scope.manage_member_org_ids
        and enterprise.memberships.filter(organization_id__in=scope.manage_member_org_ids, status="active").exists()
    ):
        return "staff"
    raise NotAllowedError(_("You may not enter figures for this enterprise."))


def _check_year(year: int, field: str) -> int:
    this_year = timezone.localdate().year
    if FIELDS[field].source == Source.YEARLY:
        if not year:
            raise DomainError(_("Say which year the figure is for (e.g. %(year)s).") % {"year": this_year - 1},
                              code="year")  # fmt: skip
        if not EARLIEST_YEAR <= year <= this_year:
            raise DomainError(_("The year must be between %(first)s and %(last)s.")
                              % {"first": EARLIEST_YEAR, "last": this_year}, code="year")  # fmt: skip
        return year
    return 0


@transaction.atomic
def set_fact(*, actor: Any, enterprise: Enterprise, field: str, value: str, year: int = 0, key: str = "",
             evidence: Any = None, origin: str = "") -> EnterpriseFact:  # fmt: skip
    """Enter one figure ("2000万元", "0.2亿元", "35人") or a declaration (value "是"/"否")."""
    role = _role(actor, enterprise)
    spec = FIELDS.get(field)
    if spec is None or spec.source not in (Source.YEARLY, Source.STANDING, Source.DECLARATIONS):
        raise DomainError(_("%(field)s is not a figure an enterprise enters.") % {"field": field}, code="field")
    key = clean_text(key, multiline=False)[:120]
    if spec.source == Source.DECLARATIONS:
        if not key:
            raise DomainError(_("Say what is declared."), code="key")
        if field == "declaration":
            flag = str(value).strip().lower()
            if flag not in ("是", "否", "yes", "no", "true", "false", "1", "0"):
                raise DomainError(_("A declaration is 是 or 否."), code="value")
            number = Decimal(1 if flag in ("是", "yes", "true", "1") else 0)
        else:
            number = _quantity(field, value)
    else:
        number = _quantity(field, value)
    year = _check_year(int(year or 0), field)
    stored = check_fits(
        EnterpriseFact,
        "value",
        number,
        code="value",
        money=spec.dimension == "money",
        allow_negative=field == "net_profit",
    )  # a loss is a negative profit
    assert stored is not None
    status = S.REVIEWED if role == "staff" else S.SUBMITTED
    fact, created = EnterpriseFact.objects.select_for_update().get_or_create(
        enterprise=enterprise, field=field, key=key, year=year,
        defaults={"value": stored, "status": status, "entered_text": str(value)[:60],
                  "origin": origin or ("staff" if role == "staff" else "enterprise"), "entered_by": _user(actor)},
    )  # fmt: skip
    replaced = ""  # an evidence file that no longer belongs to the figure: deleted once the change commits
    if not created:
        if fact.evidence and (evidence is not None or fact.value != stored):  # a new figure needs its own evidence
            replaced, fact.evidence = str(fact.evidence.name), None
        fact.value, fact.status, fact.entered_text = stored, status, str(value)[:60]
        fact.origin, fact.entered_by = origin or ("staff" if role == "staff" else "enterprise"), _user(actor)
        fact.reviewed_by = _user(actor) if role == "staff" else None
        fact.reviewed_at = timezone.now() if role == "staff" else None
    elif role == "staff":
        fact.reviewed_by, fact.reviewed_at = _user(actor), timezone.now()
    if evidence is not None:
        check_upload(evidence, allowed=EVIDENCE_TYPES, max_bytes=EVIDENCE_MAX_MB * 1024 * 1024)
        fact.evidence = evidence
    fact.save()
    delete_on_commit(EnterpriseFact._meta.get_field("evidence").storage, [replaced])  # type: ignore[attr-defined]
    audit.record("policies.fact.saved", actor=actor, target=enterprise, organization_id=_org_id(enterprise),
                 data={"field": field, "key": key, "year": year, "value": format(stored, "f")})  # fmt: skip
    enqueue_on_commit("policies.recompute_enterprise", enterprise.pk, [field])
    return fact


def _quantity(field: str, value: str) -> Decimal:
    """A figure as people enter it: money always with its unit (3500 could be 元 or 万元), counts whole."""
    dimension = FIELDS[field].dimension
    text = normalize_text(str(value))
    if dimension == Dimension.MONEY and is_bare_number(text):
        raise DomainError(_("%(value)s has no unit: write it with its unit, e.g. 2000万元 or 0.2亿元.")
                          % {"value": str(value)[:40]}, code="value")  # fmt: skip
    try:
        number = parse_quantity(str(value), dimension)
    except UnitError as exc:
        raise DomainError(exc.message, code="value") from exc
    if dimension == Dimension.COUNT and number != number.to_integral_value():
        raise DomainError(_("%(value)s is not a whole number.") % {"value": str(value)[:40]}, code="value")
    return number


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _org_id(enterprise: Enterprise) -> int | None:
    org = reviewing_organization(enterprise)
    return org.pk if org else None


@transaction.atomic
def set_honour(*, actor: Any, enterprise: Enterprise, text: str, code: str = "", issuer: str = "",
               certificate_number: str = "", awarded_on: datetime.date | None = None,
               valid_until: datetime.date | None = None, certificate: Any = None) -> EnterpriseHonour:  # fmt: skip
    """Record an honour as written ("国家级高新技术企业") or by vocabulary code, with its certificate.

    An enterprise must attach the certificate (a fact without evidence is refused); staff may record one
    from an official list without it.
    """
    role = _role(actor, enterprise)
    if not code:
        match = honours.normalise_honour(text or "")
        if match is None or not honour_rules.known(match.code):
            raise DomainError(
                _("%(text)s is not an honour of the vocabulary; choose one from the list.") % {"text": text or "—"},
                code="code",
            )
        code = match.code
    elif honours.honour_by_code(code) is None:
        raise DomainError(_("Unknown honour."), code="code")
    if (
        role == "enterprise"
        and certificate is None
        and not EnterpriseHonour.objects.filter(enterprise=enterprise, code=code).exclude(certificate="").exists()
    ):
        raise DomainError(_("Attach the certificate (PDF or image) so the honour can be reviewed."), code="certificate")
    if awarded_on and valid_until and valid_until < awarded_on:
        raise DomainError(_("The honour cannot expire before it was awarded."), code="valid_until")
    honour, _created = EnterpriseHonour.objects.select_for_update().get_or_create(enterprise=enterprise, code=code)
    honour.name = clean_text(text or honour_rules.name(code), multiline=False)[:120]
    honour.issuer = clean_text(issuer, multiline=False)[:120]
    honour.certificate_number = clean_text(certificate_number, multiline=False)[:60]
    honour.awarded_on, honour.valid_until = awarded_on, valid_until
    honour.status = S.REVIEWED if role == "staff" else S.SUBMITTED
    honour.origin = "staff" if role == "staff" else "enterprise"
    honour.reviewed_by = _user(actor) if role == "staff" else None
    honour.reviewed_at = timezone.now() if role == "staff" else None
    if certificate is not None:
        check_upload(certificate, allowed=EVIDENCE_TYPES, max_bytes=EVIDENCE_MAX_MB * 1024 * 1024)
        honour.certificate = certificate
    honour.save()
    audit.record("policies.honour.saved", actor=actor, target=enterprise, organization_id=_org_id(enterprise),
                 data={"code": code})  # fmt: skip
    enqueue_on_commit("policies.recompute_enterprise", enterprise.pk, ["honour"])
    return honour


@transaction.atomic
def delete_fact(*, actor: Any, fact: EnterpriseFact) -> None:
    """Remove a wrong figure or declaration. The enterprise removes what it entered and staff have not confirmed;
    its organisation's staff remove any. The enterprise's answers are computed again."""
    row = EnterpriseFact.objects.select_for_update().select_related("enterprise").get(pk=fact.pk)
    role = _role(actor, row.enterprise)
    if role == "enterprise" and row.status == S.REVIEWED:
        raise DomainError(_("Staff have confirmed this figure; ask them to correct it, or enter the right value "
                            "over it."), code="status")  # fmt: skip
    enterprise, field, what = row.enterprise, row.field, describe(row)
    evidence = str(row.evidence.name or "")
    row.delete()
    delete_on_commit(row.evidence.storage, [evidence])  # the file goes once the row is gone for good
    audit.record("policies.fact.deleted", actor=actor, target=enterprise, organization_id=_org_id(enterprise),
                 data={"what": what})  # fmt: skip
    if role == "staff":  # the enterprise's check-up changes: it is told what was removed
        notify(users=contacts_of([enterprise.pk]), kind="policies.fact.deleted",
               title=gettext_lazy("A figure of yours was removed: %(what)s"),
               body=gettext_lazy("Your organisation's staff removed it; enter it again if it was right."),
               params={"what": what}, url="/policies/facts/", target=enterprise,
               organization_id=_org_id(enterprise), actor=actor)  # fmt: skip
    enqueue_on_commit("policies.recompute_enterprise", enterprise.pk, [field])


REVIEW_TITLES = {
    S.REVIEWED: gettext_lazy("Your figure was confirmed: %(what)s"),
    S.REJECTED: gettext_lazy("Your figure was returned: %(what)s"),
}


@transaction.atomic
def review(*, actor: Any, obj: EnterpriseFact | EnterpriseHonour, approve: bool, note: str = "",
           seen: float | None = None) -> Any:  # fmt: skip
    """Staff confirm or return a figure or honour an enterprise entered; the enterprise is told, with the reason.

    Only an entry waiting for review is reviewed; ``seen`` (the entry's ``updated_at`` timestamp on the page the
    reviewer read) refuses a review of an entry changed since, so nobody confirms a figure they did not see.
    """
    if not has_capability(actor, "policies.review_facts"):
        raise NotAllowedError(_("You may not review enterprise figures."))
    model = type(obj)
    row = model.objects.select_for_update().get(pk=obj.pk)
    if not model.objects.for_user(actor, "review").filter(pk=row.pk).exists():
        raise NotAllowedError(_("You may not review this enterprise's figures."))
    if row.status != S.SUBMITTED:
        raise DomainError(_("This entry was reviewed already; reload the page."), code="status")
    if seen is not None and abs(row.updated_at.timestamp() - seen) > 1e-3:
        raise DomainError(_("The enterprise changed this entry after you opened the page; read it again and "
                            "review it then."), code="changed")  # fmt: skip
    if not approve and not note.strip():
        raise DomainError(_("Say why the figure is returned."), code="note")
    row.status = S.REVIEWED if approve else S.REJECTED
    row.reviewed_by, row.reviewed_at, row.review_note = _user(actor), timezone.now(), note[:300]
    row.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])
    what = describe(row)
    audit.record(f"policies.{model.__name__.lower()}.{row.status}", actor=actor, target=row.enterprise,
                 organization_id=_org_id(row.enterprise), data={"what": what, "note": note})  # fmt: skip
    notify(users=contacts_of([row.enterprise_id]), kind=f"policies.fact.{row.status}",
           title=REVIEW_TITLES[row.status], body=note.replace("%", "%%"), params={"what": what}, url="/policies/facts/",
           target=row.enterprise, organization_id=_org_id(row.enterprise), actor=actor)  # fmt: skip
    changed = ["honour"] if isinstance(row, EnterpriseHonour) else [row.field]
    enqueue_on_commit("policies.recompute_enterprise", row.enterprise_id, changed)
    return row


def describe(row: EnterpriseFact | EnterpriseHonour) -> str:
    if isinstance(row, EnterpriseHonour):
        return honour_rules.name(row.code)
    spec = FIELDS[row.field]
    label = row.key if row.key else str(spec.label)
    if row.field == "declaration":
        return f"{label}：{'是' if row.value else '否'}"
    value = format_quantity(row.value, spec.dimension)
    return f"{label} {row.year}：{value}" if row.year else f"{label}：{value}"
