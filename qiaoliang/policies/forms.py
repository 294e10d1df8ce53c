"""Forms of policies: the document, its import, support items, rules, enterprise figures and honours, questions."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiaoliang.core.forms import BootstrapForm
from qiaoliang.core.permissions import CHANGE
from qiaoliang.orgs.models import Department, Organization
from qiaoliang.policies import honour_rules
from qiaoliang.policies.facts import ENTERED_FIELDS
from qiaoliang.policies.models import Clause, Policy, PolicyQuestion, SupportItem

DATE = forms.DateInput(attrs={"type": "date"})
MAX_PASTE = 500_000
MAX_EXPRESSION = 100_000


def managed_organizations(user: Any) -> Any:
    return Organization.objects.for_user(user, CHANGE).order_by("path")


class PolicyForm(BootstrapForm):
    organization = forms.ModelChoiceField(label=_("Library of"), queryset=Organization.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    issuer = forms.CharField(label=_("Issuing body"), max_length=200, required=False)
    document_number = forms.CharField(label=_("Document number"), max_length=80, required=False,
                                      help_text=_("e.g. 温政发〔2020〕57号"))  # fmt: skip
    level = forms.ChoiceField(label=_("Level"), choices=Policy.Level.choices)
    department = forms.ModelChoiceField(
        label=_("Answering department"), queryset=Department.objects.filter(is_active=True), required=False,
        help_text=_("Its liaisons answer questions on the policy; without one, your organisation's staff do."),
    )  # fmt: skip
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=DATE)
    effective_from = forms.DateField(label=_("Effective from"), required=False, widget=DATE)
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=DATE)
    source_url = forms.URLField(label=_("Source link"), required=False, max_length=500, assume_scheme="https")
    summary = forms.CharField(label=_("Policy summary"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    full_text = forms.CharField(label=_("Full text"), required=False, max_length=200_000,
                                widget=forms.Textarea(attrs={"rows": 10}))  # fmt: skip
    resplit = forms.BooleanField(label=_("Split the text into clauses again"), required=False)

    def __init__(self, *args: Any, user: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = managed_organizations(user)
        if editing:
            del self.fields["organization"]
        else:
            del self.fields["resplit"]

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("organization", None)
        data.pop("resplit", None)
        return data


class ImportForm(BootstrapForm):
    organization = forms.ModelChoiceField(label=_("Library of"), queryset=Organization.objects.none())
    text = forms.CharField(label=_("Pasted text"), required=False, max_length=MAX_PASTE,
                           widget=forms.Textarea(attrs={"rows": 10}))  # fmt: skip
    html = forms.CharField(label=_("Pasted HTML (a saved web page's source)"), required=False, max_length=MAX_PASTE,
                           widget=forms.Textarea(attrs={"rows": 4}))  # fmt: skip
    docx = forms.FileField(label=_("Word document (.docx)"), required=False,
                           widget=forms.ClearableFileInput(attrs={"accept": ".docx"}))  # fmt: skip

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = managed_organizations(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [name for name in ("text", "html", "docx") if data.get(name)]
        if len(given) != 1:
            raise ValidationError(_("Give the policy as pasted text, as HTML or as a .docx file (one of them)."))
        return data


class ItemForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    benefit = forms.CharField(label=_("What is given"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    max_amount = forms.CharField(label=_("Maximum amount"), required=False, max_length=30,
                                 help_text=_("e.g. 50万元; converted to yuan."))  # fmt: skip
    how_to_apply = forms.CharField(label=_("How to apply"), required=False, max_length=2000,
                                   widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    window_opens = forms.DateField(label=_("Application window opens"), required=False, widget=DATE)
    window_closes = forms.DateField(label=_("Application window closes"), required=False, widget=DATE)
    contact_department = forms.ModelChoiceField(label=_("Contact department"), required=False,
                                                queryset=Department.objects.filter(is_active=True))  # fmt: skip
    contact = forms.CharField(label=_("Contact"), required=False, max_length=120)
    delivery = forms.ChoiceField(label=_("Delivery"), choices=SupportItem.Delivery.choices)
    clause = forms.ModelChoiceField(label=_("Source clause"), required=False, queryset=Clause.objects.none())

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if policy is not None:
            field = cast(forms.ModelChoiceField, self.fields["clause"])
            field.queryset = policy.clauses.filter(is_heading=False).order_by("position")
            field.label_from_instance = lambda c: f"{c.position}. {c.text[:60]}"  # type: ignore[method-assign,assignment]


class RuleForm(BootstrapForm):
    expression = forms.CharField(
        label=_("Conditions (JSON)"), max_length=MAX_EXPRESSION,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
        help_text=_('{"all": [[condition, …], …]}: every group must hold; a group holds when one of its '
                    "conditions does."),
    )  # fmt: skip
    effective_from = forms.DateField(label=_("Effective from"), required=False, widget=DATE)
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def clean_expression(self) -> Any:
        try:
            return json.loads(self.cleaned_data["expression"])
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("The conditions are not valid JSON (line %(line)s, column %(column)s)."),
                params={"line": exc.lineno, "column": exc.colno},
            ) from exc


class TestCaseForm(BootstrapForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    facts = forms.CharField(label=_("Facts (JSON)"), max_length=20_000,
                            widget=forms.Textarea(attrs={"rows": 5, "class": "font-monospace"}))  # fmt: skip
    expected = forms.ChoiceField(label=_("Expected decision"), choices=[("eligible", _("Eligible")),
                                                                       ("ineligible", _("Not eligible")),
                                                                       ("needs_data", _("Needs data"))])  # fmt: skip
    as_of = forms.DateField(label=_("Reference day"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("The day the case is answered on (上年度 is the year before it); "
                                        "today when left empty."))  # fmt: skip

    def clean_facts(self) -> Any:
        try:
            value = json.loads(self.cleaned_data["facts"])
        except json.JSONDecodeError as exc:
            raise ValidationError(_("The facts are not valid JSON.")) from exc
        if not isinstance(value, dict):
            raise ValidationError(_("The facts must be a JSON object."))
        return value


def form_errors(form: forms.BaseForm) -> str:
    """A form's errors as one message line, each after its field's label (for a POST answered with a redirect
    and a message): 年度：此项为必填项。"""
    parts: list[str] = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = f"{field.label}：" if field is not None and field.label and name != "__all__" else ""
        parts.extend(f"{label}{error}" for error in errors)
    return "；".join(parts)


def fact_field_choices() -> list[tuple[str, Any]]:
    return [(f.code, f.label) for f in ENTERED_FIELDS]


class FactForm(BootstrapForm):
    field = forms.ChoiceField(label=_("Figure"), choices=fact_field_choices)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=1980, max_value=2100,
                              help_text=_("For yearly figures (revenue, tax, R&D, employees …)."))  # fmt: skip
    value = forms.CharField(label=_("Value"), max_length=40, help_text=_("With its unit: 2000万元, 0.2亿元, 35人, 5%."))
    evidence = forms.FileField(
        label=_("Evidence (PDF or image, optional)"), required=False,
        help_text=_("An audit report, a tax statement or a social insurance list that shows the figure."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )  # fmt: skip


class DeclarationForm(BootstrapForm):
    key = forms.CharField(label=_("Statement"), max_length=120)
    value = forms.ChoiceField(label=_("Declared"), choices=[("是", _("Yes")), ("否", _("No"))])


class HonourForm(BootstrapForm):
    code = forms.ChoiceField(label=_("Honour or qualification"))
    issuer = forms.CharField(label=pgettext_lazy("honour", "Issuing body"), max_length=120, required=False)
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=60, required=False)
    awarded_on = forms.DateField(label=_("Awarded on"), required=False, widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=DATE)
    certificate = forms.FileField(
        label=_("Certificate (PDF or image)"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["code"]).choices = honour_rules.choices()


class QuestionForm(BootstrapForm):
    question = forms.CharField(label=_("Your question"), min_length=5, max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    complexity = forms.ChoiceField(label=_("Kind"), choices=PolicyQuestion.Complexity.choices)


class AnswerForm(BootstrapForm):
    answer = forms.CharField(label=_("Answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    in_faq = forms.BooleanField(label=_("Show in the FAQ (without the enterprise's name)"), required=False,
                                initial=True)  # fmt: skip
