"""Appeals (诉求): an enterprise's difficulty, collected by an organisation, routed to a liaison department with a
deadline in working days, answered, rated by the enterprise and closed; every step in a typed timeline."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiaoliang.core.models import StatusChange
from qiaoliang.core.permissions import ScopedQuerySet
from qiaoliang.core.text import compact_text, name_grams
from qiaoliang.core.uploads import random_name
from qiaoliang.orgs.models import Department, Enterprise, Organization


class AppealCategory(models.Model):
    """One class of appeal (融资, 用地, 审批…), with the department that usually answers it."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("appeal category")
        verbose_name_plural = _("appeal categories")

    def __str__(self) -> str:
        return self.name


STATISTICS_COLUMNS = ["id", "organization", "enterprise", "department", "category", "status", "answered_at",
                      "answered_on_time", "satisfaction", "solved", "deadline", "rating"]  # fmt: skip


def title_grams_of(title: str) -> str:
    return " ".join(name_grams(compact_text(title)[:120]))


class Appeal(models.Model):
    """One appeal of one enterprise, from intake to closing."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for information")
        ACCEPTED = "accepted", pgettext_lazy("appeal", "Accepted")
        ASSIGNED = "assigned", _("Assigned to a department")
        ANSWERED = "answered", _("Answered")
        CONFIRMED = "confirmed", _("Confirmed by the enterprise")
        CLOSED = "closed", pgettext_lazy("appeal", "Closed")
        WITHDRAWN = "withdrawn", pgettext_lazy("appeal", "Withdrawn")
        MERGED = "merged", _("Merged")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("Normal")
        URGENT = "urgent", _("Urgent")
        CRITICAL = "critical", _("Critical")

    class Source(models.TextChoices):
        ONLINE = "online", _("Submitted online")
        VISIT = "visit", _("Visit")
        SYMPOSIUM = "symposium", _("Symposium")
        EVENT = "event", _("Event")
        HOTLINE = "hotline", _("Hotline call")
        IMPORT = "import", _("Import")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        UNSATISFIED = "unsatisfied", _("Not satisfied")

    number = models.CharField(_("number"), max_length=20, unique=True)
    enterprise = models.ForeignKey(Enterprise, models.PROTECT, related_name="appeals", verbose_name=_("enterprise"))
    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="appeals", verbose_name=_("organisation"),
        help_text=_("The organisation that collected the appeal and follows it up."),
    )  # fmt: skip
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=5000)
    # The title's characters and character pairs (core.text.name_grams), indexed (FTS5 on SQLite, GIN on
    # PostgreSQL) so a word of the title is found without reading every title.
    title_grams = models.TextField(editable=False, default="", blank=True)
    category = models.ForeignKey(
        AppealCategory, models.PROTECT, null=True, blank=True, related_name="appeals", verbose_name=_("category")
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ONLINE)
    shareable = models.BooleanField(
        _("may be shared anonymously"), default=False,
        help_text=_("The appeal may be quoted, without the enterprise's name, in reports on common problems."),
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    department = models.ForeignKey(
        Department, models.PROTECT, null=True, blank=True, related_name="appeals", verbose_name=_("department")
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    working_days = models.PositiveSmallIntegerField(_("working days to answer"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True, max_length=5000)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_on_time = models.BooleanField(_("answered on time"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("answered by"),
    )  # fmt: skip
    satisfaction = models.CharField(_("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating of the department"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    feedback = models.CharField(_("enterprise's comment"), max_length=500, blank=True)
    solved = models.BooleanField(_("solved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="merged", verbose_name=_("merged into")
    )
    visit = models.ForeignKey(
        "Visit", models.SET_NULL, null=True, blank=True, related_name="appeals", verbose_name=_("raised at the visit")
    )
    # The classifier's suggestion at intake, kept to measure it against what staff confirmed.
    suggested_category = models.ForeignKey(
        AppealCategory, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("suggested category")
    )
    suggested_department = models.ForeignKey(
        Department, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("suggested department")
    )
    routing_confirmed = models.BooleanField(_("routing confirmed by staff"), default=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=pgettext_lazy("appeal", "recorded by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Optimistic lock: a form carries the version it was drawn from; a write from an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ScopedQuerySet["Appeal"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="appeals_org_created_idx"),
            models.Index(fields=["enterprise", "-created_at"], name="appeals_enterprise_idx"),
            models.Index(fields=["department", "status", "deadline"], name="appeals_dept_status_idx"),
            models.Index(fields=["status", "deadline"], name="appeals_status_deadline_idx"),
            models.Index(fields=["category", "-created_at"], name="appeals_category_idx"),
            # The statistics scan a period: on PostgreSQL an index-only scan of this index, the counted columns
            # included (SQLite ignores `include`).
            models.Index(fields=["-created_at"], include=STATISTICS_COLUMNS, name="appeals_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.title_grams = title_grams_of(self.title)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "title" in update_fields:
            kwargs["update_fields"] = {*update_fields, "title_grams"}
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.CLOSED, self.Status.WITHDRAWN, self.Status.MERGED)


class AppealEvent(StatusChange):
    """One step of an appeal's timeline: a status move or another event (reassigned, extension, reminder…)."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        REASSIGNED = "reassigned", _("Reassigned")
        EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
        EXTENSION_APPROVED = "extension_approved", _("Extension approved")
        EXTENSION_REFUSED = "extension_refused", _("Extension refused")
        REMINDED = "reminded", _("Reminder sent")
        ESCALATED = "escalated", _("Escalated (督办)")
        ROUTING = "routing", _("Category confirmed")
        COMMENT = "comment", _("Note")

    appeal = models.ForeignKey(Appeal, models.CASCADE, related_name="events", verbose_name=_("appeal"))
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices, default=Kind.STATUS)
    # Internal notes (the staff's routing) are not shown to the enterprise.
    internal = models.BooleanField(_("internal"), default=False)

    status_choices = Appeal.Status.choices

    class Meta(StatusChange.Meta):
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        indexes = [models.Index(fields=["appeal", "created_at"], name="appeals_event_idx")]


class ExtensionRequest(models.Model):
    """A department's request for more working days, decided by the organisation's staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", pgettext_lazy("extension", "Refused")

    appeal = models.ForeignKey(Appeal, models.CASCADE, related_name="extensions", verbose_name=_("appeal"))
    days = models.PositiveSmallIntegerField(
        _("more working days"), validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet["ExtensionRequest"].as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"], condition=models.Q(status="pending"), name="appeals_one_pending_extension"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}: +{self.days}"


def attachment_path(instance: object, filename: str) -> str:
    """Store an appeal's attachment under a random name (never the uploader's)."""
    return random_name("appeals", filename)


class AppealAttachment(models.Model):
    """A file sent with an appeal (a contract, a notice, a photo), checked against its type before it is kept."""

    appeal = models.ForeignKey(Appeal, models.CASCADE, related_name="attachments", verbose_name=_("appeal"))
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("appeal attachment")
        verbose_name_plural = _("appeal attachments")

    def __str__(self) -> str:
        return self.name


class RoutingModel(models.Model):
    """A trained routing classifier (category or department), kept in the database so every app server reads the
    same one; the newest of each kind answers."""

    class Kind(models.TextChoices):
        CATEGORY = "category", _("Category")
        DEPARTMENT = "department", _("Department")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    data = models.BinaryField(_("model"))
    rows = models.PositiveIntegerField(_("training rows"), default=0)
    labels = models.JSONField(_("labels"), default=list)
    trained_at = models.DateTimeField(_("trained at"), auto_now_add=True)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = _("routing model")
        verbose_name_plural = _("routing models")
        indexes = [models.Index(fields=["kind", "-trained_at"], name="appeals_routing_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.trained_at:%Y-%m-%d %H:%M}"


class ProblemReport(models.Model):
    """A report on common problems (共性问题报告) curated by staff from clusters of appeals, with suggestions."""

    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="problem_reports", verbose_name=_("organisation")
    )
    title = models.CharField(_("title"), max_length=120)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    introduction = models.TextField(_("introduction"), blank=True, max_length=3000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["ProblemReport"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("common-problem report")
        verbose_name_plural = _("common-problem reports")

    def __str__(self) -> str:
        return self.title


class ReportProblem(models.Model):
    """One common problem of a report: a topic, how many appeals raised it, a few of them as examples."""

    report = models.ForeignKey(ProblemReport, models.CASCADE, related_name="problems", verbose_name=_("report"))
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(_("problem"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=3000)
    appeal_count = models.PositiveIntegerField(_("appeals"), default=0)
    appeals = models.ManyToManyField(Appeal, related_name="+", blank=True, verbose_name=_("example appeals"))

    class Meta:
        ordering = ["report", "position", "id"]
        verbose_name = _("common problem")
        verbose_name_plural = _("common problems")

    def __str__(self) -> str:
        return self.title


class Suggestion(models.Model):
    """A suggestion (意见建议) of a report and what became of it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ADOPTED = "adopted", _("Adopted")
        INSTRUCTED = "instructed", _("Leader's instruction (批示)")
        POLICY = "policy", _("Policy issued")
        NOT_ADOPTED = "not_adopted", _("Not adopted")

    problem = models.ForeignKey(ReportProblem, models.CASCADE, related_name="suggestions", verbose_name=_("problem"))
    text = models.TextField(_("suggestion"), max_length=2000)
    status = models.CharField(_("outcome"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    outcome_note = models.CharField(_("outcome note"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["problem", "id"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")

    def __str__(self) -> str:
        return self.text[:40]


class Visit(models.Model):
    """A visit to an enterprise (走访调研): planned, then recorded with its findings; appeals raised at it link back."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", pgettext_lazy("visit", "Cancelled")

    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="visits", verbose_name=_("organisation")
    )
    enterprise = models.ForeignKey(Enterprise, models.PROTECT, related_name="visits", verbose_name=_("enterprise"))
    visit_on = models.DateField(_("date"))
    visitors = models.CharField(_("visitors"), max_length=200, help_text=_("Who visits (names and posts)."))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    findings = models.TextField(_("findings"), blank=True, max_length=5000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Visit"].as_manager()

    class Meta:
        ordering = ["-visit_on", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["organization", "-visit_on"], name="appeals_visit_org_idx")]

    def __str__(self) -> str:
        return f"{self.visit_on} {self.enterprise}"


# The questions of a periodic evaluation (评议), each scored 1–5; their labels are the round's (staff may word them).
EVALUATION_QUESTIONS = ("speed", "quality", "attitude", "implementation", "overall")
DEFAULT_QUESTION_LABELS = {"speed": "响应速度", "quality": "办理质量", "attitude": "服务态度",
                           "implementation": "政策落实", "overall": "总体满意度"}  # fmt: skip


class EvaluationRound(models.Model):
    """A periodic evaluation of liaison departments (民营企业评议政府部门) by the member enterprises of an audience:
    a period, the departments evaluated, the questions, open from one date to another (closed by the date)."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        OPEN = "open", pgettext_lazy("evaluation", "Open")
        CLOSED = "closed", pgettext_lazy("evaluation", "Closed")

    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="evaluation_rounds", verbose_name=_("organisation"),
        help_text=_("The organisation that runs the evaluation."),
    )  # fmt: skip
    title = models.CharField(_("title"), max_length=120)
    period = models.CharField(_("period"), max_length=40, help_text=_("e.g. 2026年第四季度"))
    departments = models.ManyToManyField(Department, related_name="evaluation_rounds", verbose_name=_("departments"))
    # The members of these organisations and of the organisations under them are asked (at least one).
    audience = models.ManyToManyField(Organization, related_name="+", verbose_name=_("audience"))
    question_labels = models.JSONField(_("questions"), default=dict)
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"), help_text=_("The last day answers are taken."))
    announced_at = models.DateTimeField(_("announced at"), null=True, blank=True)
    results_sent_at = models.DateTimeField(_("results announced at"), null=True, blank=True)
    # The audience's size when the round closed (while it is open, counted from the memberships).
    audience_size = models.PositiveIntegerField(_("audience"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["EvaluationRound"].as_manager()

    class Meta:
        ordering = ["-opens_on", "-id"]
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        indexes = [
            models.Index(fields=["organization", "-opens_on"], name="appeals_round_org_idx"),
            models.Index(fields=["closes_on", "opens_on"], name="appeals_round_dates_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_on__gte=models.F("opens_on")),
                                   name="appeals_round_closes_after_opening"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.title

    def state_on(self, day: datetime.date) -> str:
        if day < self.opens_on:
            return self.State.SCHEDULED
        return self.State.OPEN if day <= self.closes_on else self.State.CLOSED

    @property
    def state(self) -> str:
        return self.state_on(timezone.localdate())

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    def get_state_display(self) -> str:
        return str(dict(self.State.choices)[self.state])

    def questions(self) -> list[tuple[str, str]]:
        """Return (key, label) of the round's questions, in order."""
        labels = self.question_labels or {}
        return [(key, str(labels.get(key) or DEFAULT_QUESTION_LABELS[key])) for key in EVALUATION_QUESTIONS]


def _score_field(label: Any) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(label, validators=[MinValueValidator(1), MaxValueValidator(5)])


class EvaluationAnswer(models.Model):
    """One enterprise's scores of one department in one round (one per round, department and enterprise; editable
    until the round closes). The department reads them without the enterprise's name."""

    round = models.ForeignKey(EvaluationRound, models.CASCADE, related_name="answers", verbose_name=_("round"))
    department = models.ForeignKey(Department, models.PROTECT, related_name="+", verbose_name=_("department"))
    enterprise = models.ForeignKey(Enterprise, models.PROTECT, related_name="+", verbose_name=_("enterprise"))
    speed = _score_field(_("response speed"))
    quality = _score_field(_("quality of handling"))
    attitude = _score_field(_("service attitude"))
    implementation = _score_field(_("policy implementation"))
    overall = _score_field(_("overall satisfaction"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["EvaluationAnswer"].as_manager()

    class Meta:
        ordering = ["round", "department", "-updated_at"]
        verbose_name = _("evaluation answer")
        verbose_name_plural = _("evaluation answers")
        constraints = [
            models.UniqueConstraint(fields=["round", "department", "enterprise"], name="appeals_one_answer_per_round"),
            *[
                models.CheckConstraint(condition=models.Q(**{f"{key}__gte": 1, f"{key}__lte": 5}),
                                       name=f"appeals_answer_{key}_1_to_5")
                for key in EVALUATION_QUESTIONS
            ],
        ]  # fmt: skip
        indexes = [models.Index(fields=["enterprise", "round"], name="appeals_answer_enterprise_idx")]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.department_id}/{self.enterprise_id}"
