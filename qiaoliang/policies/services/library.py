"""Writes to the policy library: documents, their clauses, support items, publishing and interpretation events."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.accounts.models import User
from qiaoliang.core import audit
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.files import delete_on_commit
from qiaoliang.core.models import Region
from qiaoliang.core.notifications import notify
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import CHANGE, require, require_capability
from qiaoliang.core.text import clean_text, compact_text
from qiaoliang.core.transitions import Transitions
from qiaoliang.core.uploads import check_upload
from qiaoliang.orgs.models import Organization
from qiaoliang.orgs.selectors import contacts_of, get_scope
from qiaoliang.policies import clauses as clause_types
from qiaoliang.policies import documents
from qiaoliang.policies.models import (
    CLAUSE_TYPES,
    Clause,
    Policy,
    PolicyAttachment,
    PolicyStatusChange,
    Push,
    SupportItem,
)
from qiaoliang.policies.services import decisions
from qiaoliang.policies.units import Dimension, UnitError, parse_quantity

P = Policy.Status
POLICY_TRANSITIONS = Transitions(
    model=Policy,
    table={P.DRAFT: {P.PUBLISHED}, P.PUBLISHED: {P.WITHDRAWN}, P.WITHDRAWN: {P.PUBLISHED}},
    audit_prefix="policies.policy",
    history_model=PolicyStatusChange,
    history_fk="policy",
)
POLICY_FIELDS = ("title", "issuer", "department", "document_number", "level", "region", "issued_on",
                 "effective_from", "expires_on", "source_url", "summary", "full_text")  # fmt: skip
ITEM_FIELDS = ("name", "benefit", "max_amount", "how_to_apply", "window_opens", "window_closes",
               "contact_department", "contact", "delivery", "clause")  # fmt: skip
MAX_CLAUSES = 2000
WITHDRAWN_TITLE = gettext_lazy("A policy you qualified for was withdrawn: %(policy)s")
VALID_TYPES = {value for value, _label in CLAUSE_TYPES}


def _search_text(policy: Policy) -> str:
    return compact_text(" ".join([policy.title, policy.issuer, policy.document_number, policy.summary]))[:2000]


def _check_dates(data: dict[str, Any], first: str, last: str, message: Any) -> None:
    start, end = data.get(first), data.get(last)
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
        raise DomainError(str(message), code=last)


def _apply(obj: Any, data: dict[str, Any], allowed: tuple[str, ...]) -> list[str]:
    changed = []
    for name in allowed:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = clean_text(value, multiline=name in ("full_text", "summary", "benefit", "how_to_apply"))
                limit = getattr(obj._meta.get_field(name), "max_length", None)
                if limit and len(value) > limit:  # one limit for the form, the import and the API (a TextField's
                    # max_length is not enforced by the database)
                    raise DomainError(_("%(field)s has at most %(max)s characters; this one has %(count)s.")
                                      % {"field": obj._meta.get_field(name).verbose_name, "max": f"{limit:,}",
                                         "count": f"{len(value):,}"}, code=name)  # fmt: skip
            setattr(obj, name, value)
            changed.append(name)
    return changed


@transaction.atomic
def create_policy(*, actor: Any, organization: Organization, data: dict[str, Any]) -> Policy:
    """A draft policy of the organisation's library; its text, if given, is split into typed clauses."""
    require_capability(actor, "policies.manage")
    _require_org(actor, organization)
    if not str(data.get("title") or "").strip():
        raise DomainError(_("A policy needs a title."), code="title")
    _check_dates(data, "effective_from", "expires_on", gettext_lazy("The policy cannot expire before it takes effect."))
    policy = Policy(organization=organization, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    _apply(policy, data, POLICY_FIELDS)
    policy.search_text = _search_text(policy)
    policy.save()
    if policy.full_text:
        _replace_clauses(policy, documents.split_clauses(policy.full_text))
    audit.record("policies.policy.created", actor=actor, target=policy, organization_id=organization.pk)
    return policy


def _require_org(actor: Any, organization: Organization) -> None:
    """The actor manages the organisation (staff of its federation, its secretaries)."""
    scope = get_scope(actor)
    if not (scope.is_all or organization.pk in scope.change_org_ids):
        raise NotAllowedError(_("You do not manage %(organization)s.") % {"organization": organization.name})


@transaction.atomic
def import_policy(*, actor: Any, organization: Organization, text: str = "", html: str = "", docx: Any = None,
                  overrides: dict[str, Any] | None = None) -> Policy:  # fmt: skip
    """A draft from pasted text, HTML or a .docx: metadata guessed (staff correct it), clauses split and typed."""
    if sum(bool(x) for x in (text, html, docx)) != 1:
        raise DomainError(_("Give the policy as pasted text, as HTML or as a .docx file (one of them)."), code="text")
    parsed = documents.read_docx(docx) if docx else documents.read_html(html) if html else documents.read_text(text)
    meta = documents.guess_metadata(parsed)

    def guessed(name: str, value: str) -> str:  # a guess longer than its column is cut, not refused
        return value[: getattr(Policy._meta.get_field(name), "max_length", None)]

    data: dict[str, Any] = {
        "title": guessed("title", meta.title or _("Untitled policy")),
        "issuer": guessed("issuer", meta.issuer or ""),
        "document_number": guessed("document_number", meta.document_number or ""),
        "issued_on": meta.issue_date,
        "effective_from": meta.valid_from,
        "expires_on": meta.valid_until,
        "full_text": parsed.text,
    }
    if meta.level in Policy.Level.values:
        data["level"] = meta.level
    if meta.region_code:
        data["region"] = Region.objects.filter(code=meta.region_code).first()
    data.update({k: v for k, v in (overrides or {}).items() if v not in (None, "")})
    return create_policy(actor=actor, organization=organization, data=data)


def _replace_clauses(policy: Policy, parts: list[Any]) -> None:
    if len(parts) > MAX_CLAUSES:
        raise DomainError(_("A policy has at most %(max)s clauses.") % {"max": MAX_CLAUSES}, code="full_text")
    # the items citing a clause are set to none: their rows locked in id order first, as the recomputations do
    decisions.lock_item_rows(policy.items.values_list("pk", flat=True))
    Clause.objects.filter(policy=policy).delete()
    texts = [part.text for part in parts]
    labels = clause_types.classify_clauses(texts) if texts else []
    Clause.objects.bulk_create([
        Clause(policy=policy, position=index, number=getattr(part, "number", "")[:20], text=part.text[:5000],
               is_heading=bool(getattr(part, "is_heading", False)),
               clause_type=(label if label in VALID_TYPES else "") if not getattr(part, "is_heading", False) else "")
        for index, (part, (label, _confidence)) in enumerate(zip(parts, labels, strict=True), 1)
    ])  # fmt: skip


@transaction.atomic
def update_policy(*, actor: Any, policy: Policy, data: dict[str, Any], resplit: bool = False) -> Policy:
    require(actor, CHANGE, policy)
    merged = {name: getattr(policy, name) for name in POLICY_FIELDS} | data
    _check_dates(merged, "effective_from", "expires_on",
                 gettext_lazy("The policy cannot expire before it takes effect."))  # fmt: skip
    if "title" in data and not str(data["title"] or "").strip():
        raise DomainError(_("A policy needs a title."), code="title")
    changed = _apply(policy, data, POLICY_FIELDS)
    policy.search_text = _search_text(policy)
    policy.save()
    if resplit and policy.full_text:
        _replace_clauses(policy, documents.split_clauses(policy.full_text))
    audit.record("policies.policy.changed", actor=actor, target=policy, organization_id=policy.organization_id,
                 data={"fields": changed})  # fmt: skip
    if policy.status == P.PUBLISHED:
        enqueue_on_commit("policies.recompute_policy", policy.pk)
    return policy


@transaction.atomic
def set_clause_type(*, actor: Any, clause: Clause, clause_type: str) -> Clause:
    require(actor, CHANGE, clause.policy)
    if clause_type not in VALID_TYPES:
        raise DomainError(_("Unknown clause type."), code="clause_type")
    clause.clause_type = clause_type
    clause.type_confirmed = True
    clause.save(update_fields=["clause_type", "type_confirmed"])
    return clause


@transaction.atomic
def publish(*, actor: Any, policy: Policy) -> Policy:
    """Publish: the policy shows in the library and its items are computed for every member, who are told."""
    require(actor, CHANGE, policy)
    policy = POLICY_TRANSITIONS.move(policy, P.PUBLISHED, actor=actor, changes={"published_at": timezone.now()})
    enqueue_on_commit("policies.recompute_policy", policy.pk)
    return policy


@transaction.atomic
def withdraw(*, actor: Any, policy: Policy, reason: str) -> Policy:
    require(actor, CHANGE, policy)
    if not reason.strip():
        raise DomainError(_("Say why the policy is withdrawn."), code="reason")
    if len(reason.strip()) > REASON_MAX:  # the history row keeps it whole, and a resumed notice tells it from there
        raise DomainError(_("At most %(max)d characters.") % {"max": REASON_MAX}, code="reason")
    reason = reason.strip()
    policy = POLICY_TRANSITIONS.move(policy, P.WITHDRAWN, actor=actor, note=reason)
    # The enterprises told they qualify are told it is withdrawn, with the reason: in the background, as they
    # may be many (their pushes stay, so the task finds them after the answers are gone).
    change = policy.history.filter(to_status=P.WITHDRAWN).order_by("-pk").values_list("pk", flat=True).first()
    enqueue_on_commit("policies.tell_withdrawn", policy.pk, reason, getattr(actor, "pk", None), change)
    enqueue_on_commit("policies.recompute_policy", policy.pk)
    return policy


TELL_CHUNK = 1000  # enterprises per notification write
REASON_MAX = 500  # a withdrawal's reason, as its history row's note keeps it


def tell_withdrawn(policy_id: int, reason: str, actor_id: int | None = None, change_id: int | None = None) -> int:
    """Tell the contacts of every enterprise pushed an item of a withdrawn policy, with the reason; in chunks.

    Returns how many enterprises were told. A policy published again meanwhile is not announced as withdrawn,
    and of two withdrawals before the task ran (`change_id`, the withdrawal's history row) only the last is told.
    Each chunk records on the history row the last enterprise told (`told_through`), in the transaction that
    tells it: a run stopped half-way is resumed where it stopped (`resume_withdrawal_notices`), and two runs of
    one withdrawal never tell a chunk twice. `told_at` marks the withdrawal as told.
    """
    policy = Policy.objects.filter(pk=policy_id).first()
    change = PolicyStatusChange.objects.filter(pk=change_id, policy_id=policy_id).first() if change_id else None
    withdrawals = PolicyStatusChange.objects.filter(policy_id=policy_id, to_status=P.WITHDRAWN)
    latest = withdrawals.order_by("-pk").values_list("pk", flat=True).first()
    if policy is None or policy.status != P.WITHDRAWN or (change_id is not None and change_id != latest):
        if change is not None:  # nothing to tell: published again, or a later withdrawal tells
            PolicyStatusChange.objects.filter(pk=change.pk, told_at__isnull=True).update(told_at=timezone.now())
        return 0
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    told = 0
    last = change.told_through or 0 if change is not None else 0
    while True:
        with transaction.atomic():
            if change is not None:
                row = PolicyStatusChange.objects.select_for_update().get(pk=change.pk)
                if row.told_at is not None:
                    return told
                last = max(last, row.told_through or 0)  # another run may have gone further
            # published again, or withdrawn again, since the last chunk: the rest is not told this withdrawal
            status = Policy.objects.filter(pk=policy_id).values_list("status", flat=True).first()
            if status != P.WITHDRAWN or withdrawals.order_by("-pk").values_list("pk", flat=True).first() != latest:
                if change is not None:
                    PolicyStatusChange.objects.filter(pk=change.pk).update(told_at=timezone.now())
                return told
            chunk = list(
                Push.objects.filter(item__policy=policy, enterprise_id__gt=last).order_by("enterprise_id")
                .values_list("enterprise_id", flat=True).distinct()[:TELL_CHUNK]
            )  # fmt: skip
            if not chunk:
                if change is not None:
                    PolicyStatusChange.objects.filter(pk=change.pk).update(told_at=timezone.now())
                return told
            notify(users=contacts_of(chunk), kind="policies.withdrawn", title=WITHDRAWN_TITLE,
                   body=reason.replace("%", "%%"), params={"policy": policy.title},
                   url=reverse("policies:detail", args=[policy.pk]), target=policy,
                   organization_id=policy.organization_id, actor=actor)  # fmt: skip
            if change is not None:
                PolicyStatusChange.objects.filter(pk=change.pk).update(told_through=chunk[-1])
        told += len(chunk)
        last = chunk[-1]


RESUME_AFTER = datetime.timedelta(minutes=30)  # a withdrawal still untold this long after it was made has stopped


def resume_withdrawal_notices(*, now: datetime.datetime | None = None) -> int:
    """Queue again the telling of withdrawals that stopped half-way (run daily); returns how many were queued."""
    now = now or timezone.now()
    stalled = PolicyStatusChange.objects.filter(
        to_status=P.WITHDRAWN, told_at__isnull=True, created_at__lt=now - RESUME_AFTER
    ).values_list("pk", "policy_id", "note", "actor_id")
    count = 0
    for pk, policy_id, note, actor_id in stalled.order_by("pk")[:1000]:
        enqueue_on_commit("policies.tell_withdrawn", policy_id, note, actor_id, pk)
        count += 1
    return count


@transaction.atomic
def save_item(*, actor: Any, policy: Policy, data: dict[str, Any], item: SupportItem | None = None) -> SupportItem:
    """Create or change a support item (its rule is saved separately, as versions)."""
    require(actor, CHANGE, policy)
    if item is not None and item.policy_id != policy.pk:
        raise DomainError(_("The item belongs to another policy."), code="item")
    name = str(data.get("name", item.name if item else "") or "").strip()
    if not name:
        raise DomainError(_("A support item needs a name."), code="name")
    if not str(data.get("benefit", item.benefit if item else "") or "").strip():
        raise DomainError(_("Say what the item gives."), code="benefit")
    _check_dates(data, "window_opens", "window_closes",
                 gettext_lazy("The application window cannot close before it opens."))  # fmt: skip
    if "max_amount" in data:
        amount = data["max_amount"]
        if isinstance(amount, str) and amount.strip():
            try:
                amount = parse_quantity(amount, Dimension.MONEY)
            except UnitError as exc:
                raise DomainError(exc.message, code="max_amount") from exc
        data = data | {"max_amount": check_fits(SupportItem, "max_amount", amount or None, code="max_amount")}
    clause = data.get("clause")
    if clause is not None and clause.policy_id != policy.pk:
        raise DomainError(_("The clause belongs to another policy."), code="clause")
    if item is None:
        item = SupportItem(policy=policy, position=policy.items.count() + 1)
    creating = item._state.adding
    _apply(item, data, ITEM_FIELDS)
    # only what staff edit: the counts beside it are kept by the recomputations (a stale copy would undo theirs)
    if creating:
        item.save()
    else:
        item.save(update_fields=list(ITEM_FIELDS))
    policy.save(update_fields=["updated_at"])  # the library changed: cached rules in force are read again
    audit.record("policies.item.saved", actor=actor, target=item, organization_id=policy.organization_id)
    if policy.status == P.PUBLISHED:
        enqueue_on_commit("policies.recompute_item", item.pk)
    return item


@transaction.atomic
def link_events(*, actor: Any, policy: Policy, event_ids: list[int]) -> Policy:
    """Interpretation lectures (政策解读会) of the events service, shown on the policy's page (the caller checks
    which events the actor may link)."""
    require(actor, CHANGE, policy)
    policy.events.set(event_ids)
    audit.record("policies.policy.events", actor=actor, target=policy, organization_id=policy.organization_id,
                 data={"events": list(event_ids)})  # fmt: skip
    return policy


ATTACHMENT_TYPES = (".pdf", ".docx", ".xlsx", ".jpg", ".jpeg", ".png")
ATTACHMENT_MAX_MB = 20
MAX_ATTACHMENTS = 10


@transaction.atomic
def add_attachment(*, actor: Any, policy: Policy, upload: Any) -> PolicyAttachment:
    """Attach a file to a policy (the official document, application forms): type, size and content checked."""
    require(actor, CHANGE, policy)
    Policy.objects.select_for_update().filter(pk=policy.pk).first()  # two uploads at once keep the limit
    if policy.attachments.count() >= MAX_ATTACHMENTS:
        raise DomainError(_("A policy has at most %(max)d attachments; remove one first.") % {"max": MAX_ATTACHMENTS},
                          code="file")  # fmt: skip
    _kind, name = check_upload(upload, allowed=ATTACHMENT_TYPES, max_bytes=ATTACHMENT_MAX_MB * 1024 * 1024)
    attachment = PolicyAttachment(policy=policy, name=name[:200], size=upload.size)
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit.record("policies.attachment.added", actor=actor, target=policy, organization_id=policy.organization_id,
                 data={"name": attachment.name, "size": attachment.size})  # fmt: skip
    return attachment


@transaction.atomic
def remove_attachment(*, actor: Any, attachment: PolicyAttachment) -> None:
    policy = attachment.policy
    require(actor, CHANGE, policy)
    stored = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    delete_on_commit(storage, [stored or ""])
    audit.record("policies.attachment.removed", actor=actor, target=policy, organization_id=policy.organization_id,
                 data={"name": attachment.name})  # fmt: skip
