"""Policies (惠企政策): documents split into typed clauses, support items with versioned eligibility rules,
enterprise facts and honours, computed decisions, pushes, 免申即享 cases and questions answered on time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiaoliang.core.models import StatusChange
from qiaoliang.core.permissions import ScopedQuerySet
from qiaoliang.core.uploads import random_name
from qiaoliang.orgs.models import Department, Enterprise, Organization


def attachment_path(_instance: object, filename: str) -> str:
    return random_name("policies", filename)


def evidence_path(_instance: object, filename: str) -> str:
    return random_name("policy-evidence", filename)


CLAUSE_TYPES = [
    ("政策内容-资金支持", "资金支持"), ("政策内容-税收优惠", "税收优惠"), ("政策内容-金融支持", "金融支持"),
    ("政策内容-人才培养", "人才培养"), ("政策内容-公共服务", "公共服务"), ("政策内容-目标规划", "目标规划"),
    ("政策内容-技术支持", "技术支持"), ("政策内容-组织建设", "组织建设"), ("政策内容-法规管制", "法规管制"),
    ("政策内容-政策宣传", "政策宣传"), ("政策内容-海外合作", "海外合作"), ("政策内容-公私合作", "公私合作"),
    ("政策内容-政府采购", "政府采购"), ("政策目标", "政策目标"), ("申请审核程序", "申请审核程序"),
    ("资金管理-管理原则", "资金管理原则"), ("资金管理-资金来源", "资金来源"), ("监管评估-监督管理", "监督管理"),
    ("监管评估-考核评估", "考核评估"), ("", "其他"),
]  # fmt: skip


class Policy(models.Model):
    """One policy document in an organisation's library."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCIAL = "provincial", _("Provincial")
        MUNICIPAL = "municipal", _("Municipal")
        COUNTY = "county", _("District or county")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", pgettext_lazy("policy", "Withdrawn")

    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="policies", verbose_name=_("organisation"),
        help_text=_("The organisation whose library holds the policy and pushes it to its members."),
    )  # fmt: skip
    title = models.CharField(_("title"), max_length=200)
    issuer = models.CharField(_("issuing body"), max_length=200, blank=True)
    department = models.ForeignKey(
        Department, models.SET_NULL, null=True, blank=True, related_name="policies",
        verbose_name=_("answering department"),
        help_text=_("The liaison department that answers questions on this policy."),
    )  # fmt: skip
    document_number = models.CharField(_("document number"), max_length=80, blank=True)
    level = models.CharField(_("level"), max_length=12, choices=Level.choices, default=Level.MUNICIPAL)
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    source_url = models.URLField(_("source link"), blank=True, max_length=500)
    summary = models.TextField(_("summary"), blank=True, max_length=2000)
    full_text = models.TextField(_("full text"), blank=True, max_length=200_000)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    search_text = models.TextField(editable=False, default="")  # title, issuer, number folded for search
    events = models.ManyToManyField(
        "events.Event", blank=True, related_name="interpreted_policies", verbose_name=_("interpretation events")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet["Policy"].as_manager()

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        indexes = [
            models.Index(fields=["status", "-issued_on", "-id"], name="policies_status_idx"),
            models.Index(fields=["organization", "status", "-issued_on"], name="policies_org_idx"),
            models.Index(fields=["level", "-issued_on"], name="policies_level_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class PolicyStatusChange(StatusChange):
    policy = models.ForeignKey(Policy, models.CASCADE, related_name="history")
    # A withdrawal is told in the background, in chunks of enterprises by id: the last one told, and when all were.
    told_through = models.BigIntegerField(_("told up to enterprise"), null=True, blank=True)
    told_at = models.DateTimeField(_("told at"), null=True, blank=True)
    status_choices = Policy.Status.choices

    class Meta(StatusChange.Meta):
        indexes = [models.Index(fields=["to_status", "told_at", "created_at"], name="policies_psc_untold")]


class PolicyAttachment(models.Model):
    policy = models.ForeignKey(Policy, models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size"), default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Clause(models.Model):
    """One sentence or numbered item of a policy, with its type (资金支持, 申请审核程序 …)."""

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="clauses")
    position = models.PositiveIntegerField(_("position"))
    number = models.CharField(_("number"), max_length=20, blank=True)
    text = models.TextField(_("text"), max_length=5000)
    clause_type = models.CharField(_("type"), max_length=20, blank=True, choices=CLAUSE_TYPES)
    type_confirmed = models.BooleanField(_("type confirmed by staff"), default=False)
    is_heading = models.BooleanField(_("heading"), default=False)

    class Meta:
        ordering = ["policy", "position"]
        constraints = [models.UniqueConstraint(fields=["policy", "position"], name="policies_clause_position_uniq")]

    def __str__(self) -> str:
        return self.text[:60]


class SupportItem(models.Model):
    """支持事项: what a policy gives, to whom (its rule), how to apply and when."""

    class Delivery(models.TextChoices):
        APPLY = "apply", _("On application")
        AUTOMATIC = "automatic", _("Without application (免申即享)")

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="items", verbose_name=_("policy"))
    name = models.CharField(_("name"), max_length=200)
    benefit = models.TextField(_("what is given"), max_length=2000)
    max_amount = models.DecimalField(_("maximum amount (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    how_to_apply = models.TextField(_("how to apply"), blank=True, max_length=2000)
    window_opens = models.DateField(_("application window opens"), null=True, blank=True)
    window_closes = models.DateField(_("application window closes"), null=True, blank=True)
    contact_department = models.ForeignKey(
        Department, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("contact department")
    )
    contact = models.CharField(_("contact"), max_length=120, blank=True)
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices, default=Delivery.APPLY)
    clause = models.ForeignKey(
        Clause, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("source clause")
    )
    position = models.PositiveIntegerField(default=0)
    # Counts of the last computation over all enterprises (eligible rows are in Eligibility).
    eligible_count = models.PositiveIntegerField(default=0, editable=False)
    needs_data_count = models.PositiveIntegerField(default=0, editable=False)
    near_miss_count = models.PositiveIntegerField(default=0, editable=False)
    computed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ScopedQuerySet["SupportItem"].as_manager()

    class Meta:
        ordering = ["policy", "position", "id"]
        verbose_name = _("support item")
        verbose_name_plural = _("support items")

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    """One version of a support item's eligibility rule (AND of OR groups of typed conditions, `rules.py`)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("In force")
        SUPERSEDED = "superseded", _("Superseded")

    item = models.ForeignKey(SupportItem, models.CASCADE, related_name="rules", verbose_name=_("support item"))
    version = models.PositiveIntegerField(_("version"), default=1)
    expression = models.JSONField(_("expression"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("superseded by")
    )
    clause = models.ForeignKey(
        Clause, models.SET_NULL, null=True, blank=True, related_name="rules", verbose_name=_("source clause")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet["Rule"].as_manager()

    class Meta:
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="policies_rule_version_uniq"),
            models.UniqueConstraint(fields=["item"], condition=models.Q(status="active"),
                                    name="policies_rule_one_active"),
        ]  # fmt: skip
        indexes = [models.Index(fields=["status", "item"], name="policies_rule_status_idx")]

    def __str__(self) -> str:
        return f"{self.item} v{self.version}"


class RuleTestCase(models.Model):
    """Facts and the decision a rule must give for them: run whenever the rule changes, and in CI."""

    rule = models.ForeignKey(Rule, models.CASCADE, related_name="test_cases")
    name = models.CharField(_("name"), max_length=120)
    facts = models.JSONField(_("facts"))
    expected = models.CharField(_("expected decision"), max_length=12)
    expected_missing = models.JSONField(_("expected missing fields"), default=list, blank=True)
    as_of = models.DateField(_("reference day"), null=True, blank=True,
                             help_text=_("The day the case is answered on (上年度 is the year before it); "
                                         "the day it was written."))  # fmt: skip

    class Meta:
        ordering = ["rule", "id"]

    def __str__(self) -> str:
        return self.name


class NamedThreshold(models.Model):
    """规模以上工业企业, 限额以上批发业 …: a name used in rules, defined as an expression over facts."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    aliases = models.CharField(_("aliases"), max_length=300, blank=True, help_text=_("Separated by |."))
    expression = models.JSONField(_("expression"))
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class EnterpriseFact(models.Model):
    """One figure of an enterprise (per year where it changes) or one declaration, with its review status."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Not reviewed")
        REVIEWED = "reviewed", _("Reviewed")
        REJECTED = "rejected", pgettext_lazy("fact", "Rejected")

    class Origin(models.TextChoices):
        ENTERPRISE = "enterprise", _("Entered by the enterprise")
        STAFF = "staff", _("Entered by staff")
        IMPORT = "import", _("Imported")

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="policy_facts")
    field = models.CharField(_("field"), max_length=20)
    key = models.CharField(_("declaration"), max_length=120, blank=True, default="")
    year = models.PositiveSmallIntegerField(_("year"), default=0, help_text=_("0 for a figure without a year."))
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=2)
    entered_text = models.CharField(_("as entered"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.ENTERPRISE)
    evidence = models.FileField(_("evidence"), upload_to=evidence_path, max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("entered by")
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("reviewed by"),
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet["EnterpriseFact"].as_manager()

    class Meta:
        ordering = ["enterprise", "field", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "field", "key", "year"], name="policies_fact_uniq")
        ]
        indexes = [models.Index(fields=["status", "updated_at"], name="policies_fact_status_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.field} {self.year or ''}"


class EnterpriseHonour(models.Model):
    """An honour or qualification an enterprise holds (a code of the vocabulary), with its evidence."""

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="policy_honours")
    code = models.CharField(_("honour"), max_length=60)
    name = models.CharField(_("as written"), max_length=120, blank=True)
    issuer = models.CharField(_("issuing body"), max_length=120, blank=True)
    certificate_number = models.CharField(_("certificate number"), max_length=60, blank=True)
    awarded_on = models.DateField(_("awarded on"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    certificate = models.FileField(_("certificate"), upload_to=evidence_path, max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EnterpriseFact.Status.choices, default=EnterpriseFact.Status.SUBMITTED
    )
    origin = models.CharField(
        _("origin"), max_length=10, choices=EnterpriseFact.Origin.choices, default=EnterpriseFact.Origin.ENTERPRISE
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("reviewed by"),
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet["EnterpriseHonour"].as_manager()

    class Meta:
        ordering = ["enterprise", "code"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "code"], name="policies_honour_uniq")]
        indexes = [models.Index(fields=["status", "updated_at"], name="policies_honour_status_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.code}"


class Eligibility(models.Model):
    """An enterprise eligible for an item, as last computed (the list staff confirm, push and count).

    Every other pair (not eligible, one condition short, needs data) is answered live in the enterprise's
    政策体检; their counts per item are on SupportItem. The reasons of an eligible pair are computed when shown.
    """

    item = models.ForeignKey(SupportItem, models.CASCADE, related_name="eligibilities")
    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="policy_eligibilities")
    rule = models.ForeignKey(Rule, models.CASCADE, related_name="+")
    computed_at = models.DateTimeField()

    objects = ScopedQuerySet["Eligibility"].as_manager()

    class Meta:
        ordering = ["item", "enterprise"]
        constraints = [models.UniqueConstraint(fields=["item", "enterprise"], name="policies_eligibility_uniq")]
        indexes = [models.Index(fields=["enterprise", "item"], name="policies_elig_ent_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} → {self.item_id}"


class Push(models.Model):
    """One notification of an item to an enterprise (at most one per pair), counted in the statistics."""

    item = models.ForeignKey(SupportItem, models.CASCADE, related_name="pushes")
    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="policy_pushes")
    organization = models.ForeignKey(Organization, models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)  # the enterprise opened its check-up after it
    run = models.UUIDField(null=True, blank=True, editable=False)  # the push_item call that inserted it

    objects = ScopedQuerySet["Push"].as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "enterprise"], name="policies_push_uniq")]
        indexes = [
            models.Index(fields=["organization", "sent_at"], name="policies_push_org_idx"),
            models.Index(fields=["enterprise", "opened_at"], name="policies_push_ent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} → {self.enterprise_id}"


class AutoGrantCase(models.Model):
    """免申即享: the data says an enterprise qualifies; staff confirm, the enterprise confirms intent, paid."""

    class Status(models.TextChoices):
        LISTED = "listed", _("Listed by the data")
        CONFIRMED = "confirmed", _("Confirmed by staff")
        ACCEPTED = "accepted", _("Intent confirmed by the enterprise")
        DECLINED = "declined", _("Declined by the enterprise")
        PAID = "paid", _("Paid")
        EXCLUDED = "excluded", _("Excluded by staff")

    item = models.ForeignKey(SupportItem, models.CASCADE, related_name="cases")
    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="policy_cases")
    organization = models.ForeignKey(Organization, models.PROTECT, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.LISTED)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    bank_account_note = models.CharField(_("account for payment"), max_length=120, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["AutoGrantCase"].as_manager()

    class Meta:
        ordering = ["item", "id"]
        constraints = [models.UniqueConstraint(fields=["item", "enterprise"], name="policies_case_uniq")]
        indexes = [
            models.Index(fields=["item", "status"], name="policies_case_item_idx"),
            models.Index(fields=["enterprise", "status"], name="policies_case_ent_idx"),
            models.Index(fields=["organization", "updated_at"], name="policies_case_org_idx"),  # statistics
        ]

    def __str__(self) -> str:
        return f"{self.item_id} · {self.enterprise_id} · {self.status}"


class AutoGrantCaseStatusChange(StatusChange):
    case = models.ForeignKey(AutoGrantCase, models.CASCADE, related_name="history")
    status_choices = AutoGrantCase.Status.choices


class PolicyQuestion(models.Model):
    """An enterprise's question on a policy, answered within 1 (simple) or 3 (complex) working days."""

    class Complexity(models.TextChoices):
        SIMPLE = "simple", _("Simple (1 working day)")
        COMPLEX = "complex", _("Complex (3 working days)")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ANSWERED = "answered", _("Answered")

    policy = models.ForeignKey(Policy, models.CASCADE, related_name="questions", verbose_name=_("policy"))
    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="policy_questions", null=True, blank=True)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    question = models.TextField(_("question"), max_length=2000)
    complexity = models.CharField(_("complexity"), max_length=8, choices=Complexity.choices,
                                  default=Complexity.SIMPLE)  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    deadline = models.DateField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True, max_length=5000)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_on_time = models.BooleanField(null=True, blank=True)
    in_faq = models.BooleanField(_("shown in the FAQ"), default=False)
    search_text = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)

    objects = ScopedQuerySet["PolicyQuestion"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["policy", "status"], name="policies_q_policy_idx"),
            models.Index(fields=["status", "deadline"], name="policies_q_due_idx"),
            models.Index(fields=["in_faq", "-answered_at"], name="policies_q_faq_idx"),
            models.Index(fields=["enterprise", "-created_at"], name="policies_q_ent_idx"),
        ]

    def __str__(self) -> str:
        return self.question[:60]


class ConditionCorrection(models.Model):
    """What staff did with a proposed condition: kept as training data for the extractor."""

    class Action(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        CORRECTED = "corrected", _("Corrected")
        REJECTED = "rejected", _("Rejected")
        ADDED = "added", _("Added by staff")

    # kept when the policy's text is split again (the clause goes, the sentence still teaches the extractor)
    clause = models.ForeignKey(Clause, models.SET_NULL, null=True, blank=True, related_name="corrections")
    sentence = models.TextField(max_length=5000)
    action = models.CharField(max_length=10, choices=Action.choices)
    entry_type = models.CharField(max_length=20, blank=True)
    var = models.CharField(max_length=40, blank=True)
    relation = models.CharField(max_length=10, blank=True)
    field = models.CharField(max_length=200, blank=True)
    proposed = models.JSONField(default=dict, blank=True)
    batch = models.UUIDField(null=True, blank=True, editable=False)  # one review of a clause: its rows share it
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.field}"
