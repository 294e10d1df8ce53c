"""Common-problem reports (共性问题报告): topics found among an organisation's recent appeals, curated by staff into
a report with suggestions (意见建议), exported as a Word document in the official style, and each suggestion's
outcome tracked (adopted, leader's instruction 批示, policy issued)."""

from __future__ import annotations

import datetime
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from qiaoliang.accounts.models import User
from qiaoliang.appeals import clustering
from qiaoliang.appeals.models import Appeal, ProblemReport, ReportProblem, Suggestion
from qiaoliang.core import audit
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.permissions import CHANGE, require
from qiaoliang.orgs.models import Organization
from qiaoliang.orgs.selectors import get_scope

MAX_CLUSTERED = 3_000  # the newest appeals of the period clustered for a page
TOPICS_CACHE_SECONDS = 24 * 3600  # a result stays valid while its appeals do not change (the key says so)
TOPICS_QUEUED_SECONDS = 300
CHINESE_NUMBERS = "一二三四五六七八九十"


@dataclass
class Topic:
    """A cluster shown to staff: its label, its size and its most typical appeals."""

    number: int
    label: str
    size: int
    appeals: list[Appeal]
    member_ids: list[int]


def _period_appeals(user: Any, start: datetime.date, end: datetime.date) -> Any:
    return (
        Appeal.objects.for_user(user, CHANGE)
        .filter(created_at__date__gte=start, created_at__date__lte=end)
        .exclude(status=Appeal.Status.MERGED)
    )


def _cluster(user: Any, start: datetime.date, end: datetime.date, min_size: int) -> dict[str, Any]:
    """The topics as plain data (labels, sizes, appeal ids): what the cache keeps."""
    rows = list(
        _period_appeals(user, start, end)
        .order_by("-created_at")
        .values_list("pk", "title", "description")[:MAX_CLUSTERED]
    )
    found = clustering.cluster([f"{title}。{description}" for _pk, title, description in rows], min_size=min_size)
    return {
        "clustered": len(rows),
        "topics": [
            {"label": " / ".join(group.label), "size": group.size,
             "representatives": [rows[i][0] for i in group.representatives],
             "members": [rows[i][0] for i in group.members]}
            for group in found
        ],
    }  # fmt: skip


def _hydrate(user: Any, data: dict[str, Any]) -> tuple[list[Topic], int]:
    wanted = {pk for topic in data["topics"] for pk in topic["representatives"]}
    shown = Appeal.objects.for_user(user, CHANGE).filter(pk__in=wanted).select_related("enterprise")
    by_id = {appeal.pk: appeal for appeal in shown}
    result = [
        Topic(number=number, label=topic["label"], size=topic["size"],
              appeals=[by_id[pk] for pk in topic["representatives"] if pk in by_id], member_ids=topic["members"])
        for number, topic in enumerate(data["topics"], start=1)
    ]  # fmt: skip
    return result, data["clustered"]


def topics(user: Any, start: datetime.date, end: datetime.date, *, min_size: int = 3) -> tuple[list[Topic], int]:
    """Cluster the appeals the user manages received in the period (the newest MAX_CLUSTERED) now; return the
    topics and how many appeals were clustered."""
    return _hydrate(user, _cluster(user, start, end, min_size))


def topics_key(user: Any, start: datetime.date, end: datetime.date, min_size: int = 3) -> str:
    """The cache key of a period's topics for the appeals a user manages: the user's scope and the set of appeals
    (count, id sum, newest id), so it changes when an appeal is added or merged away, not at every handling step
    (which does not change the texts clustered)."""
    stamp = _period_appeals(user, start, end).aggregate(n=Count("pk"), total=Sum("pk"), top=Max("pk"))
    scope = get_scope(user)
    reach = "all" if scope.is_all else ",".join(str(pk) for pk in sorted(scope.change_org_ids))
    fingerprint = hashlib.sha256(reach.encode()).hexdigest()[:16]
    return f"appeals:topics:v2:{fingerprint}:{start}:{end}:{min_size}:{stamp['n']}:{stamp['total']}:{stamp['top']}"


def cached_topics(user: Any, start: datetime.date, end: datetime.date, *, min_size: int = 3
                  ) -> tuple[list[Topic], int] | None:  # fmt: skip
    """The period's topics if a background run computed them for this set of appeals; else None and a run is
    queued (once: a second request while it runs queues nothing)."""
    key = topics_key(user, start, end, min_size)
    data = cache.get(key)
    if data is not None:
        return _hydrate(user, data)
    if cache.add(f"{key}:queued", 1, timeout=TOPICS_QUEUED_SECONDS):
        enqueue_on_commit("appeals.cluster_topics", user.pk, start.isoformat(), end.isoformat(), min_size)
    data = cache.get(key)  # the in-process backend (tests, the demo) has run it already
    return _hydrate(user, data) if data is not None else None


def compute_topics(user_id: int, start: datetime.date, end: datetime.date, min_size: int = 3) -> int:
    """Cluster a period's appeals for a user's scope and keep the result under its key; return the topic count."""
    user = User.objects.get(pk=user_id)
    key = topics_key(user, start, end, min_size)
    data = _cluster(user, start, end, min_size)
    cache.set(key, data, timeout=TOPICS_CACHE_SECONDS)
    cache.delete(f"{key}:queued")
    return len(data["topics"])


def _managed_organization(user: Any) -> Organization:
    organization = Organization.objects.for_user(user, CHANGE).order_by("depth", "path").first()
    if organization is None:
        raise DomainError(_("You manage no organisation to report for."), code="organization")
    return organization


@transaction.atomic
def create_report(
    *, actor: Any, title: str, start: datetime.date, end: datetime.date, chosen: Sequence[Topic]
) -> ProblemReport:
    """Start a report from the topics staff chose: one problem per topic, its appeals as examples."""
    organization = _managed_organization(actor)
    require(actor, CHANGE, organization, _("You may not write reports for this organisation."))
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise DomainError(_("Give the report a title of at most 120 characters."), code="title")
    if not chosen:
        raise DomainError(_("Choose at least one topic."), code="topics")
    report = ProblemReport.objects.create(organization=organization, title=title, period_start=start,
                                          period_end=end, created_by=actor)  # fmt: skip
    for position, topic in enumerate(chosen):
        problem = ReportProblem.objects.create(report=report, position=position, title=topic.label[:120],
                                               appeal_count=topic.size)  # fmt: skip
        problem.appeals.set(topic.member_ids[:20])
    audit.record("appeals.report.created", actor=actor, target=report, organization_id=organization.pk,
                 data={"problems": len(chosen)})  # fmt: skip
    return report


@transaction.atomic
def update_problem(*, actor: Any, problem: ReportProblem, title: str, description: str) -> ReportProblem:
    require(actor, CHANGE, problem.report, _("You may not change this report."))
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise DomainError(_("Give the problem a title of at most 120 characters."), code="title")
    if len(description or "") > 3000:
        raise DomainError(_("At most %(max)d characters.") % {"max": 3000}, code="description")
    problem.title, problem.description = title, (description or "").strip()
    problem.save(update_fields=["title", "description"])
    return problem


@transaction.atomic
def add_suggestion(*, actor: Any, problem: ReportProblem, text: str) -> Suggestion:
    require(actor, CHANGE, problem.report, _("You may not change this report."))
    text = (text or "").strip()
    if not text or len(text) > 2000:
        raise DomainError(_("Write the suggestion (at most 2,000 characters)."), code="text")
    return Suggestion.objects.create(problem=problem, text=text)


@transaction.atomic
def record_outcome(*, actor: Any, suggestion: Suggestion, status: str, note: str = "") -> Suggestion:
    """Record what became of a suggestion (adopted, 批示, policy issued, not adopted)."""
    require(actor, CHANGE, suggestion.problem.report, _("You may not change this report."))
    if status not in Suggestion.Status.values:
        raise DomainError(_("Choose an outcome from the list."), code="status")
    if len(note or "") > 500:
        raise DomainError(_("At most %(max)d characters.") % {"max": 500}, code="note")
    suggestion.status, suggestion.outcome_note = status, (note or "").strip()
    suggestion.save(update_fields=["status", "outcome_note", "updated_at"])
    audit.record("appeals.suggestion.outcome", actor=actor, target=suggestion.problem.report,
                 organization_id=suggestion.problem.report.organization_id, data={"status": status})  # fmt: skip
    return suggestion


# --- the Word document ------------------------------------------------------------------------------------------


def _font(run: Any, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.rPr.rFonts.set(qn("w:eastAsia"), name)


def _paragraph(document: Any, text: str, *, font: str = "仿宋_GB2312", size: float = 16, bold: bool = False,
               align: Any = None, indent: bool = True) -> Any:  # fmt: skip
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    paragraph.paragraph_format.line_spacing = Pt(28)  # 固定值28磅, as official documents are set
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    _font(paragraph.add_run(text), font, size, bold)
    return paragraph


def export_docx(report: ProblemReport) -> bytes:
    """Return the report as a .docx in the official style (GB/T 9704: A4, 方正小标宋 title, 仿宋 body 三号,
    黑体 first-level and 楷体 second-level headings, 28-point lines)."""
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _paragraph(document, report.title, font="方正小标宋简体", size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(document, "", indent=False)
    count = sum(problem.appeal_count for problem in report.problems.all())
    intro = report.introduction or _(
        "From %(start)s to %(end)s, %(organization)s collected the difficulties its member enterprises raised. "
        "%(count)d of them fall into the %(problems)d common problems below; we report them with our suggestions."
    ) % {"start": f"{report.period_start:%Y年%-m月%-d日}", "end": f"{report.period_end:%Y年%-m月%-d日}",
         "organization": report.organization.name, "count": count, "problems": report.problems.count()}  # fmt: skip
    _paragraph(document, intro)
    for number, problem in enumerate(report.problems.prefetch_related("suggestions"), start=1):
        prefix = CHINESE_NUMBERS[number - 1] if number <= len(CHINESE_NUMBERS) else str(number)
        _paragraph(document, f"{prefix}、{problem.title}", font="黑体")
        body = problem.description or _("%(count)d appeals raised this problem.") % {"count": problem.appeal_count}
        _paragraph(document, body)
        suggestions = list(problem.suggestions.all())
        if suggestions:
            _paragraph(document, _("(Suggestions)"), font="楷体_GB2312")
            for index, suggestion in enumerate(suggestions, start=1):
                _paragraph(document, f"{index}. {suggestion.text}")
    _paragraph(document, "", indent=False)
    _paragraph(document, report.organization.name, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(document, f"{timezone.localdate():%Y年%-m月%-d日}", align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
