"""Periodic evaluation rounds (评议): the organisation's staff ask the member enterprises of an audience to rate
liaison departments for a period (响应速度, 办理质量, 服务态度, 政策落实, 总体满意度, 1–5, and a comment).

A round is scheduled, open or closed by its dates, computed when read (`EvaluationRound.state_on`), so it closes
at midnight without waiting for a job. The daily run (`run_due`, in `manage.py appeal_deadlines` and the task
`appeals.deadlines`, as the deadline escalation) does what the dates call for once: it tells the audience's contacts
that a round is open, and when it has closed keeps the audience's size and tells staff and the departments that the
results are in. An enterprise answers once per round and department (a unique constraint: a retried submission
changes the same answer), and may change its answer until the round closes. Staff see the results with the
enterprises' names; a department's liaisons see their own department's results, once closed, without them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.appeals.models import DEFAULT_QUESTION_LABELS, EVALUATION_QUESTIONS, EvaluationAnswer, EvaluationRound
from qiaoliang.appeals.permissions import RESPOND, ancestors_of
from qiaoliang.core import audit, notifications
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, VIEW, can, require
from qiaoliang.core.sheets import chunks
from qiaoliang.orgs.models import Department, Enterprise, Membership, Organization
from qiaoliang.orgs.selectors import contacts_of, get_scope, liaisons_of, managers_of

MAX_DEPARTMENTS = 60
MAX_DAYS_OPEN = 366
LABEL_LIMIT = 40
COMMENT_LIMIT = 500
COMMENTS_SHOWN = 200  # per department on the results page


def _text(value: str, limit: int, field: str, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(_("This field is required."), code=field)
    if len(text) > limit:
        raise DomainError(_("At most %(max)d characters.") % {"max": limit}, code=field)
    return text


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    checked = {}
    for key in EVALUATION_QUESTIONS:
        label = ((labels or {}).get(key) or "").strip() or DEFAULT_QUESTION_LABELS[key]
        checked[key] = _text(label, LABEL_LIMIT, f"label_{key}")
    return checked


def _check_dates(opens_on: Any, closes_on: Any, *, today: datetime.date) -> None:
    if not isinstance(opens_on, datetime.date):
        raise DomainError(_("Give the date as YYYY-MM-DD."), code="opens_on")
    if not isinstance(closes_on, datetime.date):
        raise DomainError(_("Give the date as YYYY-MM-DD."), code="closes_on")
    if closes_on < opens_on:
        raise DomainError(_("The round cannot close before it opens."), code="closes_on")
    if closes_on < today:
        raise DomainError(_("The closing date has passed; choose today or a later day."), code="closes_on")
    if (closes_on - opens_on).days > MAX_DAYS_OPEN:
        raise DomainError(_("A round is open for at most %(days)d days.") % {"days": MAX_DAYS_OPEN}, code="closes_on")


def _departments(departments: Iterable[Department]) -> list[Department]:
    chosen = list({department.pk: department for department in departments}.values())
    if not chosen:
        raise DomainError(_("Choose the departments to evaluate."), code="departments")
    if len(chosen) > MAX_DEPARTMENTS:
        raise DomainError(_("At most %(max)d departments in one round.") % {"max": MAX_DEPARTMENTS},
                          code="departments")  # fmt: skip
    if any(not department.is_active for department in chosen):
        raise DomainError(_("Choose active liaison departments."), code="departments")
    return chosen


# --- the audience -----------------------------------------------------------------------------------------------


def audience_organization_ids(round_: EvaluationRound) -> set[int]:
    """Return the audience's organisations and every organisation under them."""
    condition = Q(pk__in=[])
    for path in round_.audience.values_list("path", flat=True):
        condition |= Q(path__startswith=path)
    return set(Organization.objects.filter(condition).values_list("pk", flat=True))


def audience_enterprise_ids(round_: EvaluationRound) -> QuerySet[Any]:
    """The enterprises asked: active members of the audience's organisations (or of those under them)."""
    return (
        Membership.objects.filter(status=Membership.Status.ACTIVE,
                                  organization_id__in=audience_organization_ids(round_))
        .values_list("enterprise_id", flat=True).distinct().order_by()
    )  # fmt: skip


def audience_count(round_: EvaluationRound) -> int:
    """The audience's size: as it was when the round closed, or counted now."""
    return round_.audience_size if round_.audience_size is not None else audience_enterprise_ids(round_).count()


def in_audience(round_: EvaluationRound, enterprise: Enterprise) -> bool:
    """Tell whether an enterprise is asked in the round (an active member under one of the audience's orgs)."""
    own = set(
        Membership.objects.filter(enterprise=enterprise, status=Membership.Status.ACTIVE)
        .values_list("organization_id", flat=True)
    )  # fmt: skip
    return bool(own) and round_.audience.filter(pk__in=ancestors_of(own)).exists()


# --- staff: rounds ----------------------------------------------------------------------------------------------


@transaction.atomic
def create_round(
    *,
    actor: Any,
    organization: Organization,
    title: str,
    period: str,
    departments: Iterable[Department],
    opens_on: datetime.date,
    closes_on: datetime.date,
    audience: Iterable[Organization] = (),
    labels: Mapping[str, str] | None = None,
) -> EvaluationRound:
    """Open (or schedule) an evaluation round; the audience (default: the organisation's members) is told when it
    opens."""
    require(actor, CHANGE, organization, _("You may not run evaluations for this organisation."))
    title = _text(title, 120, "title", required=True)
    period = _text(period, 40, "period", required=True)
    chosen = _departments(departments)
    organizations = list({org.pk: org for org in audience}.values()) or [organization]
    for org in organizations:
        if not org.path.startswith(organization.path):
            raise DomainError(_("Choose the audience among the organisations of %(organization)s.")
                              % {"organization": organization.name}, code="audience")  # fmt: skip
        require(actor, CHANGE, org, _("You may not ask the members of %(organization)s.") % {"organization": org.name})
    today = timezone.localdate()
    _check_dates(opens_on, closes_on, today=today)
    round_ = EvaluationRound.objects.create(
        organization=organization, title=title, period=period, question_labels=_labels(labels), opens_on=opens_on,
        closes_on=closes_on, created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    round_.departments.set(chosen)
    round_.audience.set(organizations)
    audit.record("appeals.evaluation.created", actor=round_.created_by, target=round_, organization_id=organization.pk,
                 data={"departments": [d.pk for d in chosen], "audience": [o.pk for o in organizations],
                       "opens_on": opens_on.isoformat(), "closes_on": closes_on.isoformat()})  # fmt: skip
    if opens_on <= today:
        enqueue_on_commit("appeals.announce_round", round_.pk)
    return round_


@transaction.atomic
def update_round(
    *,
    actor: Any,
    round_: EvaluationRound,
    title: str,
    period: str,
    opens_on: datetime.date,
    closes_on: datetime.date,
    labels: Mapping[str, str] | None = None,
) -> EvaluationRound:
    """Change a round's wording and dates until it closes (its departments and audience stay as announced)."""
    require(actor, CHANGE, round_, _("You may not change this evaluation."))
    locked = EvaluationRound.objects.select_for_update().get(pk=round_.pk)
    today = timezone.localdate()
    if locked.state_on(today) == EvaluationRound.State.CLOSED:
        raise DomainError(_("The round is closed; it stays as it was answered."), code="round")
    if opens_on != locked.opens_on and locked.answers.exists():
        raise DomainError(_("Enterprises have answered already: the opening date stays."), code="opens_on")
    _check_dates(opens_on, closes_on, today=today)
    locked.title = _text(title, 120, "title", required=True)
    locked.period = _text(period, 40, "period", required=True)
    locked.question_labels = _labels(labels)
    locked.opens_on, locked.closes_on = opens_on, closes_on
    locked.save(update_fields=["title", "period", "question_labels", "opens_on", "closes_on", "updated_at"])
    audit.record("appeals.evaluation.changed", actor=actor if getattr(actor, "is_authenticated", False) else None,
                 target=locked, organization_id=locked.organization_id,
                 data={"opens_on": opens_on.isoformat(), "closes_on": closes_on.isoformat()})  # fmt: skip
    if locked.announced_at is None and opens_on <= today:
        enqueue_on_commit("appeals.announce_round", locked.pk)
    return locked


# --- enterprises: answers ---------------------------------------------------------------------------------------


def _score(value: Any, key: str, label: str) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        score = 0
    if isinstance(value, bool) or not 1 <= score <= 5:
        raise DomainError(_("Rate %(question)s from 1 to 5.") % {"question": label}, code=key)
    return score


@transaction.atomic
def answer_round(
    *,
    actor: Any,
    round_: EvaluationRound,
    department: Department,
    enterprise: Enterprise,
    scores: Mapping[str, Any],
    comment: str = "",
) -> EvaluationAnswer:
    """Record (or change) an enterprise's scores of one department in an open round; answering twice changes the
    one answer."""
    if actor is not None and enterprise.pk not in get_scope(actor).own_enterprise_ids:
        raise NotAllowedError(_("You may answer only for your own enterprise."))
    if not in_audience(round_, enterprise):
        raise DomainError(_("%(enterprise)s is not among the enterprises asked in this evaluation.")
                          % {"enterprise": enterprise.name}, code="enterprise")  # fmt: skip
    state = round_.state_on(timezone.localdate())
    if state == EvaluationRound.State.SCHEDULED:
        raise DomainError(_("The evaluation opens on %(date)s.") % {"date": round_.opens_on.isoformat()}, code="round")
    if state == EvaluationRound.State.CLOSED:
        raise DomainError(_("The evaluation closed on %(date)s; answers are no longer taken.")
                          % {"date": round_.closes_on.isoformat()}, code="round")  # fmt: skip
    if not round_.departments.filter(pk=department.pk).exists():
        raise DomainError(_("%(department)s is not evaluated in this round.") % {"department": department.name},
                          code="department")  # fmt: skip
    values: dict[str, Any] = {key: _score(scores.get(key), key, label) for key, label in round_.questions()}
    values["comment"] = _text(comment, COMMENT_LIMIT, "comment")
    values["answered_by"] = actor if getattr(actor, "is_authenticated", False) else None
    key = {"round": round_, "department": department, "enterprise": enterprise}
    answer = EvaluationAnswer.objects.select_for_update().filter(**key).first()
    created = answer is None
    if answer is None:
        try:
            with transaction.atomic():
                answer = EvaluationAnswer.objects.create(**key, **values)
        except IntegrityError:  # the same answer sent twice at once: the first one is changed
            created = False
            answer = EvaluationAnswer.objects.select_for_update().get(**key)
    if not created:
        for name, value in values.items():
            setattr(answer, name, value)
        answer.save(update_fields=[*values, "updated_at"])
    audit.record(f"appeals.evaluation.{'answered' if created else 'answer_changed'}", actor=values["answered_by"],
                 target=answer, organization_id=round_.organization_id,
                 data={"department": department.pk, "overall": values["overall"]})  # fmt: skip
    return answer


# --- the daily run ----------------------------------------------------------------------------------------------


def _url(round_: EvaluationRound, name: str = "appeals:evaluation") -> str:
    return reverse(name, args=[round_.pk])


def announce_round(round_id: int, today: datetime.date | None = None) -> int | None:
    """Tell the audience's contacts that the round is open (once: the round is claimed first); return how many were
    told, None when there was nothing to do (announced already, not open)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        claimed = EvaluationRound.objects.filter(pk=round_id, announced_at__isnull=True, opens_on__lte=today,
                                                 closes_on__gte=today).update(announced_at=timezone.now())  # fmt: skip
        if not claimed:
            return None
        round_ = EvaluationRound.objects.get(pk=round_id)
        names = "、".join(round_.departments.order_by("code").values_list("name", flat=True)[:10])
        told = 0
        for part in chunks(list(audience_enterprise_ids(round_))):
            users = contacts_of(part)
            notifications.notify(
                users=users, kind="appeals.evaluation_open",
                title=gettext_lazy("Rate the departments: %(title)s"),
                body=gettext_lazy("%(period)s: rate %(departments)s by %(closes_on)s."),
                params={"title": round_.title, "period": round_.period, "departments": names,
                        "closes_on": round_.closes_on.isoformat()},
                url=_url(round_), target=round_, organization_id=round_.organization_id,
            )  # fmt: skip
            told += len(users)
        return told


def close_round(round_id: int, today: datetime.date | None = None) -> bool:
    """Once a round has closed: keep its audience's size and tell staff and the departments that the results are
    in (once: the round is claimed first)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        round_ = EvaluationRound.objects.filter(pk=round_id, results_sent_at__isnull=True, closes_on__lt=today).first()
        if round_ is None:
            return False
        size = audience_enterprise_ids(round_).count()
        claimed = EvaluationRound.objects.filter(pk=round_id, results_sent_at__isnull=True).update(
            results_sent_at=timezone.now(), audience_size=size
        )
        if not claimed:
            return False
        department_ids = list(round_.departments.values_list("pk", flat=True))
        notifications.notify(
            users=[*managers_of(round_.organization), *liaisons_of(department_ids)], kind="appeals.evaluation_closed",
            title=gettext_lazy("The results of %(title)s are in"),
            body=gettext_lazy("%(period)s: %(answers)s answers from %(audience)s enterprises asked."),
            params={"title": round_.title, "period": round_.period, "answers": round_.answers.count(),
                    "audience": size},
            url=_url(round_, "appeals:evaluation_results"), target=round_, organization_id=round_.organization_id,
        )  # fmt: skip
        return True


def run_due(today: datetime.date | None = None) -> dict[str, int]:
    """Announce the rounds that opened and close those whose last day passed (daily; idempotent)."""
    today = today or timezone.localdate()
    counts = {"rounds_announced": 0, "rounds_closed": 0}
    opened = EvaluationRound.objects.filter(announced_at__isnull=True, opens_on__lte=today, closes_on__gte=today)
    for round_id in opened.values_list("pk", flat=True):
        counts["rounds_announced"] += announce_round(round_id, today) is not None
    for round_id in EvaluationRound.objects.filter(results_sent_at__isnull=True, closes_on__lt=today).values_list(
        "pk", flat=True
    ):
        counts["rounds_closed"] += close_round(round_id, today)
    return counts


# --- reads ------------------------------------------------------------------------------------------------------


def rounds_for(user: Any) -> QuerySet[EvaluationRound]:
    """The rounds the user sees, newest first."""
    return (
        EvaluationRound.objects.for_user(user, VIEW).select_related("organization")
        .prefetch_related("departments").order_by("-opens_on", "-id")
    )  # fmt: skip


def answering_enterprise(user: Any, round_: EvaluationRound) -> Enterprise | None:
    """The user's enterprise that answers the round (the first of theirs in its audience)."""
    for enterprise in Enterprise.objects.filter(pk__in=get_scope(user).own_enterprise_ids).order_by("pk"):
        if in_audience(round_, enterprise):
            return enterprise
    return None


def waiting_rounds(user: Any) -> list[dict[str, Any]]:
    """The open rounds the user's enterprise has departments left to rate in, soonest closing first."""
    scope = get_scope(user)
    if not scope.own_enterprise_ids:
        return []
    today = timezone.localdate()
    rounds = list(
        EvaluationRound.objects.for_user(user, RESPOND).filter(opens_on__lte=today, closes_on__gte=today)
        .prefetch_related("departments").order_by("closes_on", "pk")[:20]
    )  # fmt: skip
    answered = set(
        EvaluationAnswer.objects.filter(round__in=rounds, enterprise_id__in=scope.own_enterprise_ids)
        .values_list("round_id", "department_id")
    )  # fmt: skip
    waiting = []
    for round_ in rounds:
        left = [department for department in round_.departments.all() if (round_.pk, department.pk) not in answered]
        if left:
            waiting.append({"round": round_, "left": left})
    return waiting


def closed_rounds_between(user: Any, start: datetime.date, end: datetime.date) -> QuerySet[EvaluationRound]:
    """Rounds the user sees that closed in a period (the league table links their results)."""
    today = timezone.localdate()
    return rounds_for(user).filter(closes_on__gte=start, closes_on__lte=end, closes_on__lt=today)


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def results(user: Any, round_: EvaluationRound) -> dict[str, Any]:
    """Per department: the average of each question, the answers and the response rate among the audience, and the
    comments. The running organisation's staff see every department with the enterprises' names; a department's
    liaisons see their own once the round has closed, without the names."""
    names = can(user, CHANGE, round_)
    departments = list(round_.departments.order_by("code"))
    if not names:
        own = get_scope(user).department_ids
        departments = [department for department in departments if department.pk in own]
        if not departments:
            raise NotAllowedError(_("Only the organisation's staff and the departments evaluated see the results."))
        if round_.state != EvaluationRound.State.CLOSED:
            raise NotAllowedError(_("The results are shown once the evaluation closes on %(date)s.")
                                  % {"date": round_.closes_on.isoformat()})  # fmt: skip
    questions = round_.questions()
    answers = EvaluationAnswer.objects.filter(round=round_, department__in=departments)
    measures = {key: Avg(key) for key in EVALUATION_QUESTIONS}
    grouped = answers.values("department_id").annotate(responses=Count("pk"), **measures).order_by()
    by_department: dict[int, dict[str, Any]] = {row["department_id"]: dict(row) for row in grouped}
    audience = audience_count(round_)
    comments: dict[int, list[dict[str, Any]]] = {}
    # The newest COMMENTS_SHOWN of each department, chosen by the database (a round may have thousands).
    newest = Window(RowNumber(), partition_by=[F("department_id")], order_by=[F("updated_at").desc(), F("pk").desc()])
    listed = (
        answers.exclude(comment="").annotate(rank=newest).filter(rank__lte=COMMENTS_SHOWN)
        .order_by("department_id", "-updated_at", "-pk")
    )  # fmt: skip
    for answer in listed.select_related("enterprise") if names else listed:
        comments.setdefault(answer.department_id, []).append({
            "text": answer.comment, "overall": answer.overall, "enterprise": answer.enterprise.name if names else None,
        })  # fmt: skip
    rows = []
    for department in departments:
        row: dict[str, Any] = by_department.get(department.pk, {})
        responses = int(row.get("responses") or 0)
        averages = [(label, round(row[key], 2) if row.get(key) is not None else None) for key, label in questions]
        rows.append({"department": department, "responses": responses, "response_rate": _rate(responses, audience),
                     "averages": averages, "overall": averages[-1][1],
                     "comments": comments.get(department.pk, [])})  # fmt: skip
    respondents = answers.values("enterprise_id").distinct().count()
    return {"round": round_, "questions": questions, "rows": rows, "audience": audience, "respondents": respondents,
            "response_rate": _rate(respondents, audience), "names": names}  # fmt: skip


__all__ = [
    "announce_round", "answer_round", "audience_count", "close_round", "closed_rounds_between", "create_round",
    "results", "rounds_for", "run_due", "update_round", "waiting_rounds",
]  # fmt: skip
