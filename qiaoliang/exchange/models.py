"""Offers and needs (资源信息), the matches between them, and the emergency board."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.models import FastChoiceDisplayMixin, StatusChange
from qiaoliang.core.permissions import ScopedQuerySet
from qiaoliang.core.uploads import random_name


class Direction(models.TextChoices):
    OFFER = "offer", _("Offer")
    NEED = "need", _("Need")


class Category(models.TextChoices):
    PROJECT = "project", _("Project")
    BUSINESS = "business", _("Business")
    TECHNOLOGY = "technology", _("Technology")
    SERVICE = "service", _("Service")
    TALENT = "talent", _("Talent")
    CAPITAL = "capital", _("Capital")
    MATERIAL = "material", _("Material")


class ListingQuerySet(ScopedQuerySet["Listing"]):
    def published(self) -> ListingQuerySet:
        return self.filter(status=Listing.Status.PUBLISHED)


class Listing(FastChoiceDisplayMixin, models.Model):
    """Store one offer or need posted by a member enterprise."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Pending review")
        PUBLISHED = "published", _("Published")
        REJECTED = "rejected", _("Returned for changes")
        CLOSED = "closed", _("Closed")
        EXPIRED = "expired", _("Expired")

    class ContactVisibility(models.TextChoices):
        MEMBERS = "members", _("Members of the same organisations")
        MATCHED = "matched", _("Matched parties only")
        PUBLIC = "public", _("Everyone")

    enterprise = models.ForeignKey(
        "orgs.Enterprise", models.PROTECT, related_name="listings", verbose_name=_("enterprise")
    )
    organization = models.ForeignKey(
        "orgs.Organization", models.PROTECT, related_name="listings", verbose_name=_("reviewing organisation"),
        help_text=_("The chamber or federation that reviews the listing."),
    )  # fmt: skip
    direction = models.CharField(_("offer or need"), max_length=8, choices=Direction.choices)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    industry = models.ForeignKey(
        "core.Industry", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("industry")
    )
    region = models.ForeignKey(
        "core.Region", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    service_area = models.CharField(_("service area"), max_length=120, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=2, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    price_min = models.DecimalField(_("price or budget from (yuan)"), max_digits=16, decimal_places=2, null=True,
                                    blank=True)  # fmt: skip
    price_max = models.DecimalField(_("price or budget to (yuan)"), max_digits=16, decimal_places=2, null=True,
                                    blank=True)  # fmt: skip
    price_text = models.CharField(_("price or budget"), max_length=40, blank=True)
    valid_until = models.DateField(_("valid until"))
    contact_person = models.ForeignKey(
        "orgs.Person", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("contact person")
    )
    contact_visibility = models.CharField(
        _("who may see the contact"), max_length=10, choices=ContactVisibility.choices,
        default=ContactVisibility.MATCHED,
    )  # fmt: skip
    is_urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    external_id = models.CharField(_("external number"), max_length=60, blank=True)
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    # Tokens of title + description from the one Chinese tokeniser, space-separated (full-text search).
    search_tokens = models.TextField(editable=False, default="")
    # Passage embedding (float16, multilingual-e5-small) written by the background indexer, so every
    # app server's in-memory index can load it instead of embedding again.
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        indexes = [
            models.Index(fields=["status", "direction", "category", "-published_at"], name="exch_board_idx"),
            models.Index(fields=["status", "valid_until"], name="exch_expiry_idx"),
            models.Index(fields=["enterprise", "status"], name="exch_enterprise_idx"),
            models.Index(fields=["organization", "status"], name="exch_org_idx"),
            models.Index(fields=["industry", "status"], name="exch_industry_idx"),
            models.Index(fields=["region", "status"], name="exch_region_idx"),
            models.Index(fields=["is_urgent", "status"], name="exch_urgent_idx"),
            models.Index(fields=["updated_at"], name="exch_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "external_id"], condition=~Q(external_id=""), name="exch_listing_external_unique"
            ),
            models.CheckConstraint(
                condition=Q(price_min__isnull=True)
                | Q(price_max__isnull=True)
                | Q(price_max__gte=models.F("price_min")),
                name="exch_listing_price_order",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.get_direction_display()}] {self.title}"


class ListingStatusChange(StatusChange):
    """Record one move of a listing's status (its timeline)."""

    status_choices = Listing.Status.choices

    listing = models.ForeignKey(Listing, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("listing status change")
        verbose_name_plural = _("listing status changes")


def attachment_path(instance: Any, filename: str) -> str:
    """Store an attachment under a random name (never the uploader's)."""
    return random_name("listings", filename)


class ListingAttachment(models.Model):
    """Store a file attached to a listing (type and size limited at upload)."""

    listing = models.ForeignKey(Listing, models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("file size"))
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class Match(FastChoiceDisplayMixin, models.Model):
    """Store an offer paired with a need: score, reasons and the workflow from suggestion to deal."""

    class Status(models.TextChoices):
        SUGGESTED = "suggested", _("Suggested")
        CONTACTED = "contacted", _("Contacted")
        IN_TALKS = "in_talks", _("In talks")
        DEAL = "deal", _("Deal")
        DECLINED = "declined", _("Declined")

    need = models.ForeignKey(Listing, models.CASCADE, related_name="matches_as_need", verbose_name=_("need"))
    offer = models.ForeignKey(Listing, models.CASCADE, related_name="matches_as_offer", verbose_name=_("offer"))
    score = models.FloatField(_("score"), default=0)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUGGESTED)
    introduced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("introduced by"),
    )  # fmt: skip
    deal_amount = models.DecimalField(_("deal amount (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    deal_date = models.DateField(_("deal date"), null=True, blank=True)
    declined_reason = models.CharField(_("reason declined"), max_length=300, blank=True)
    # Both sides agree to talk before either sees the other's contact details.
    need_agreed_at = models.DateTimeField(_("need side agreed to talk"), null=True, blank=True)
    offer_agreed_at = models.DateTimeField(_("offer side agreed to talk"), null=True, blank=True)
    # A deal is proposed by one side and counts once the other confirms it.
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_side = models.CharField(_("proposed by side"), max_length=8, blank=True)
    proposed_amount = models.DecimalField(_("proposed amount (yuan)"), max_digits=16, decimal_places=2, null=True,
                                          blank=True)  # fmt: skip
    proposed_date = models.DateField(_("proposed deal date"), null=True, blank=True)
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    is_notified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Match"].as_manager()

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [models.UniqueConstraint(fields=["need", "offer"], name="exch_match_unique_pair")]
        indexes = [
            models.Index(fields=["status", "-updated_at"], name="exch_match_status_idx"),
            models.Index(fields=["offer", "status"], name="exch_match_offer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.need_id} ↔ {self.offer_id}"


class MatchStatusChange(StatusChange):
    """Record one move of a match's status."""

    status_choices = Match.Status.choices

    match = models.ForeignKey(Match, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("match status change")
        verbose_name_plural = _("match status changes")


class Side(models.TextChoices):
    NEED = "need", _("Need side")
    OFFER = "offer", _("Offer side")


class MatchMessage(models.Model):
    """Store one message of the conversation between the two enterprises of a match."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Message")
        EVENT = "event", _("Event")  # "X agreed to talk", "a deal was proposed" (written by the services)

    match = models.ForeignKey(Match, models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    side = models.CharField(_("side"), max_length=8, choices=Side.choices, blank=True)  # blank: staff or system
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.TEXT)
    body = models.TextField(_("message"), max_length=2000)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["match", "created_at"], name="exch_message_match_idx")]

    def __str__(self) -> str:
        return self.body[:40]


class EmergencyBoard(models.Model):
    """Turn one category into an urgent board (应急物资对接), e.g. masks and protective suits."""

    name = models.CharField(_("name"), max_length=80)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    keywords = models.CharField(_("keywords"), max_length=300, blank=True,
                                help_text=_("Space-separated products the board is about."))  # fmt: skip
    is_active = models.BooleanField(_("active"), default=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    objects = ScopedQuerySet["EmergencyBoard"].as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("emergency board")
        verbose_name_plural = _("emergency boards")
        constraints = [
            models.UniqueConstraint(fields=["category"], condition=Q(is_active=True), name="exch_one_active_board")
        ]

    def __str__(self) -> str:
        return self.name


class CapacityDeclaration(models.Model):
    """Record an enterprise's stock and daily capacity of a product on an emergency board."""

    board = models.ForeignKey(EmergencyBoard, models.CASCADE, related_name="declarations")
    enterprise = models.ForeignKey("orgs.Enterprise", models.CASCADE, related_name="+")
    product = models.CharField(_("product"), max_length=80)
    stock = models.DecimalField(_("stock"), max_digits=14, decimal_places=2, default=0)
    daily_capacity = models.DecimalField(_("daily capacity"), max_digits=14, decimal_places=2, default=0)
    unit = models.CharField(_("unit"), max_length=20)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["CapacityDeclaration"].as_manager()

    class Meta:
        ordering = ["product", "-updated_at"]
        verbose_name = _("capacity declaration")
        verbose_name_plural = _("capacity declarations")
        constraints = [models.UniqueConstraint(fields=["board", "enterprise", "product"], name="exch_capacity_unique")]

    def __str__(self) -> str:
        return f"{self.product}: {self.stock} {self.unit}"
