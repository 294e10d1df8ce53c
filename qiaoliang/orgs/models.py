"""Organisations and their members: the ground every other app stands on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiaoliang.core.codes import mask_mobile
from qiaoliang.core.models import FastChoiceDisplayMixin, StatusChange
from qiaoliang.core.permissions import ScopedQuerySet
from qiaoliang.core.text import enterprise_name_keys, name_grams
from qiaoliang.core.uploads import random_name

MAX_EMPLOYEES = 10_000_000  # the largest employers have a few million


class TimeStamped(FastChoiceDisplayMixin, models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Organization(TimeStamped):
    """Store a federation, district federation, chamber or association, placed in the tree."""

    class Kind(models.TextChoices):
        FEDERATION = "federation", _("Federation")
        DISTRICT_FEDERATION = "district_federation", _("District federation")
        CHAMBER = "chamber", _("Chamber of commerce")
        ASSOCIATION = "association", _("Association")

    class ChamberKind(models.TextChoices):
        NONE = "", _("—")
        INDUSTRY = "industry", _("Industry chamber")
        HOMETOWN = "hometown", _("Hometown chamber")
        STREET = "street", _("Street chamber")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    chamber_kind = models.CharField(_("chamber kind"), max_length=16, choices=ChamberKind.choices, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )
    # Materialised path of zero-padded ids ("000001/000004/") so a subtree is one indexed prefix query.
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    region = models.ForeignKey("core.Region", models.PROTECT, null=True, blank=True, verbose_name=_("region"))
    contact_name = models.CharField(_("contact person"), max_length=40, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    name_pinyin = models.CharField(max_length=255, editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet["Organization"].as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="chamber") | Q(chamber_kind=""), name="orgs_chamber_kind_only_for_chambers"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name

    def ancestor_ids(self) -> list[int]:
        """Return the ids on the path from the root to this organisation, itself included."""
        return [int(part) for part in self.path.strip("/").split("/") if part]


class Zone(TimeStamped):
    """Store a zone (片区): a group of organisations with convenors and a secretariat group."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    federation = models.ForeignKey(Organization, models.PROTECT, related_name="zones", verbose_name=_("federation"))
    organizations = models.ManyToManyField(
        Organization, related_name="member_of_zones", blank=True, verbose_name=_("organisations")
    )
    description = models.TextField(_("description"), blank=True)

    objects = ScopedQuerySet["Zone"].as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")

    def __str__(self) -> str:
        return self.name


class Department(TimeStamped):
    """Store a government liaison department (直联部门) that answers appeals."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=40, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ScopedQuerySet["Department"].as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("liaison department")
        verbose_name_plural = _("liaison departments")

    def __str__(self) -> str:
        return self.name


class Partnership(TimeStamped):
    """Store an agreement between an organisation and a partner city, chamber, company or bank."""

    class Kind(models.TextChoices):
        PARTNER_CITY = "partner_city", _("Partner city")
        OVERSEAS_CHAMBER = "overseas_chamber", _("Overseas friendly chamber")
        STRATEGIC_PARTNER = "strategic_partner", _("Strategic partner")
        BANK = "bank", _("Bank")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        ENDED = "ended", _("Ended")

    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="partnerships", verbose_name=_("organisation")
    )
    partner_name = models.CharField(_("partner"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    country_or_region = models.CharField(_("country or region"), max_length=60, blank=True)
    agreement_date = models.DateField(_("agreement date"), null=True, blank=True)
    scope = models.TextField(_("scope of cooperation"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)

    objects = ScopedQuerySet["Partnership"].as_manager()

    class Meta:
        ordering = ["organization", "partner_name"]
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        indexes = [models.Index(fields=["organization", "status"])]

    def __str__(self) -> str:
        return self.partner_name


class Enterprise(TimeStamped):
    """Store a member enterprise, identified by its unified social credit code."""

    class Size(models.TextChoices):
        LARGE = "large", _("Large")
        MEDIUM = "medium", _("Medium")
        SMALL = "small", _("Small")
        MICRO = "micro", _("Micro")

    class Ownership(models.TextChoices):
        STATE = "state", _("State-owned")
        PRIVATE = "private", _("Private")
        FOREIGN = "foreign", _("Foreign-invested")
        HK_MO_TW = "hk_mo_tw", _("Hong Kong, Macao or Taiwan invested")
        COLLECTIVE = "collective", _("Collective")
        MIXED = "mixed", _("Mixed ownership")
        OTHER = "other", _("Other")

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    industry = models.ForeignKey(
        "core.Industry", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("industry")
    )
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    size = models.CharField(_("size"), max_length=8, choices=Size.choices, blank=True)
    ownership = models.CharField(_("ownership"), max_length=12, choices=Ownership.choices, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    # Bounded by what an enterprise can have, not by the column (SQLite would store any 64-bit number).
    employees = models.PositiveIntegerField(
        _("employees"), null=True, blank=True, validators=[MaxValueValidator(MAX_EMPLOYEES)]
    )
    main_business = models.TextField(_("main business"), blank=True)
    website = models.URLField(_("website"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    # Search keys, kept in step with the name by the services.
    name_search = models.CharField(max_length=200, editable=False, default="")
    name_pinyin = models.CharField(max_length=255, editable=False, default="")
    name_initials = models.CharField(max_length=120, editable=False, default="")
    # Characters and character pairs of name_search (substring search index: FTS5 / GIN, see selectors).
    name_grams = models.TextField(editable=False, default="")
    # Pinyin initials and full pinyin read from where the trade name (字号) may start, space-separated
    # (北京市怀柔海盛餐饮有限公司: hrhscyyxgs huairouhaisheng… hscyyxgs haisheng…); prefix index: FTS5 / GIN tsvector.
    name_keys = models.TextField(editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)
    # The organisation that recorded the enterprise (a roster, a resource sheet, an application): its managers see
    # it even while it is no member anywhere (an enterprise met at a matchmaking meeting, invited to join).
    registered_by = models.ForeignKey(
        Organization, models.SET_NULL, null=True, blank=True, related_name="registered_enterprises",
        verbose_name=_("recorded by"),
    )  # fmt: skip

    objects = ScopedQuerySet["Enterprise"].as_manager()

    class Meta:
        ordering = ["name_pinyin", "id"]
        verbose_name = _("member enterprise")
        verbose_name_plural = _("member enterprises")
        indexes = [
            models.Index(fields=["name_pinyin", "id"], name="orgs_ent_pinyin_idx"),
            models.Index(fields=["name_initials"], name="orgs_ent_initials_idx"),
            models.Index(fields=["industry", "name_pinyin"], name="orgs_ent_industry_idx"),
            models.Index(fields=["region", "name_pinyin"], name="orgs_ent_region_idx"),
            models.Index(fields=["size", "name_pinyin"], name="orgs_ent_size_idx"),
            # size with an industry range (?industry=65&size=small): both conditions from one index
            models.Index(fields=["size", "industry"], name="orgs_ent_size_industry_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Person(TimeStamped):
    """Store a person: an enterprise's contact or an office holder."""

    name = models.CharField(_("name"), max_length=40)
    name_pinyin = models.CharField(max_length=120, editable=False, default="")
    mobile = models.CharField(_("mobile"), max_length=11, null=True, blank=True, unique=True)
    email = models.EmailField(_("e-mail"), blank=True)
    enterprise = models.ForeignKey(
        Enterprise, models.SET_NULL, null=True, blank=True, related_name="people", verbose_name=_("enterprise")
    )
    job_title = models.CharField(_("job title"), max_length=60, blank=True)
    is_primary_contact = models.BooleanField(_("primary contact"), default=False)

    objects = ScopedQuerySet["Person"].as_manager()

    class Meta:
        ordering = ["name_pinyin", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["name_pinyin", "id"], name="orgs_person_pinyin_idx"),
            models.Index(fields=["enterprise", "is_primary_contact"], name="orgs_person_ent_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class Position(TimeStamped):
    """Store a post held by a person in an organisation or a zone, with its term."""

    class Title(models.TextChoices):
        CHAIR = "chair", _("Chair / President")
        VICE_CHAIR = "vice_chair", _("Vice chair / Vice president")
        EXECUTIVE = "executive", _("Executive committee member")
        STANDING = "standing", _("Standing committee member")
        DIRECTOR = "director", _("Council member")
        CHIEF_SUPERVISOR = "chief_supervisor", _("Chief supervisor")
        SECRETARY_GENERAL = "secretary_general", _("Secretary-general")
        CHIEF_CONVENOR = "chief_convenor", _("Chief convenor")
        CONVENOR = "convenor", _("Convenor")
        SECRETARIAT = "secretariat", _("Secretariat group member")
        EXPERT = "expert", _("Expert committee member")

    person = models.ForeignKey(Person, models.CASCADE, related_name="positions", verbose_name=_("person"))
    organization = models.ForeignKey(
        Organization, models.CASCADE, null=True, blank=True, related_name="positions", verbose_name=_("organisation")
    )
    zone = models.ForeignKey(
        Zone, models.CASCADE, null=True, blank=True, related_name="positions", verbose_name=_("zone")
    )
    title = models.CharField(_("post"), max_length=24, choices=Title.choices)
    term_start = models.DateField(_("term starts"), null=True, blank=True)
    term_end = models.DateField(_("term ends"), null=True, blank=True)

    objects = ScopedQuerySet["Position"].as_manager()

    class Meta:
        ordering = ["title", "term_start"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.CheckConstraint(
                condition=(Q(organization__isnull=False) & Q(zone__isnull=True))
                | (Q(organization__isnull=True) & Q(zone__isnull=False)),
                name="orgs_position_in_org_or_zone",
            ),
            models.CheckConstraint(
                condition=Q(term_end__isnull=True)
                | Q(term_start__isnull=True)
                | Q(term_end__gte=models.F("term_start")),
                name="orgs_position_term_order",
            ),
        ]
        indexes = [models.Index(fields=["organization", "title"]), models.Index(fields=["zone", "title"])]

    def __str__(self) -> str:
        return f"{self.person} · {self.get_title_display()}"


class Membership(TimeStamped):
    """Store an enterprise's membership of one organisation, with its level and status."""

    class Level(models.TextChoices):
        PRESIDENT = "president", _("President unit")
        VICE_PRESIDENT = "vice_president", _("Vice-president unit")
        COUNCIL = "council", _("Council unit")
        MEMBER = "member", _("Member unit")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="memberships", verbose_name=_("enterprise"))
    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="memberships", verbose_name=_("organisation")
    )
    level = models.CharField(_("member level"), max_length=16, choices=Level.choices, default=Level.MEMBER)
    joined_on = models.DateField(_("joined on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)

    objects = ScopedQuerySet["Membership"].as_manager()

    class Meta:
        ordering = ["organization", "enterprise"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "organization"], name="orgs_membership_unique"),
        ]
        indexes = [
            models.Index(fields=["organization", "level", "enterprise"], name="orgs_membership_org_idx"),
            models.Index(fields=["organization", "status"], name="orgs_membership_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} @ {self.organization}"


class MembershipStatusChange(StatusChange):
    """Record one move of a membership's status (suspended, withdrawn, reinstated) with the reason."""

    status_choices = Membership.Status.choices

    membership = models.ForeignKey(Membership, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("membership status change")
        verbose_name_plural = _("membership status changes")


class PartnershipStatusChange(StatusChange):
    """Record one move of a partnership's status."""

    status_choices = Partnership.Status.choices

    partnership = models.ForeignKey(Partnership, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("partnership status change")
        verbose_name_plural = _("partnership status changes")


def licence_path(instance: Any, filename: str) -> str:
    """Store an uploaded business licence under a random name (never the uploader's)."""
    return random_name("licences", filename)


class MembershipApplication(TimeStamped):
    """Store an enterprise's online application to join an organisation (入会申请), reviewed by its secretary."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for changes")
        APPROVED = "approved", _("Approved")
        WITHDRAWN = "withdrawn", pgettext_lazy("request", "Withdrawn")

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="membership_applications", verbose_name=_("applicant")
    )
    organization = models.ForeignKey(
        Organization, models.PROTECT, related_name="applications", verbose_name=_("organisation applied to")
    )
    enterprise = models.ForeignKey(
        Enterprise, models.SET_NULL, null=True, blank=True, related_name="applications", verbose_name=_("enterprise")
    )
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    name = models.CharField(_("enterprise name"), max_length=120)
    industry = models.ForeignKey(
        "core.Industry", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("industry")
    )
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    size = models.CharField(_("size"), max_length=8, choices=Enterprise.Size.choices, blank=True)
    ownership = models.CharField(_("ownership"), max_length=12, choices=Enterprise.Ownership.choices, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    main_business = models.TextField(_("main business"), blank=True, max_length=2000)
    contact_name = models.CharField(_("contact person"), max_length=40)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_job_title = models.CharField(_("job title"), max_length=60, blank=True)
    level = models.CharField(_("member level applied for"), max_length=16, choices=Membership.Level.choices,
                             default=Membership.Level.MEMBER)  # fmt: skip
    licence = models.FileField(_("business licence"), upload_to=licence_path, max_length=200)
    licence_name = models.CharField(_("licence file name"), max_length=200, blank=True)
    statement = models.TextField(_("why we want to join"), blank=True, max_length=1000)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    review_note = models.CharField(_("reviewer's note"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    objects = ScopedQuerySet["MembershipApplication"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")
        indexes = [
            models.Index(fields=["organization", "status", "created_at"], name="orgs_application_queue_idx"),
            models.Index(fields=["applicant", "-created_at"], name="orgs_application_mine_idx"),
            models.Index(fields=["uscc"], name="orgs_application_uscc_idx"),
        ]
        constraints = [
            # One open application per enterprise and organisation (returned ones are edited and sent again).
            models.UniqueConstraint(
                fields=["uscc", "organization"], condition=Q(status__in=["submitted", "returned"]),
                name="orgs_one_open_application",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.name} → {self.organization}"


class MembershipApplicationStatusChange(StatusChange):
    """Record one step of a membership application (submitted, returned with the reason, approved)."""

    status_choices = MembershipApplication.Status.choices

    application = models.ForeignKey(MembershipApplication, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("application status change")
        verbose_name_plural = _("application status changes")


# The organisations an enterprise may apply to (and be invited to).
ACCEPTING_KINDS = {Organization.Kind.CHAMBER, Organization.Kind.ASSOCIATION, Organization.Kind.DISTRICT_FEDERATION,
                   Organization.Kind.FEDERATION}  # fmt: skip


class MembershipInvitation(TimeStamped):
    """Store an invitation to join sent to a non-member enterprise (one met at an import or a meeting): a text
    message with a link to the application form, filled in from the enterprise's record."""

    enterprise = models.ForeignKey(Enterprise, models.CASCADE, related_name="invitations", verbose_name=_("enterprise"))
    organization = models.ForeignKey(
        Organization, models.CASCADE, related_name="invitations", verbose_name=_("organisation to join")
    )
    mobile = models.CharField(_("mobile"), max_length=11)
    token = models.CharField(max_length=32, unique=True, editable=False)
    note = models.CharField(_("message"), max_length=300, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("invited by")
    )
    expires_at = models.DateTimeField(_("valid until"))
    application = models.ForeignKey(
        MembershipApplication, models.SET_NULL, null=True, blank=True, related_name="invitations",
        verbose_name=_("application"),
    )  # fmt: skip

    objects = ScopedQuerySet["MembershipInvitation"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("membership invitation")
        verbose_name_plural = _("membership invitations")
        indexes = [models.Index(fields=["enterprise", "organization", "-created_at"], name="orgs_invitation_ent_idx")]

    def __str__(self) -> str:
        return f"{self.enterprise} → {self.organization}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class EnterpriseChangeRequest(TimeStamped):
    """Hold an enterprise contact's change to key profile fields (name, industry, region…) until it is reviewed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    enterprise = models.ForeignKey(
        Enterprise, models.CASCADE, related_name="change_requests", verbose_name=_("enterprise")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("requested by")
    )
    changes = models.JSONField(_("changes"), default=dict)  # {field: [old, new]} as stored values
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    review_note = models.CharField(_("reviewer's note"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    objects = ScopedQuerySet["EnterpriseChangeRequest"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("profile change request")
        verbose_name_plural = _("profile change requests")
        indexes = [models.Index(fields=["status", "created_at"], name="orgs_change_queue_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(status="pending"), name="orgs_one_pending_change"
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {sorted(self.changes)}"


def enterprise_search_fields(name: str) -> dict[str, Any]:
    """Return the derived search keys for an enterprise name (every one of them: save them together)."""
    text, pinyin, initials, keys = enterprise_name_keys(name)
    return {
        "name_search": text[:200],
        "name_pinyin": pinyin[:255],
        "name_initials": initials[:120],
        "name_grams": " ".join(name_grams(text[:200])),
        "name_keys": " ".join(keys),
    }
