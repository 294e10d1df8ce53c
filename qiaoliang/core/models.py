"""Platform tables: reference codes (GB/T 4754, GB/T 2260), official days entered ahead of the holiday calendar
package, the audit log, status-history base, idempotency
records, notifications with per-user preferences and one-time verification codes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _


class Industry(models.Model):
    """Store one class of GB/T 4754-2017 (门类, 大类, 中类 or 小类)."""

    class Level(models.IntegerChoices):
        SECTION = 1, _("Section")
        DIVISION = 2, _("Division")
        GROUP = 3, _("Group")
        CLASS = 4, _("Class")

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")
    section = models.CharField(_("section"), max_length=1, db_index=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Region(models.Model):
    """Store one GB/T 2260 administrative division (province, city or county), by 6-digit code."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City")
        COUNTY = 3, _("County")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=60)
    full_name = models.CharField(_("full name"), max_length=120)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children")
    # A division of an earlier GB/T 2260 revision (330103 下城区, until 2021): the year of the last revision
    # that lists it, and the current division it is now part of where that is known (330105 拱墅区).
    last_year = models.PositiveSmallIntegerField(_("last published in"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="predecessors", verbose_name=_("now part of")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.full_name}"

    @property
    def is_current(self) -> bool:
        return self.last_year is None


class OfficialDay(models.Model):
    """Store one day of the State Council's holiday notice entered by staff before `chinesecalendar` has it: a public
    holiday or an adjusted working day (调休). `core.workdays` reads these before the package."""

    day = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(
        _("working day"), help_text=_("On: an adjusted working day (调休, a weekend worked). Off: a holiday.")
    )
    name = models.CharField(_("name"), max_length=40, blank=True, help_text=_("The holiday, e.g. 春节."))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]
        verbose_name = _("official day")
        verbose_name_plural = _("official days")

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class AuditLog(models.Model):
    """Record one write, or one view or export of personal data, with who, what and when."""

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    organization_id = models.BigIntegerField(_("organisation"), null=True, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_repr = models.CharField(_("target"), max_length=200, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=36, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"


class FastChoiceDisplayMixin:
    """Make `get_FOO_display()` a dictionary lookup.

    Django rebuilds a hashable copy of the field's choices on every call (about 0.08 ms); a directory page
    of 50 enterprises calls it a few hundred times. The labels stay lazy, so the active language applies.
    """

    _choice_labels: dict[str, dict[Any, Any]] = {}

    def _get_FIELD_display(self, field: models.Field) -> str:  # noqa: N802 (Django's name)
        key = f"{field.model._meta.label}.{field.name}"
        labels = FastChoiceDisplayMixin._choice_labels.get(key)
        if labels is None:
            labels = {value: label for value, label in field.flatchoices}
            FastChoiceDisplayMixin._choice_labels[key] = labels
        value = getattr(self, field.attname)
        return force_str(labels.get(value, value), strings_only=True)


class StatusChange(models.Model):
    """Record one move of an object's status (the base of every app's typed timeline table)."""

    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    # The status choices of the model whose timeline this is (each subclass sets them) give the labels shown.
    status_choices: Any = ()

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"

    @property
    def to_label(self) -> str:
        return force_str(dict(self.status_choices).get(self.to_status, self.to_status))

    @property
    def from_label(self) -> str:
        return force_str(dict(self.status_choices).get(self.from_status, self.from_status))


class IdempotencyRecord(models.Model):
    """Remember the answer to an API write sent with an Idempotency-Key, so a retry on any server replays it."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    scope = models.CharField(max_length=120)
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["user", "scope", "key"], name="core_idempotency_unique")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class Notification(models.Model):
    """Tell one user that something happened to their work, with the reason; delivered in-app and by channels."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=60, db_index=True)  # dotted, e.g. exchange.listing.returned
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True, max_length=2000)
    url = models.CharField(_("link"), max_length=300, blank=True)
    organization_id = models.BigIntegerField(_("organisation"), null=True, blank=True)
    target_type = models.ForeignKey(ContentType, models.CASCADE, null=True, blank=True, related_name="+")
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    channels_sent = models.JSONField(default=list, blank=True)  # e.g. ["email", "sms"], written by the task
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="core_notif_user_idx"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="core_notif_unread_idx"),
            models.Index(fields=["target_type", "target_id"], name="core_notif_target_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """Store which channels one user wants besides the in-app list, and where to reach them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="notification_preference")
    email = models.BooleanField(_("by e-mail"), default=True)
    sms = models.BooleanField(_("by text message"), default=False)
    wecom = models.BooleanField(_("to a WeCom group robot"), default=False)
    wecom_webhook = models.URLField(_("WeCom group robot webhook"), max_length=300, blank=True)
    muted_kinds = models.JSONField(_("muted kinds"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user_id)


class VerificationCode(models.Model):
    """Store a one-time code sent to a mobile number or e-mail address (hashed; limited tries and lifetime)."""

    purpose = models.CharField(max_length=40)
    target = models.CharField(max_length=254)  # a mobile number or an e-mail address
    code_hash = models.CharField(max_length=128)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        indexes = [models.Index(fields=["purpose", "target", "-created_at"], name="core_code_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.target}"
