"""Every write of an appeal: intake, routing, answers, extensions, the enterprise's rating, closing, escalation.

Each step is authorised here, runs in a transaction, moves the status through `APPEAL_TRANSITIONS` (which writes
the typed timeline row and the audit entry) and tells the people it concerns. Two people editing one appeal at
once: every form carries the appeal's `version`; a write from an older version is refused (`check_version`), so
nobody's change is lost silently.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.appeals import routing
from qiaoliang.appeals.models import (
    Appeal,
    AppealAttachment,
    AppealCategory,
    AppealEvent,
    ExtensionRequest,
)
from qiaoliang.appeals.permissions import ANSWER, RESPOND
from qiaoliang.core import audit, notifications, uploads, workdays
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.core.transitions import Transitions
from qiaoliang.orgs.models import Department, Enterprise, Organization
from qiaoliang.orgs.selectors import contacts_of, get_scope, liaisons_of, managers_of, reviewing_organization

S = Appeal.Status
APPEAL_TRANSITIONS = Transitions(
    model=Appeal,
    table={
        S.SUBMITTED: {S.ACCEPTED, S.RETURNED, S.ASSIGNED, S.WITHDRAWN, S.MERGED},
        S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
        S.ACCEPTED: {S.ASSIGNED, S.ANSWERED, S.MERGED, S.WITHDRAWN},
        S.ASSIGNED: {S.ASSIGNED, S.ANSWERED, S.ACCEPTED},
        S.ANSWERED: {S.CONFIRMED, S.CLOSED, S.ASSIGNED},
        S.CONFIRMED: {S.CLOSED, S.ASSIGNED},
        S.CLOSED: set(),
        S.WITHDRAWN: set(),
        S.MERGED: set(),
    },
    audit_prefix="appeals.appeal",
    history_model=AppealEvent,
    history_fk="appeal",
)
# Working days to answer by urgency (staff may set another number when they assign).
WORKING_DAYS: dict[str, int] = {Appeal.Urgency.NORMAL: 10, Appeal.Urgency.URGENT: 5, Appeal.Urgency.CRITICAL: 3}
MAX_WORKING_DAYS = 60
REMIND_BEFORE = 2  # working days before the deadline
MAX_ATTACHMENTS = 5
ATTACHMENT_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx")
TEXT_LIMITS = {"title": 120, "description": 5000, "answer": 5000, "note": 500}


def _url(appeal: Appeal) -> str:
    return reverse("appeals:detail", args=[appeal.pk])


def _text(value: str, field: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), code=field)
    if len(text) > TEXT_LIMITS[field]:
        raise DomainError(
            _("At most %(max)d characters, not %(count)d.") % {"max": TEXT_LIMITS[field], "count": len(text)},
            code=field,
        )
    return text


def check_version(appeal: Appeal, version: int | None) -> Appeal:
    """Lock the appeal and refuse a write drawn from an older version of it."""
    locked = Appeal.objects.select_for_update().get(pk=appeal.pk)
    if version is not None and int(version) != locked.version:
        raise DomainError(
            _("Someone else changed this appeal while you were working on it (now: %(status)s). Reload the page to "
              "see their change, then do yours again.") % {"status": locked.get_status_display()},
            code="stale",
        )  # fmt: skip
    return locked


def _move(appeal: Appeal, to: str, *, actor: Any, note: str = "", changes: dict[str, Any] | None = None,
          version: int | None = None, system: bool = False) -> Appeal:  # fmt: skip
    locked = check_version(appeal, version)
    return APPEAL_TRANSITIONS.move(
        locked, to, actor=actor, note=note, system=system, changes={**(changes or {}), "version": locked.version + 1}
    )


def _event(appeal: Appeal, kind: str, *, actor: Any, note: str = "", internal: bool = False) -> None:
    AppealEvent.objects.create(
        appeal=appeal, kind=kind, from_status=appeal.status, to_status=appeal.status, note=note[:500],
        actor=actor if getattr(actor, "is_authenticated", False) else None, internal=internal,
    )  # fmt: skip


def _new_number() -> str:
    return f"SQ{timezone.localdate():%Y%m%d}{secrets.randbelow(10**6):06d}"


def _tell(users: Sequence[Any], appeal: Appeal, kind: str, title: Any, body: Any = "", actor: Any = None,
          **params: Any) -> None:  # fmt: skip
    notifications.notify(
        users=users, kind=f"appeals.{kind}", title=title, body=body,
        params={"number": appeal.number, "title": appeal.title, **params}, url=_url(appeal), target=appeal,
        organization_id=appeal.organization_id, actor=actor,
    )  # fmt: skip


# --- intake -----------------------------------------------------------------------------------------------------


def organizations_for(user: Any, enterprise: Enterprise) -> list[Organization]:
    """The organisations an enterprise's appeal may go to: the ones it is an active member of (deepest first)."""
    own = [m.organization for m in enterprise.memberships.filter(status="active").select_related("organization")]
    return sorted(own, key=lambda org: (-org.depth, org.path))


@transaction.atomic
def submit_appeal(
    *,
    actor: Any,
    enterprise: Enterprise,
    title: str,
    description: str,
    category: AppealCategory | None = None,
    urgency: str = Appeal.Urgency.NORMAL,
    shareable: bool = False,
    organization: Organization | None = None,
    source: str = Appeal.Source.ONLINE,
    attachments: Sequence[UploadedFile] = (),
    visit: Any = None,
    notify: bool = True,
) -> Appeal:
    """Receive an appeal: from the enterprise's contact online, or recorded by staff for it (a visit, a symposium,
    a hotline call). The routing is suggested from the text; the organisation's managers are told."""
    scope = get_scope(actor) if actor is not None else None
    on_behalf = source != Appeal.Source.ONLINE
    if actor is not None and scope is not None:
        if on_behalf:
            if not (scope.is_all or scope.change_org_ids):
                raise NotAllowedError(_("Only the organisation's staff record appeals for an enterprise."))
        elif enterprise.pk not in scope.own_enterprise_ids:
            raise NotAllowedError(_("You may submit appeals only for your own enterprise."))
    if urgency not in Appeal.Urgency.values:
        raise DomainError(_("Choose an urgency from the list."), code="urgency")
    if source not in Appeal.Source.values:
        raise DomainError(_("Choose a source from the list."), code="source")
    if organization is None:
        organization = reviewing_organization(enterprise)
    if organization is None:
        raise DomainError(_("The enterprise is a member of no organisation that could follow the appeal up."),
                          code="organization")  # fmt: skip
    if on_behalf and actor is not None:
        require(actor, CHANGE, organization, _("You may not record appeals for this organisation."))
    elif actor is not None and organization.pk not in {org.pk for org in organizations_for(actor, enterprise)}:
        raise DomainError(_("Choose one of the organisations your enterprise is a member of."), code="organization")
    if len(attachments) > MAX_ATTACHMENTS:
        raise DomainError(_("At most %(max)d files.") % {"max": MAX_ATTACHMENTS}, code="attachments")
    checked = [(upload, *uploads.check_upload(upload, allowed=ATTACHMENT_TYPES)) for upload in attachments]

    appeal = Appeal(
        enterprise=enterprise, organization=organization, title=_text(title, "title"),
        description=_text(description, "description"), category=category, urgency=urgency, source=source,
        shareable=shareable, submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        visit=visit if visit is not None and visit.enterprise_id == enterprise.pk else None,
    )  # fmt: skip
    suggestion = routing.suggest(appeal.title, appeal.description)
    appeal.suggested_category = suggestion.category
    appeal.suggested_department = suggestion.department
    for _attempt in range(5):
        appeal.number = _new_number()
        try:
            with transaction.atomic():
                appeal.save()
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - a million numbers a day
        raise DomainError(_("The appeal could not be numbered; try again."), code="number")
    for upload, kind, name in checked:
        stored = AppealAttachment(appeal=appeal, name=name, content_type=kind.content_type,
                                  size=getattr(upload, "size", 0) or 0, uploaded_by=appeal.submitted_by)  # fmt: skip
        stored.file.save(name, upload, save=False)
        stored.save()
    AppealEvent.objects.create(appeal=appeal, from_status="", to_status=S.SUBMITTED, actor=appeal.submitted_by,
                               note=appeal.get_source_display())  # fmt: skip
    audit.record("appeals.appeal.submitted", actor=appeal.submitted_by, target=appeal,
                 organization_id=organization.pk, data={"source": source})  # fmt: skip
    if not notify:  # a bulk import tells the managers once, with the count
        return appeal
    _tell(managers_of(organization), appeal, "submitted",
          gettext_lazy("New appeal %(number)s from %(enterprise)s: %(title)s"),
          gettext_lazy("Accept it, ask for more information, or route it to a department."),
          actor=actor, enterprise=enterprise.name)  # fmt: skip
    if on_behalf:
        _tell(contacts_of([enterprise.pk]), appeal, "recorded",
              gettext_lazy("%(organization)s recorded your appeal %(number)s: %(title)s"),
              gettext_lazy("You can follow it and add information on its page."),
              actor=actor, organization=organization.name)  # fmt: skip
    return appeal


@transaction.atomic
def accept(*, actor: Any, appeal: Appeal, version: int | None = None, note: str = "") -> Appeal:
    """Accept (受理) an appeal: the organisation takes it on; the enterprise is told."""
    require(actor, CHANGE, appeal, _("You may not handle this appeal."))
    appeal = _move(appeal, S.ACCEPTED, actor=actor, note=_text(note, "note", required=False), version=version)
    _tell(contacts_of([appeal.enterprise_id]), appeal, "accepted",
          gettext_lazy("Your appeal %(number)s was accepted"), gettext_lazy("%(title)s"), actor=actor)  # fmt: skip
    return appeal


@transaction.atomic
def return_for_information(*, actor: Any, appeal: Appeal, reason: str, version: int | None = None) -> Appeal:
    """Send an appeal back to the enterprise with what is missing (a reason is required)."""
    require(actor, CHANGE, appeal, _("You may not handle this appeal."))
    reason = _text(reason, "note")
    appeal = _move(appeal, S.RETURNED, actor=actor, note=reason, version=version)
    _tell(contacts_of([appeal.enterprise_id]), appeal, "returned",
          gettext_lazy("Your appeal %(number)s needs more information"), gettext_lazy("%(reason)s"),
          actor=actor, reason=reason)  # fmt: skip
    return appeal


@transaction.atomic
def add_information(*, actor: Any, appeal: Appeal, text: str, version: int | None = None) -> Appeal:
    """The enterprise answers a return: the text is added to the description and the appeal goes back in."""
    require(actor, RESPOND, appeal, _("Only the enterprise's contact adds information to its appeal."))
    addition = _text(text, "note")
    locked = check_version(appeal, version)
    description = f"{locked.description}\n\n【{_('Added on %(date)s') % {'date': timezone.localdate()}}】{addition}"
    if len(description) > TEXT_LIMITS["description"]:
        raise DomainError(_("The description would be longer than %(max)d characters.")
                          % {"max": TEXT_LIMITS["description"]}, code="note")  # fmt: skip
    appeal = _move(locked, S.SUBMITTED, actor=actor, note=addition, changes={"description": description})
    _tell(managers_of(appeal.organization), appeal, "resubmitted",
          gettext_lazy("Appeal %(number)s has the information you asked for"), gettext_lazy("%(title)s"),
          actor=actor)  # fmt: skip
    return appeal


@transaction.atomic
def withdraw(*, actor: Any, appeal: Appeal, reason: str = "", version: int | None = None) -> Appeal:
    """The enterprise withdraws its appeal (before it is routed, or while it waits for information)."""
    require(actor, RESPOND, appeal, _("Only the enterprise's contact withdraws its appeal."))
    appeal = _move(appeal, S.WITHDRAWN, actor=actor, note=_text(reason, "note", required=False), version=version,
                   changes={"closed_at": timezone.now()})  # fmt: skip
    _tell(managers_of(appeal.organization), appeal, "withdrawn",
          gettext_lazy("Appeal %(number)s was withdrawn by the enterprise"), gettext_lazy("%(title)s"),
          actor=actor)  # fmt: skip
    return appeal


# --- routing ----------------------------------------------------------------------------------------------------


def deadline_for(days: int, start: datetime.date | None = None) -> datetime.date:
    """Return the date `days` working days after `start` (today), official holidays and 调休 days counted."""
    return workdays.add_working_days(start or timezone.localdate(), days)


def _working_days(value: Any, urgency: str) -> int:
    if value in (None, ""):
        return WORKING_DAYS.get(urgency, WORKING_DAYS[Appeal.Urgency.NORMAL])
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise DomainError(_("Give the working days as a whole number."), code="working_days") from None
    if not 1 <= days <= MAX_WORKING_DAYS:
        raise DomainError(_("Between 1 and %(max)d working days.") % {"max": MAX_WORKING_DAYS}, code="working_days")
    return days


@transaction.atomic
def assign(
    *,
    actor: Any,
    appeal: Appeal,
    department: Department | None,
    working_days: int | None = None,
    category: AppealCategory | None = None,
    note: str = "",
    version: int | None = None,
) -> Appeal:
    """Route (转办) an appeal to a liaison department with a deadline in working days; reroute it to another one
    (the reason is kept); send it back to the department after the enterprise was not satisfied."""
    require(actor, CHANGE, appeal, _("You may not route this appeal."))
    if department is None or not department.is_active:
        raise DomainError(_("Choose an active liaison department."), code="department")
    locked = check_version(appeal, version)
    rerouted = locked.status == S.ASSIGNED
    note = _text(note, "note", required=rerouted)
    days = _working_days(working_days, locked.urgency)
    now = timezone.now()
    changes: dict[str, Any] = {
        "department": department, "assigned_at": now, "working_days": days, "deadline": deadline_for(days),
        "routing_confirmed": True, "reminded_at": None, "escalated_at": None, "answer": "", "answered_at": None,
        "answered_on_time": None, "satisfaction": "", "rating": None, "feedback": "",
    }  # fmt: skip
    if category is not None:
        changes["category"] = category
    previous = locked.department
    appeal = _move(locked, S.ASSIGNED, actor=actor, note=note or department.name, changes=changes)
    if rerouted:
        _event(
            appeal,
            AppealEvent.Kind.REASSIGNED,
            actor=actor,
            internal=True,
            note=_("From %(old)s to %(new)s: %(reason)s") % {"old": previous, "new": department, "reason": note},
        )
    _tell(
        liaisons_of([department.pk]),
        appeal,
        "assigned",
        gettext_lazy("Appeal %(number)s was routed to your department: answer by %(deadline)s"),
        gettext_lazy("%(title)s"),
        actor=actor,
        deadline=appeal.deadline.isoformat() if appeal.deadline else "",
    )
    if rerouted and previous is not None and previous.pk != department.pk:
        _tell(liaisons_of([previous.pk]), appeal, "reassigned",
              gettext_lazy("Appeal %(number)s was routed to another department"), gettext_lazy("%(reason)s"),
              actor=actor, reason=note)  # fmt: skip
    _tell(contacts_of([appeal.enterprise_id]), appeal, "routed",
          gettext_lazy("Your appeal %(number)s is with %(department)s, to be answered by %(deadline)s"),
          gettext_lazy("%(title)s"), actor=actor, department=department.name,
          deadline=appeal.deadline.isoformat() if appeal.deadline else "")  # fmt: skip
    enqueue_on_commit("appeals.retrain_if_due")
    return appeal


@transaction.atomic
def recall(*, actor: Any, appeal: Appeal, reason: str, version: int | None = None) -> Appeal:
    """Take a routed appeal back from the department (it was not theirs); the department is told."""
    require(actor, CHANGE, appeal, _("You may not route this appeal."))
    reason = _text(reason, "note")
    department = appeal.department
    appeal = _move(appeal, S.ACCEPTED, actor=actor, note=reason, version=version,
                   changes={"department": None, "deadline": None, "assigned_at": None})  # fmt: skip
    if department is not None:
        _tell(liaisons_of([department.pk]), appeal, "recalled",
              gettext_lazy("Appeal %(number)s was taken back from your department"), gettext_lazy("%(reason)s"),
              actor=actor, reason=reason)  # fmt: skip
    return appeal


@transaction.atomic
def merge(*, actor: Any, appeal: Appeal, into: Appeal, version: int | None = None) -> Appeal:
    """Merge a duplicate into another appeal of the same organisation; its enterprise follows the other one."""
    require(actor, CHANGE, appeal, _("You may not handle this appeal."))
    require(actor, CHANGE, into, _("You may not handle the appeal to merge into."))
    if into.pk == appeal.pk or not into.is_open or into.merged_into_id:
        raise DomainError(_("Choose another open appeal to merge into."), code="into")
    appeal = _move(appeal, S.MERGED, actor=actor, note=into.number, version=version,
                   changes={"merged_into": into, "closed_at": timezone.now()})  # fmt: skip
    _tell(contacts_of([appeal.enterprise_id]), appeal, "merged",
          gettext_lazy("Your appeal %(number)s is handled together with %(other)s"),
          gettext_lazy("The same problem was raised before; you are told when it is answered."),
          actor=actor, other=into.number)  # fmt: skip
    return appeal


# --- answers and extensions ---------------------------------------------------------------------------------


@transaction.atomic
def answer_appeal(
    *, actor: Any, appeal: Appeal, answer: str, solved: bool = True, version: int | None = None
) -> Appeal:
    """The department (or the organisation's staff themselves) answers; on time if by the deadline."""
    require(actor, ANSWER, appeal, _("Only the department the appeal is routed to answers it."))
    text = _text(answer, "answer")
    locked = check_version(appeal, version)
    scope = get_scope(actor) if actor is not None else None
    if (locked.status == S.ACCEPTED and scope is not None and not scope.is_all
            and locked.organization_id not in scope.change_org_ids):  # fmt: skip
        raise NotAllowedError(_("The appeal is not routed to your department."))
    today = timezone.localdate()
    on_time = locked.deadline is None or today <= locked.deadline
    appeal = _move(locked, S.ANSWERED, actor=actor, note=text[:500], changes={
        "answer": text, "answered_at": timezone.now(), "answered_on_time": on_time, "solved": bool(solved),
        "answered_by": actor if getattr(actor, "is_authenticated", False) else None,
    })  # fmt: skip
    _tell(contacts_of([appeal.enterprise_id]), appeal, "answered",
          gettext_lazy("Your appeal %(number)s was answered"),
          gettext_lazy("Read the answer and tell us whether you are satisfied."), actor=actor)  # fmt: skip
    _tell(managers_of(appeal.organization), appeal, "answered_staff",
          gettext_lazy("Appeal %(number)s was answered"), gettext_lazy("%(title)s"), actor=actor)  # fmt: skip
    return appeal


@transaction.atomic
def request_extension(*, actor: Any, appeal: Appeal, days: int, reason: str) -> ExtensionRequest:
    """The department asks for more working days; the organisation's staff decide."""
    require(actor, ANSWER, appeal, _("Only the department the appeal is routed to asks for more time."))
    locked = check_version(appeal, None)
    if locked.status != S.ASSIGNED:
        raise DomainError(_("Only an appeal waiting for its answer can get more time."), code="status")
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise DomainError(_("Give the working days as a whole number."), code="days") from None
    if not 1 <= days <= 30:
        raise DomainError(_("Between 1 and %(max)d working days.") % {"max": 30}, code="days")
    reason = _text(reason, "note")
    try:
        with transaction.atomic():
            extension = ExtensionRequest.objects.create(
                appeal=locked, days=days, reason=reason,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            )  # fmt: skip
    except IntegrityError:
        raise DomainError(_("An extension request for this appeal is already waiting for a decision."),
                          code="days") from None  # fmt: skip
    _event(
        locked,
        AppealEvent.Kind.EXTENSION_REQUESTED,
        actor=actor,
        internal=True,
        note=_("%(days)d more working days: %(reason)s") % {"days": days, "reason": reason},
    )
    _tell(managers_of(locked.organization), locked, "extension_requested",
          gettext_lazy("The department asks for %(days)s more working days on appeal %(number)s"),
          gettext_lazy("%(reason)s"), actor=actor, days=days, reason=reason)  # fmt: skip
    return extension


@transaction.atomic
def decide_extension(*, actor: Any, extension: ExtensionRequest, approve: bool, note: str = "") -> ExtensionRequest:
    """Approve (the deadline moves by the working days asked) or refuse an extension; the department is told."""
    require(actor, CHANGE, extension, _("You may not decide this request."))
    locked = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
    if locked.status != ExtensionRequest.Status.PENDING:
        raise DomainError(_("This request was decided already."), code="status")
    appeal = check_version(locked.appeal, None)
    note = _text(note, "note", required=not approve)
    locked.status = ExtensionRequest.Status.APPROVED if approve else ExtensionRequest.Status.REFUSED
    locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    if approve and appeal.status == S.ASSIGNED and appeal.deadline is not None:
        appeal.deadline = workdays.add_working_days(appeal.deadline, locked.days)
        appeal.escalated_at = None
        appeal.reminded_at = None
        appeal.version += 1
        appeal.save(update_fields=["deadline", "escalated_at", "reminded_at", "version", "updated_at"])
    kind = AppealEvent.Kind.EXTENSION_APPROVED if approve else AppealEvent.Kind.EXTENSION_REFUSED
    _event(appeal, kind, actor=actor, note=note or (appeal.deadline.isoformat() if appeal.deadline else ""))
    audit.record(f"appeals.extension.{locked.status}", actor=locked.decided_by, target=appeal,
                 organization_id=appeal.organization_id, data={"days": locked.days, "note": note})  # fmt: skip
    if appeal.department_id:
        title = (gettext_lazy("More time on appeal %(number)s: answer by %(deadline)s") if approve
                 else gettext_lazy("No more time on appeal %(number)s: answer by %(deadline)s"))  # fmt: skip
        _tell(liaisons_of([appeal.department_id]), appeal, f"extension_{locked.status}", title,
              gettext_lazy("%(note)s"), actor=actor, note=note,
              deadline=appeal.deadline.isoformat() if appeal.deadline else "")  # fmt: skip
    return locked


# --- the enterprise's word, closing ---------------------------------------------------------------------------


@transaction.atomic
def confirm(
    *, actor: Any, appeal: Appeal, satisfaction: str, rating: int | None = None, feedback: str = "",
    version: int | None = None,
) -> Appeal:  # fmt: skip
    """The enterprise confirms the answer: satisfied or not, a rating of the department (1–5), a comment."""
    require(actor, RESPOND, appeal, _("Only the enterprise's contact confirms its appeal."))
    if satisfaction not in Appeal.Satisfaction.values:
        raise DomainError(_("Say whether you are satisfied."), code="satisfaction")
    if rating is not None and not 1 <= int(rating) <= 5:
        raise DomainError(_("Rate from 1 to 5."), code="rating")
    feedback = _text(feedback, "note", required=satisfaction == Appeal.Satisfaction.UNSATISFIED)
    appeal = _move(appeal, S.CONFIRMED, actor=actor, note=feedback, version=version, changes={
        "satisfaction": satisfaction, "rating": int(rating) if rating is not None else None, "feedback": feedback,
    })  # fmt: skip
    values = {"satisfaction": appeal.get_satisfaction_display(), "feedback": feedback}
    users = managers_of(appeal.organization) + liaisons_of([appeal.department_id] if appeal.department_id else [])
    _tell(users, appeal, "confirmed", gettext_lazy("Appeal %(number)s: the enterprise is %(satisfaction)s"),
          gettext_lazy("%(feedback)s"), actor=actor, **values)  # fmt: skip
    return appeal


@transaction.atomic
def close(*, actor: Any, appeal: Appeal, note: str = "", solved: bool | None = None,
          version: int | None = None) -> Appeal:  # fmt: skip
    """Close (办结) an answered or confirmed appeal; the enterprise is told."""
    require(actor, CHANGE, appeal, _("You may not close this appeal."))
    changes: dict[str, Any] = {"closed_at": timezone.now()}
    if solved is not None:
        changes["solved"] = solved
    appeal = _move(appeal, S.CLOSED, actor=actor, note=_text(note, "note", required=False), version=version,
                   changes=changes)  # fmt: skip
    for merged in appeal.merged.all():
        _tell(contacts_of([merged.enterprise_id]), merged, "closed_merged",
              gettext_lazy("The appeal your appeal %(number)s was merged into is closed"), gettext_lazy("%(answer)s"),
              actor=actor, answer=appeal.answer[:500])  # fmt: skip
    _tell(contacts_of([appeal.enterprise_id]), appeal, "closed", gettext_lazy("Your appeal %(number)s is closed"),
          gettext_lazy("%(title)s"), actor=actor)  # fmt: skip
    return appeal


# --- deadlines ------------------------------------------------------------------------------------------------


def remind_and_escalate(today: datetime.date | None = None) -> dict[str, int]:
    """Remind departments two working days before a deadline; escalate (督办) appeals past it: the department and
    the organisation's managers are told once per deadline. Run daily (`manage.py appeal_deadlines`)."""
    today = today or timezone.localdate()
    counts = {"reminded": 0, "escalated": 0}
    due_soon = workdays.add_working_days(today, REMIND_BEFORE)
    waiting = Appeal.objects.filter(status=S.ASSIGNED, deadline__isnull=False)
    for appeal_id in waiting.filter(deadline__lt=today, escalated_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            appeal = Appeal.objects.select_for_update().select_related("organization").get(pk=appeal_id)
            if appeal.status != S.ASSIGNED or appeal.escalated_at is not None:
                continue
            appeal.escalated_at = timezone.now()
            appeal.save(update_fields=["escalated_at", "updated_at"])
            days = workdays.working_days_between(appeal.deadline, today) if appeal.deadline else 0
            late = _("%(days)d working days late") % {"days": days}
            _event(appeal, AppealEvent.Kind.ESCALATED, actor=None, note=late)
            departments = [appeal.department_id] if appeal.department_id else []
            users = managers_of(appeal.organization) + liaisons_of(departments)
            _tell(users, appeal, "escalated", gettext_lazy("Appeal %(number)s is past its deadline (%(deadline)s)"),
                  gettext_lazy("%(title)s — answer it now or ask for more time."),
                  deadline=appeal.deadline.isoformat() if appeal.deadline else "")  # fmt: skip
            counts["escalated"] += 1
    soon = waiting.filter(deadline__gte=today, deadline__lte=due_soon, reminded_at__isnull=True)
    for appeal_id in soon.values_list("pk", flat=True):
        with transaction.atomic():
            appeal = Appeal.objects.select_for_update().get(pk=appeal_id)
            if appeal.status != S.ASSIGNED or appeal.reminded_at is not None:
                continue
            appeal.reminded_at = timezone.now()
            appeal.save(update_fields=["reminded_at", "updated_at"])
            _event(
                appeal,
                AppealEvent.Kind.REMINDED,
                actor=None,
                internal=True,
                note=appeal.deadline.isoformat() if appeal.deadline else "",
            )
            _tell(liaisons_of([appeal.department_id] if appeal.department_id else []), appeal, "reminder",
                  gettext_lazy("Appeal %(number)s is due on %(deadline)s"), gettext_lazy("%(title)s"),
                  deadline=appeal.deadline.isoformat() if appeal.deadline else "")  # fmt: skip
            counts["reminded"] += 1
    return counts


__all__ = [
    "APPEAL_TRANSITIONS", "WORKING_DAYS", "accept", "add_information", "answer_appeal", "assign", "check_version",
    "close", "confirm", "deadline_for", "decide_extension", "merge", "organizations_for", "recall",
    "remind_and_escalate", "request_extension", "return_for_information", "submit_appeal", "withdraw",
]  # fmt: skip
