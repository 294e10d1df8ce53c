"""Forms of the event pages: they check shape; the services check the rules."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiaoliang.core.forms import BootstrapForm
from qiaoliang.events.models import AgendaItem, Audience, Event, EventFile, EventSeries, Kind, MeetingOutcome, Mode
from qiaoliang.events.services.attendance import FIELDS
from qiaoliang.events.services.events import parse_questions, questions_text
from qiaoliang.events.services.matchmaking import slot_start
from qiaoliang.orgs.models import Enterprise, Organization, Zone

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def _local(value: Any) -> Any:
    return timezone.localtime(value).replace(tzinfo=None) if value else value


class EventForm(BootstrapForm):
    """Create or change an event (staff of the organising organisation; convenors for their zone's meetings)."""

    title = forms.CharField(label=_("Title"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    mode = forms.ChoiceField(label=_("Mode"), choices=Mode.choices, initial=Mode.OFFLINE)
    organization = forms.ModelChoiceField(label=_("Organiser"), queryset=Organization.objects.none(), empty_label=None)
    zone = forms.ModelChoiceField(
        label=_("Zone meeting of"),
        queryset=Zone.objects.none(),
        required=False,
        help_text=_("A zone meeting (碰头会) is run by the zone's convenors."),
    )
    co_organizers = forms.ModelMultipleChoiceField(
        label=_("Co-organisers"), queryset=Organization.objects.none(), required=False
    )
    series = forms.ModelChoiceField(label=_("Series"), queryset=EventSeries.objects.none(), required=False)
    new_series = forms.CharField(
        label=_("Or start a series"), max_length=80, required=False, help_text=_("For example 上海人力资源讲堂.")
    )
    issue_number = forms.IntegerField(label=_("Issue number"), min_value=1, max_value=100_000, required=False)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=DateTimeInput(), input_formats=[DATETIME_FORMAT])
    ends_at = forms.DateTimeField(label=_("Ends at"), widget=DateTimeInput(), input_formats=[DATETIME_FORMAT])
    venue = forms.CharField(label=_("Venue"), max_length=120, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    livestream_url = forms.URLField(label=_("Livestream link"), max_length=300, required=False, assume_scheme="https")
    replay_url = forms.URLField(label=_("Replay link"), max_length=300, required=False, assume_scheme="https")
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=10000
    )
    audience = forms.ChoiceField(label=_("Who may register"), choices=Audience.choices, initial=Audience.MEMBERS)
    audience_organizations = forms.ModelMultipleChoiceField(
        label=_("Members of"),
        queryset=Organization.objects.none(),
        required=False,
        help_text=_("For “members of given organisations”: their members and those of the organisations under them."),
    )
    capacity = forms.IntegerField(label=_("Seats"), min_value=1, max_value=100_000, initial=100)
    has_waiting_list = forms.BooleanField(label=_("Waiting list when full"), required=False, initial=True)
    registration_opens_at = forms.DateTimeField(
        label=_("Registration opens"), widget=DateTimeInput(), required=False, input_formats=[DATETIME_FORMAT]
    )
    registration_closes_at = forms.DateTimeField(
        label=_("Registration closes"),
        widget=DateTimeInput(),
        required=False,
        input_formats=[DATETIME_FORMAT],
        help_text=_("By default when the event starts."),
    )
    verify_mobile = forms.BooleanField(
        label=_("Verify the mobile number of public registrations by text message"), required=False, initial=True
    )
    questions = forms.CharField(
        label=_("Registration questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; end with * if required; offer answers after a colon: 用餐：是 / 否"),
    )
    online_min_minutes = forms.IntegerField(
        label=_("Minimum online minutes to count as attending"), min_value=0, max_value=600, initial=10
    )
    pitches_start_at = forms.DateTimeField(
        label=_("Pitches start"), widget=DateTimeInput(), required=False, input_formats=[DATETIME_FORMAT]
    )
    pitch_minutes = forms.IntegerField(label=_("Minutes per pitch"), min_value=1, max_value=120, initial=5)
    meetings_start_at = forms.DateTimeField(
        label=_("1:1 meetings start"), widget=DateTimeInput(), required=False, input_formats=[DATETIME_FORMAT]
    )
    slot_count = forms.IntegerField(label=_("Meeting slots"), min_value=0, max_value=48, initial=0)
    slot_minutes = forms.IntegerField(label=_("Minutes per slot"), min_value=5, max_value=180, initial=15)
    table_count = forms.IntegerField(label=_("Tables"), min_value=0, max_value=2000, initial=0)

    MATCHMAKING = (
        "pitches_start_at",
        "pitch_minutes",
        "meetings_start_at",
        "slot_count",
        "slot_minutes",
        "table_count",
    )
    GROUPS = [
        (
            _("The event"),
            (
                "title",
                "kind",
                "mode",
                "organization",
                "zone",
                "co_organizers",
                "series",
                "new_series",
                "issue_number",
                "description",
            ),
        ),
        (_("When and where"), ("starts_at", "ends_at", "venue", "address", "livestream_url", "replay_url")),
        (
            _("Registration"),
            (
                "audience",
                "audience_organizations",
                "capacity",
                "has_waiting_list",
                "registration_opens_at",
                "registration_closes_at",
                "verify_mobile",
                "questions",
                "online_min_minutes",
            ),
        ),
        (_("Resource exchange meeting: pitches and 1:1 meetings"), MATCHMAKING),
    ]

    def __init__(
        self, *args: Any, organizations: Any, zones: Any, visible_organizations: Any, series: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        self.fields["zone"].queryset = zones  # type: ignore[attr-defined]
        self.fields["co_organizers"].queryset = visible_organizations  # type: ignore[attr-defined]
        self.fields["audience_organizations"].queryset = visible_organizations  # type: ignore[attr-defined]
        self.fields["series"].queryset = series  # type: ignore[attr-defined]
        for name in ("co_organizers", "audience_organizations"):
            self.fields[name].widget.attrs["size"] = 6

    @classmethod
    def initial_from(cls, event: Event, *, copy: bool = False) -> dict[str, Any]:
        """Return the form's initial values from an event (a copy keeps the set-up, not the dates)."""
        names = [
            "title",
            "kind",
            "mode",
            "venue",
            "address",
            "livestream_url",
            "description",
            "audience",
            "capacity",
            "has_waiting_list",
            "verify_mobile",
            "online_min_minutes",
            "pitch_minutes",
            "slot_count",
            "slot_minutes",
            "table_count",
        ]
        initial: dict[str, Any] = {name: getattr(event, name) for name in names}
        initial.update(
            organization=event.organization_id,
            zone=event.zone_id,
            series=event.series_id,
            co_organizers=list(event.co_organizers.values_list("pk", flat=True)),
            audience_organizations=list(event.audience_organizations.values_list("pk", flat=True)),
            questions=questions_text(event.questions),
        )
        if copy:
            numbers = (
                [n for n in event.series.events.values_list("issue_number", flat=True) if n is not None]
                if event.series is not None
                else []
            )
            initial["issue_number"] = max(numbers, default=0) + 1 if event.series_id else None
            week_later = event.starts_at + datetime.timedelta(days=7)
            initial["starts_at"] = _local(week_later)
            initial["ends_at"] = _local(week_later + (event.ends_at - event.starts_at))
            for name in ("pitches_start_at", "meetings_start_at"):  # a matchmaking day keeps its timetable
                moment = getattr(event, name)
                if moment is not None:
                    initial[name] = _local(week_later + (moment - event.starts_at))
        else:
            initial["issue_number"] = event.issue_number
            initial["replay_url"] = event.replay_url
            for name in (
                "starts_at",
                "ends_at",
                "registration_opens_at",
                "registration_closes_at",
                "pitches_start_at",
                "meetings_start_at",
            ):
                initial[name] = _local(getattr(event, name))
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["questions"] = parse_questions(data.get("questions") or "")
        for name in (
            "starts_at",
            "ends_at",
            "registration_opens_at",
            "registration_closes_at",
            "pitches_start_at",
            "meetings_start_at",
        ):
            value = data.get(name)
            if value is not None and timezone.is_naive(value):
                data[name] = timezone.make_aware(value)
        # The services check these too; checked here as well so that they show with the other field errors.
        starts, ends = data.get("starts_at"), data.get("ends_at")
        opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("The event must end after it starts."))
        if opens and closes and closes <= opens:
            self.add_error("registration_closes_at", _("Registration must close after it opens."))
        return data

    def event_fields(self) -> dict[str, Any]:
        """Return the values the event services take (relations apart)."""
        data = self.cleaned_data
        fields = {
            name: data.get(name)
            for name in (
                "title",
                "kind",
                "mode",
                "audience",
                "description",
                "venue",
                "address",
                "livestream_url",
                "replay_url",
                "starts_at",
                "ends_at",
                "registration_opens_at",
                "registration_closes_at",
                "has_waiting_list",
                "verify_mobile",
                "questions",
                "online_min_minutes",
                "issue_number",
                "pitches_start_at",
                "pitch_minutes",
                "meetings_start_at",
                "slot_count",
                "slot_minutes",
                "table_count",
            )
        }
        for name in ("description", "venue", "address", "livestream_url", "replay_url"):
            fields[name] = fields[name] or ""
        return fields


class StatusForm(BootstrapForm):
    to = forms.ChoiceField(choices=Event.Status.choices)
    note = forms.CharField(max_length=300, required=False)


class AgendaItemForm(BootstrapForm):
    title = forms.CharField(label=_("Item"), max_length=120)
    starts_at = forms.DateTimeField(
        label=_("From"), widget=DateTimeInput(), required=False, input_formats=[DATETIME_FORMAT]
    )
    ends_at = forms.DateTimeField(
        label=_("To"), widget=DateTimeInput(), required=False, input_formats=[DATETIME_FORMAT]
    )
    description = forms.CharField(label=_("Description"), max_length=2000, required=False)


class SpeakerForm(BootstrapForm):
    name = forms.CharField(label=_("Speaker"), max_length=40)
    affiliation = forms.CharField(label=_("Organisation and post"), max_length=120, required=False)
    topic = forms.CharField(label=_("Topic"), max_length=120, required=False)
    agenda_item = forms.ModelChoiceField(label=_("Agenda item"), queryset=AgendaItem.objects.none(), required=False)
    account = forms.CharField(
        label=_("Account (username or mobile)"),
        max_length=40,
        required=False,
        help_text=_("A department liaison who speaks: they see the event on their home page and are told."),
    )

    def __init__(self, *args: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].queryset = items  # type: ignore[attr-defined]


class FileForm(BootstrapForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=EventFile.Kind.choices)
    file = forms.FileField(label=_("File"))
    caption = forms.CharField(label=_("Caption"), max_length=120, required=False)


class ClosingForm(BootstrapForm):
    closing_summary = forms.CharField(
        label=_("Summary"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    minutes = forms.CharField(
        label=_("Minutes"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 12})
    )


def _answer_fields(form: forms.Form, questions: list[dict[str, Any]]) -> None:
    for question in questions or []:
        key = f"answer_{question['key']}"
        if question.get("choices"):
            form.fields[key] = forms.ChoiceField(
                label=question["label"],
                required=bool(question.get("required")),
                choices=[("", "—"), *[(choice, choice) for choice in question["choices"]]],
            )
        else:
            form.fields[key] = forms.CharField(
                label=question["label"], required=bool(question.get("required")), max_length=500
            )
        # Added after BootstrapForm styled the declared fields: style these too.
        widget = form.fields[key].widget
        widget.attrs["class"] = "form-select" if isinstance(widget, forms.Select) else "form-control"


class AnswersMixin:
    cleaned_data: dict[str, Any]

    def answers(self) -> dict[str, str]:
        return {
            key.removeprefix("answer_"): str(value)
            for key, value in self.cleaned_data.items()
            if key.startswith("answer_") and value
        }


class PublicRegistrationForm(AnswersMixin, BootstrapForm):
    """Register for a public event without an account: name, mobile (checked by a code), company, position."""

    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=40)
    mobile = forms.CharField(
        label=_("Mobile"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    company = forms.CharField(label=_("Company"), max_length=120, required=False)
    position = forms.CharField(label=_("Position"), max_length=60, required=False)
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=40, required=False)

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not event.verify_mobile:
            del self.fields["code"]
        _answer_fields(self, event.questions)
        if not self.is_bound:  # a sent form brings its own key
            self.fields["submission_key"].initial = uuid.uuid4().hex
        self.order_fields(["name", "mobile", "code", "company", "position"])


class MemberRegistrationForm(AnswersMixin, BootstrapForm):
    """Register with one's account: only the event's questions are asked."""

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _answer_fields(self, event.questions)


class PersonRegistrationForm(AnswersMixin, BootstrapForm):
    """Register someone else: the event's staff anyone, an enterprise contact their colleagues."""

    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=40)
    mobile = forms.CharField(label=_("Mobile"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    company = forms.CharField(label=_("Company"), max_length=120, required=False)
    position = forms.CharField(label=_("Position"), max_length=60, required=False)

    def __init__(self, *args: Any, event: Event, with_company: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_company:
            del self.fields["company"]
        _answer_fields(self, event.questions)


class CheckInForm(BootstrapForm):
    ticket = forms.CharField(
        label=_("Ticket code"),
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "ABCD-EFGH-JKMN",
            }
        ),
    )


class UploadForm(BootstrapForm):
    file = forms.FileField(label=_("Attendee export (xlsx or csv)"))


class MappingForm(BootstrapForm):
    """Map the columns of an attendee export to name, mobile, joined at, left at and duration."""

    def __init__(self, *args: Any, headers: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —")), *[(header, header) for header in headers]]
        for field, label in FIELDS:
            self.fields[field] = forms.ChoiceField(label=label, choices=choices, required=False)
            self.fields[field].widget.attrs["class"] = "form-select"

    def mapping(self) -> dict[str, str]:
        return {field: self.cleaned_data.get(field) or "" for field, _label in FIELDS}


class TotalsForm(BootstrapForm):
    organization = forms.ModelChoiceField(
        label=_("Organisation (with those under it)"),
        queryset=Organization.objects.none(),
        required=False,
    )
    series = forms.ModelChoiceField(label=_("Series"), queryset=EventSeries.objects.none(), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, organizations: Any, series: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations  # type: ignore[attr-defined]
        self.fields["series"].queryset = series  # type: ignore[attr-defined]


class FeedbackForm(BootstrapForm):
    RATINGS = [(str(n), str(n)) for n in range(5, 0, -1)]
    overall = forms.TypedChoiceField(label=_("Overall"), choices=RATINGS, coerce=int, widget=forms.RadioSelect)
    content = forms.TypedChoiceField(label=_("Content"), choices=RATINGS, coerce=int, widget=forms.RadioSelect)
    organisation = forms.TypedChoiceField(
        label=_("Organisation"), choices=RATINGS, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- matchmaking -------------------------------------------------------------------------------------------------


def slot_choices(event: Event) -> list[tuple[int, str]]:
    """Return the meeting slots of an event as choices (number and start time)."""
    choices = []
    for slot in range(event.slot_count):
        start = slot_start(event, slot)
        label = timezone.localtime(start).strftime("%H:%M") if start else str(slot + 1)
        choices.append((slot, f"{slot + 1} · {label}"))
    return choices


class ParticipantForm(BootstrapForm):
    pitch_title = forms.CharField(label=_("Pitch (what your enterprise presents)"), max_length=120, required=False)
    unavailable_slots = forms.TypedMultipleChoiceField(
        label=_("Slots you cannot meet in"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unavailable_slots"].choices = slot_choices(event)  # type: ignore[attr-defined]


class JoinForm(ParticipantForm):
    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=Enterprise.objects.none(), empty_label=None)

    def __init__(self, *args: Any, enterprises: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises  # type: ignore[attr-defined]
        self.order_fields(["enterprise"])


class MeetingRequestForm(BootstrapForm):
    reason = forms.CharField(label=_("Why meet"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    listing = forms.IntegerField(required=False, widget=forms.HiddenInput)


class AnswerForm(BootstrapForm):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PlaceForm(BootstrapForm):
    slot = forms.IntegerField(label=_("Slot"), min_value=1, max_value=1000)
    table = forms.IntegerField(label=_("Table"), min_value=1, max_value=100_000)


class OutcomeForm(BootstrapForm):
    held = forms.BooleanField(label=_("The meeting took place"), required=False, initial=True)
    result = forms.ChoiceField(label=_("Result"), choices=MeetingOutcome.Result.choices)
    deal_amount = forms.DecimalField(
        label=_("Deal amount (yuan)"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
