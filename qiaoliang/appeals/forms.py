"""Forms of appeals: intake (by the enterprise, or recorded by staff) and the list's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from qiaoliang.appeals.models import Appeal, AppealCategory
from qiaoliang.appeals.services import MAX_ATTACHMENTS
from qiaoliang.core.codes import normalize_uscc
from qiaoliang.core.forms import BootstrapForm
from qiaoliang.orgs.models import Enterprise


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Take up to MAX_ATTACHMENTS files (each checked by the service against its type and size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_ATTACHMENTS:
            raise ValidationError(_("At most %(max)d files."), params={"max": MAX_ATTACHMENTS})
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class AppealForm(BootstrapForm):
    """An appeal as the enterprise writes it."""

    title = forms.CharField(
        label=_("Title"), max_length=120, help_text=_("One sentence: what is the difficulty?"),
        widget=forms.TextInput(attrs={"hx-get": reverse_lazy("appeals:similar"), "hx-target": "#similar-appeals",
                                      "hx-trigger": "keyup changed delay:600ms, change",
                                      "hx-include": "[name=description]"}),
    )  # fmt: skip
    description = forms.CharField(
        label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("What happened, what you have tried, what you ask for; amounts and dates help."),
    )  # fmt: skip
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, queryset=AppealCategory.objects.filter(is_active=True),
        empty_label=_("Let the federation decide"),
    )  # fmt: skip
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Appeal.Urgency.choices, initial=Appeal.Urgency.NORMAL)
    organization = forms.ChoiceField(label=_("Send to"), required=False)
    shareable = forms.BooleanField(
        label=_("It may be quoted, without our name, in reports on common problems"), required=False
    )
    attachments = MultipleFileField(
        label=_("Attachments"), required=False,
        help_text=_("Up to %(max)d files: PDF, JPG, PNG, Word or Excel.") % {"max": MAX_ATTACHMENTS},
    )  # fmt: skip

    def __init__(self, *args: Any, organizations: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(org.pk), org.name) for org in organizations or []]
        field = self.fields["organization"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        if len(choices) <= 1:
            field.widget = forms.HiddenInput()
            if choices:
                field.initial = choices[0][0]


class RecordForm(AppealForm):
    """An appeal staff record for an enterprise: which one, and where it was raised."""

    enterprise_uscc = forms.CharField(label=_("Enterprise's unified social credit code"), max_length=30)
    source = forms.ChoiceField(
        label=_("Raised at"), choices=[c for c in Appeal.Source.choices if c[0] not in ("online", "import")]
    )
    field_order = ["enterprise_uscc", "source", "title", "description", "category", "urgency", "shareable",
                   "attachments"]  # fmt: skip

    def __init__(self, *args: Any, enterprises: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("organization")
        self.enterprises = enterprises

    def clean_enterprise_uscc(self) -> Enterprise:
        try:
            uscc = normalize_uscc(self.cleaned_data.get("enterprise_uscc"))
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="uscc") from exc
        enterprise = self.enterprises.filter(uscc=uscc).first() if self.enterprises is not None else None
        if enterprise is None:
            raise ValidationError(_("No enterprise you manage has this code."), code="uscc")
        return enterprise  # type: ignore[no-any-return]


class FilterForm(BootstrapForm):
    status = forms.ChoiceField(label=_("Status"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=60)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["status"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All")), ("open", _("Open")), *Appeal.Status.choices]
