"""Events (活动): meetings, lectures, trainings and matchmaking meetings, with registration, seats, check-in,
hybrid attendance, 1:1 meetings and feedback.

Capacity is held by seat rows: an event has exactly `capacity` `Seat` rows and a confirmed registration holds
one of them (a unique foreign key), so the database itself refuses an oversold event. Registrations claim a
free seat with `FOR UPDATE SKIP LOCKED` (see services/registration.py), so concurrent registrations never
queue behind one hot counter row.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiaoliang.core.models import FastChoiceDisplayMixin, StatusChange
from qiaoliang.core.permissions import ScopedQuerySet
from qiaoliang.core.uploads import random_name


class Kind(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    LECTURE = "lecture", _("Lecture")
    TRAINING = "training", _("Training")
    EXCHANGE = "exchange", _("Resource exchange meeting")
    FORUM = "forum", _("Forum")
    SALON = "salon", _("Salon")
    SYMPOSIUM = "symposium", _("Symposium")
    PARTY_BUILDING = "party_building", _("Party-building activity")
    OUTING = "outing", _("Visit or outing")


class Mode(models.TextChoices):
    OFFLINE = "offline", _("On site")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("On site and online")


class Audience(models.TextChoices):
    PUBLIC = "public", _("Public")
    MEMBERS = "members", _("All members")
    ORGANIZATIONS = "organizations", _("Members of given organisations")


class EventSeries(FastChoiceDisplayMixin, models.Model):
    """Store a series of events with issue numbers, such as 上海人力资源讲堂 (第13期)."""

    organization = models.ForeignKey(
        "orgs.Organization", models.CASCADE, related_name="event_series", verbose_name=_("organiser")
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["EventSeries"].as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("event series")
        verbose_name_plural = _("event series")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="events_series_unique_name")]

    def __str__(self) -> str:
        return self.name


class Event(FastChoiceDisplayMixin, models.Model):
    """Store one event: what, when, where, for whom, how many seats, and its matchmaking set-up."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        CLOSED = "closed", _("Concluded")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.OFFLINE)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.MEMBERS)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    organization = models.ForeignKey(
        "orgs.Organization", models.CASCADE, related_name="events", verbose_name=_("organiser")
    )
    co_organizers = models.ManyToManyField(
        "orgs.Organization", related_name="co_organized_events", blank=True, verbose_name=_("co-organisers")
    )
    audience_organizations = models.ManyToManyField(
        "orgs.Organization", related_name="audience_events", blank=True, verbose_name=_("for the members of")
    )
    # A zone meeting (碰头会) is run by the zone's convenors.
    zone = models.ForeignKey(
        "orgs.Zone", models.SET_NULL, null=True, blank=True, related_name="events", verbose_name=_("zone")
    )
    series = models.ForeignKey(
        EventSeries, models.SET_NULL, null=True, blank=True, related_name="events", verbose_name=_("series")
    )
    issue_number = models.PositiveIntegerField(_("issue number"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=10000)
    venue = models.CharField(_("venue"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    livestream_url = models.URLField(_("livestream link"), max_length=300, blank=True)
    replay_url = models.URLField(_("replay link"), max_length=300, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("seats"))
    has_waiting_list = models.BooleanField(_("waiting list when full"), default=True)
    registration_opens_at = models.DateTimeField(_("registration opens"))
    registration_closes_at = models.DateTimeField(_("registration closes"))
    verify_mobile = models.BooleanField(
        _("verify the mobile number of people without an account"),
        default=True,
        help_text=_("A code is sent by text message before a registration from the public page is accepted."),
    )
    # [{"key": "q1", "label": "...", "required": true, "choices": ["...", ...]}]
    questions = models.JSONField(_("registration questions"), default=list, blank=True)
    online_min_minutes = models.PositiveSmallIntegerField(
        _("minimum online minutes"),
        default=10,
        help_text=_("Online attendees count once they have followed this many minutes."),
    )
    minutes = models.TextField(_("minutes"), blank=True, max_length=20000)
    closing_summary = models.TextField(_("closing summary"), blank=True, max_length=5000)
    # Matchmaking meetings (资源信息交流会): pitches, then 1:1 talks in slots at tables.
    pitches_start_at = models.DateTimeField(_("pitches start"), null=True, blank=True)
    pitch_minutes = models.PositiveSmallIntegerField(_("minutes per pitch"), default=5)
    meetings_start_at = models.DateTimeField(_("1:1 meetings start"), null=True, blank=True)
    slot_count = models.PositiveSmallIntegerField(_("meeting slots"), default=0)
    slot_minutes = models.PositiveSmallIntegerField(_("minutes per slot"), default=15)
    table_count = models.PositiveSmallIntegerField(_("tables"), default=0)
    copied_from = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("copied from")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = ScopedQuerySet["Event"].as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["status", "starts_at"], name="events_status_start_idx"),
            models.Index(fields=["organization", "starts_at"], name="events_org_start_idx"),
            models.Index(fields=["audience", "status", "starts_at"], name="events_audience_idx"),
            models.Index(fields=["series", "issue_number"], name="events_series_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="events_ends_after_start"),
            models.CheckConstraint(
                condition=Q(registration_closes_at__gt=F("registration_opens_at")), name="events_registration_window"
            ),
            models.UniqueConstraint(
                fields=["series", "issue_number"],
                condition=Q(series__isnull=False, issue_number__isnull=False),
                name="events_one_issue_per_number",
            ),
        ]

    def __str__(self) -> str:
        if self.series_id and self.issue_number:
            return f"{self.title}（{self.issue_number}）"
        return self.title

    @property
    def registration_has_closed(self) -> bool:
        return self.registration_closes_at <= timezone.now()

    @property
    def is_matchmaking(self) -> bool:
        return self.kind == Kind.EXCHANGE

    @property
    def is_online(self) -> bool:
        return self.mode in (Mode.ONLINE, Mode.HYBRID)

    @property
    def is_onsite(self) -> bool:
        return self.mode in (Mode.OFFLINE, Mode.HYBRID)


class EventStatusChange(StatusChange):
    """Record one move of an event's status."""

    status_choices = Event.Status.choices

    event = models.ForeignKey(Event, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("event status change")
        verbose_name_plural = _("event status changes")


class AgendaItem(models.Model):
    """Store one item of an event's agenda (议程), in time order."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="agenda")
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "starts_at", "id"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda")

    def __str__(self) -> str:
        return self.title


class Speaker(models.Model):
    """Store a speaker of an event or of one agenda item; a department liaison speaks with their account."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="speakers")
    agenda_item = models.ForeignKey(
        AgendaItem, models.SET_NULL, null=True, blank=True, related_name="speakers", verbose_name=_("agenda item")
    )
    name = models.CharField(_("name"), max_length=40)
    affiliation = models.CharField(_("organisation and post"), max_length=120, blank=True)
    topic = models.CharField(_("topic"), max_length=120, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_talks",
        verbose_name=_("account"),
    )
    department = models.ForeignKey(
        "orgs.Department", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")
        indexes = [models.Index(fields=["user", "event"], name="events_speaker_user_idx")]

    def __str__(self) -> str:
        return self.name


def event_file_path(instance: Any, filename: str) -> str:
    """Store an event file under a random name (never the uploader's)."""
    return random_name("events", filename)


class EventFile(models.Model):
    """Store a material (slides, handouts) or a photo of an event; served through a permission-checked view."""

    class Kind(models.TextChoices):
        MATERIAL = "material", pgettext_lazy("event file", "Material")
        PHOTO = "photo", _("Photo")

    event = models.ForeignKey(Event, models.CASCADE, related_name="files")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.MATERIAL)
    file = models.FileField(upload_to=event_file_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    caption = models.CharField(_("caption"), max_length=120, blank=True)
    size = models.PositiveIntegerField(_("file size"))
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("event file")
        verbose_name_plural = _("event files")

    def __str__(self) -> str:
        return self.name


class Seat(models.Model):
    """Hold one of an event's seats; a confirmed registration holds exactly one (capacity = number of seats)."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="seats")
    is_taken = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        indexes = [
            models.Index(fields=["event", "id"], condition=Q(is_taken=False), name="events_free_seat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}#{self.pk}"


class RegistrationQuerySet(ScopedQuerySet["Registration"]):
    def active(self) -> RegistrationQuerySet:
        return self.filter(status__in=Registration.ACTIVE)


class Registration(FastChoiceDisplayMixin, models.Model):
    """Store one person's registration for an event: confirmed (with a seat), waiting or cancelled."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        WAITING = "waiting", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        MEMBER = "member", _("Member account")
        PUBLIC = "public", _("Public page")
        STAFF = "staff", _("Registered by staff")
        CONTACT = "contact", _("Registered by the enterprise")
        API = "api", _("API")

    ACTIVE = (Status.CONFIRMED, Status.WAITING)

    event = models.ForeignKey(Event, models.CASCADE, related_name="registrations", verbose_name=_("event"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    seat = models.OneToOneField(Seat, models.PROTECT, null=True, blank=True, related_name="registration")
    ticket = models.CharField(_("ticket"), max_length=16, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_registrations",
        verbose_name=_("account"),
    )
    person = models.ForeignKey(
        "orgs.Person", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("person")
    )
    enterprise = models.ForeignKey(
        "orgs.Enterprise",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_registrations",
        verbose_name=_("enterprise"),
    )
    name = models.CharField(_("name"), max_length=40)
    mobile = models.CharField(_("mobile"), max_length=11, blank=True)
    company = models.CharField(_("company"), max_length=120, blank=True)
    position = models.CharField(_("position"), max_length=60, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    source = models.CharField(_("registered through"), max_length=8, choices=Source.choices)
    is_mobile_verified = models.BooleanField(_("mobile verified"), default=False)
    # The public form's one-time key: a resubmitted form finds the registration it made.
    submission_key = models.CharField(max_length=40, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    ticket_sent_at = models.DateTimeField(null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        indexes = [
            models.Index(fields=["event", "status", "id"], name="events_reg_status_idx"),
            models.Index(fields=["enterprise", "event"], name="events_reg_enterprise_idx"),
            models.Index(fields=["user", "event"], name="events_reg_user_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "mobile"],
                condition=Q(status__in=["confirmed", "waiting"]) & ~Q(mobile=""),
                name="events_one_active_per_mobile",
            ),
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["confirmed", "waiting"], user__isnull=False),
                name="events_one_active_per_user",
            ),
            models.UniqueConstraint(
                fields=["event", "submission_key"], condition=~Q(submission_key=""), name="events_one_per_submission"
            ),
            # A confirmed registration holds a seat; nothing else does.
            models.CheckConstraint(
                condition=(Q(status="confirmed") & Q(seat__isnull=False))
                | (~Q(status="confirmed") & Q(seat__isnull=True)),
                name="events_confirmed_holds_seat",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.event_id}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def ticket_display(self) -> str:
        return "-".join(self.ticket[i : i + 4] for i in range(0, len(self.ticket), 4))


class RegistrationStatusChange(StatusChange):
    """Record one move of a registration's status (cancelled, promoted from the waiting list)."""

    status_choices = Registration.Status.choices

    registration = models.ForeignKey(Registration, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("registration status change")
        verbose_name_plural = _("registration status changes")


class CheckIn(models.Model):
    """Record that a registered person arrived (one per registration; a second scan changes nothing)."""

    class Method(models.TextChoices):
        SCAN = "scan", _("QR code scanned")
        TYPED = "typed", _("Code typed in")
        LIST = "list", _("Ticked on the list")
        API = "api", _("API")

    registration = models.OneToOneField(Registration, models.CASCADE, related_name="checkin")
    event = models.ForeignKey(Event, models.CASCADE, related_name="checkins")
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    method = models.CharField(_("how"), max_length=8, choices=Method.choices)

    class Meta:
        ordering = ["checked_in_at", "id"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        indexes = [models.Index(fields=["event", "checked_in_at"], name="events_checkin_event_idx")]

    def __str__(self) -> str:
        return f"{self.registration_id} @ {self.checked_in_at:%Y-%m-%d %H:%M}"


class ColumnMapping(models.Model):
    """Remember how an organisation's online-meeting exports name their columns (the last mapping used)."""

    organization = models.OneToOneField("orgs.Organization", models.CASCADE, related_name="+")
    mapping = models.JSONField(default=dict)  # {"name": "用户昵称", "mobile": "手机号", ...}
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("attendee column mapping")
        verbose_name_plural = _("attendee column mappings")

    def __str__(self) -> str:
        return str(self.organization_id)


def import_file_path(instance: Any, filename: str) -> str:
    return random_name("attendee-imports", filename)


class OnlineImport(models.Model):
    """Store one attendee export of an online meeting platform (腾讯会议, 钉钉, Zoom...) and what it gave."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for the column mapping")
        APPLIED = "applied", _("Counted")

    event = models.ForeignKey(Event, models.CASCADE, related_name="online_imports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    file = models.FileField(upload_to=import_file_path, max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=200)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    row_count = models.PositiveIntegerField(default=0)
    matched_by_mobile = models.PositiveIntegerField(default=0)
    matched_by_name = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("online attendee import")
        verbose_name_plural = _("online attendee imports")

    def __str__(self) -> str:
        return self.file_name


class OnlineAttendee(models.Model):
    """Store one row of an online attendee export: who, when they joined and left, and the registration found."""

    class Match(models.TextChoices):
        MOBILE = "mobile", _("By mobile")
        NAME = "name", _("By name")
        NONE = "none", _("Not registered")

    online_import = models.ForeignKey(OnlineImport, models.CASCADE, related_name="rows")
    event = models.ForeignKey(Event, models.CASCADE, related_name="online_attendees")
    row_number = models.PositiveIntegerField()
    name = models.CharField(max_length=60)
    mobile = models.CharField(max_length=11, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    minutes = models.DecimalField(max_digits=8, decimal_places=2)
    registration = models.ForeignKey(Registration, models.SET_NULL, null=True, blank=True, related_name="+")
    matched_by = models.CharField(max_length=8, choices=Match.choices)
    person_key = models.CharField(max_length=80)

    class Meta:
        ordering = ["row_number"]
        verbose_name = _("online attendee")
        verbose_name_plural = _("online attendees")
        indexes = [models.Index(fields=["event", "person_key"], name="events_online_person_idx")]

    def __str__(self) -> str:
        return self.name


class Attendance(models.Model):
    """Count one person once at one event: on site (checked in), online (minutes followed), or both.

    `person_key` identifies the person: "r:<registration id>" when a registration is known, else "m:<mobile>",
    else "n:<name>" (an unregistered online viewer). An attendance counts (人次) when the person checked in or
    followed online for at least the event's minimum minutes.
    """

    event = models.ForeignKey(Event, models.CASCADE, related_name="attendances")
    person_key = models.CharField(max_length=80)
    registration = models.ForeignKey(Registration, models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=60, blank=True)
    onsite = models.BooleanField(default=False)
    online_minutes = models.DecimalField(max_digits=8, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [models.UniqueConstraint(fields=["event", "person_key"], name="events_attendance_once")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.person_key}"


# --- matchmaking meetings -------------------------------------------------------------------------------------


class Participant(models.Model):
    """Store an enterprise taking part in a matchmaking meeting: its pitch and the slots it cannot meet in."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="participants")
    enterprise = models.ForeignKey(
        "orgs.Enterprise", models.CASCADE, related_name="event_participations", verbose_name=_("enterprise")
    )
    pitch_title = models.CharField(_("pitch"), max_length=120, blank=True)
    pitch_order = models.PositiveSmallIntegerField(_("pitch order"), null=True, blank=True)
    unavailable_slots = models.JSONField(_("unavailable slots"), default=list, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet["Participant"].as_manager()

    class Meta:
        ordering = ["pitch_order", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["event", "enterprise"], name="events_participant_once")]

    def __str__(self) -> str:
        return str(self.enterprise_id)


class MeetingRequest(FastChoiceDisplayMixin, models.Model):
    """Store one participant's request to meet another one to one, with the reason; the other side answers."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", pgettext_lazy("request", "Withdrawn")

    event = models.ForeignKey(Event, models.CASCADE, related_name="meeting_requests")
    requester = models.ForeignKey(Participant, models.CASCADE, related_name="requests_made")
    recipient = models.ForeignKey(Participant, models.CASCADE, related_name="requests_received")
    # "<smaller participant id>-<larger>": the pair, whoever asked.
    pair_key = models.CharField(max_length=40)
    reason = models.CharField(_("reason"), max_length=500)
    listing = models.ForeignKey(
        "exchange.Listing", models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("about")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    answer_note = models.CharField(_("answer"), max_length=300, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["MeetingRequest"].as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("meeting request")
        verbose_name_plural = _("meeting requests")
        indexes = [models.Index(fields=["event", "status"], name="events_request_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "pair_key"],
                condition=Q(status__in=["pending", "accepted"]),
                name="events_one_open_request_per_pair",
            ),
            models.CheckConstraint(condition=~Q(requester=F("recipient")), name="events_request_not_self"),
        ]

    def __str__(self) -> str:
        return self.pair_key


class MeetingRequestStatusChange(StatusChange):
    """Record one answer to a meeting request."""

    status_choices = MeetingRequest.Status.choices

    request = models.ForeignKey(MeetingRequest, models.CASCADE, related_name="history")

    class Meta(StatusChange.Meta):
        verbose_name = _("meeting request status change")
        verbose_name_plural = _("meeting request status changes")


class Meeting(models.Model):
    """Store an accepted 1:1 meeting and where the schedule put it (slot and table, both from 0)."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="meetings")
    request = models.OneToOneField(MeetingRequest, models.CASCADE, related_name="meeting")
    a = models.ForeignKey(Participant, models.CASCADE, related_name="meetings_as_a")
    b = models.ForeignKey(Participant, models.CASCADE, related_name="meetings_as_b")
    slot = models.PositiveSmallIntegerField(_("slot"), null=True, blank=True)
    table = models.PositiveSmallIntegerField(_("table"), null=True, blank=True)
    is_pinned = models.BooleanField(_("placed by hand"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet["Meeting"].as_manager()

    class Meta:
        ordering = ["slot", "table", "id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "slot", "table"], condition=Q(slot__isnull=False), name="events_one_meeting_per_table"
            ),
            models.CheckConstraint(
                condition=Q(slot__isnull=True, table__isnull=True) | Q(slot__isnull=False, table__isnull=False),
                name="events_meeting_slot_and_table",
            ),
            models.CheckConstraint(condition=Q(slot__isnull=False) | Q(is_pinned=False), name="events_pin_placed"),
        ]

    def __str__(self) -> str:
        return f"{self.a_id}–{self.b_id}"


class MeetingOutcome(models.Model):
    """Record what one side says came of a meeting: held, an intent to cooperate, or a deal and its amount."""

    class Result(models.TextChoices):
        NONE = "none", _("No result yet")
        INTENT = "intent", _("Intent to cooperate")
        DEAL = "deal", _("Deal")

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="outcomes")
    participant = models.ForeignKey(Participant, models.CASCADE, related_name="+")
    held = models.BooleanField(_("the meeting took place"), default=True)
    result = models.CharField(_("result"), max_length=8, choices=Result.choices, default=Result.NONE)
    deal_amount = models.DecimalField(_("deal amount (yuan)"), max_digits=16, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting outcome")
        verbose_name_plural = _("meeting outcomes")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "participant"], name="events_outcome_per_side"),
            models.CheckConstraint(
                condition=Q(result="deal") | Q(deal_amount__isnull=True), name="events_amount_only_for_deals"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.participant_id}"


class FeedbackResponse(models.Model):
    """Store one attendee's answer to the short survey after an event (1–5 ratings and a comment)."""

    event = models.ForeignKey(Event, models.CASCADE, related_name="feedback")
    registration = models.OneToOneField(Registration, models.CASCADE, related_name="feedback")
    overall = models.PositiveSmallIntegerField(_("overall"))
    content = models.PositiveSmallIntegerField(_("content"))
    organisation = models.PositiveSmallIntegerField(_("organisation"))
    comment = models.CharField(_("comment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    overall__gte=1,
                    overall__lte=5,
                    content__gte=1,
                    content__lte=5,
                    organisation__gte=1,
                    organisation__lte=5,
                ),
                name="events_feedback_ratings",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.overall}"
