"""Forms of the roster UI: they parse and check input; the services do the writing."""

from __future__ import annotations

from functools import cache
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.codes import normalize_uscc
from qiaoliang.core.forms import BootstrapForm, CodeFieldsMixin, DateInput, industry_section_choices, region_choices
from qiaoliang.core.models import Industry
from qiaoliang.core.widgets import FastSelect, FixedChoices
from qiaoliang.orgs.models import MAX_EMPLOYEES, Enterprise, Membership, Organization


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


@cache
def _region_filter_choices() -> FixedChoices:
    """The region filter's options, built and rendered once per process (see FixedChoices)."""
    return FixedChoices(_blank(_("Any region")) + region_choices())


class DirectoryFilterForm(BootstrapForm):
    """Render the directory's search box and filters (the query itself comes from DirectoryFilters)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, pinyin initials or credit code"), "autocomplete": "off"}
        ),
    )
    industry = forms.ChoiceField(label=_("Industry"), required=False, widget=FastSelect)
    region = forms.ChoiceField(label=_("Region"), required=False, widget=FastSelect)
    size = forms.ChoiceField(
        label=_("Size"), required=False, widget=FastSelect, choices=_blank(_("Any size")) + Enterprise.Size.choices
    )
    organization = forms.ChoiceField(label=_("Organisation"), required=False, widget=FastSelect)
    level = forms.ChoiceField(
        label=_("Member level"),
        required=False,
        widget=FastSelect,
        choices=_blank(_("Any level")) + Membership.Level.choices,
    )
    status = forms.ChoiceField(
        label=_("Membership status"),
        required=False,
        widget=FastSelect,
        choices=_blank(_("Any status")) + Membership.Status.choices,
    )

    def __init__(self, *args: Any, organizations: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        industry_choices: list[tuple[str, Any]] = _blank(_("Any industry")) + industry_section_choices()
        current = str(self.data.get("industry") or "").strip().upper()
        if current and current not in {code for code, _label in industry_choices}:
            # A division or class code typed into the address bar stays selectable.
            industry = Industry.objects.filter(code=current).first()
            industry_choices.append((current, str(industry) if industry else current))
        self.fields["industry"].choices = industry_choices  # type: ignore[attr-defined]
        self.fields["region"].choices = _region_filter_choices()  # type: ignore[attr-defined]
        self.fields["organization"].choices = _blank(_("Any organisation")) + [  # type: ignore[attr-defined]
            (str(org.pk), "\u3000" * org.depth + org.display_name) for org in organizations
        ]


def _indented_name(organization: Organization) -> str:
    return "\u3000" * organization.depth + organization.display_name


class EnterpriseProfileForm(CodeFieldsMixin, BootstrapForm):
    """The profile fields an enterprise's editors may change."""

    name = forms.CharField(label=_("Name"), max_length=120)
    short_name = forms.CharField(label=_("Short name"), max_length=40, required=False)
    industry_code = forms.CharField(
        label=_("Industry code"),
        max_length=40,
        required=False,
        help_text=_("GB/T 4754-2017 code or name, for example 6511 or 软件开发."),
    )
    region_code = forms.CharField(
        label=_("Region code"),
        max_length=60,
        required=False,
        help_text=_("GB/T 2260 code or name, for example 110105 or 杭州市西湖区."),
    )
    size = forms.ChoiceField(
        label=_("Size"), required=False, widget=FastSelect, choices=_blank("—") + Enterprise.Size.choices
    )
    ownership = forms.ChoiceField(
        label=_("Ownership"), required=False, choices=_blank("—") + Enterprise.Ownership.choices
    )
    founded_on = forms.DateField(label=_("Founded on"), required=False, widget=DateInput())
    employees = forms.IntegerField(label=_("Employees"), required=False, min_value=0, max_value=MAX_EMPLOYEES)
    main_business = forms.CharField(label=_("Main business"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    address = forms.CharField(label=_("Address"), max_length=200, required=False)

    def profile_changes(self) -> dict[str, Any]:
        """Return the cleaned profile as the keyword arguments the services take."""
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "short_name": data["short_name"].strip(),
            "industry": data["industry_code"],
            "region": data["region_code"],
            "size": data["size"],
            "ownership": data["ownership"],
            "founded_on": data["founded_on"],
            "employees": data["employees"],
            "main_business": data["main_business"].strip(),
            "website": data["website"],
            "address": data["address"].strip(),
        }

    @classmethod
    def initial_for(cls, enterprise: Enterprise) -> dict[str, Any]:
        """Return the form's initial values for an existing enterprise."""
        initial = {name: getattr(enterprise, name) for name in cls.base_fields if hasattr(enterprise, name)}
        initial["industry_code"] = enterprise.industry_id or ""
        initial["region_code"] = enterprise.region_id or ""
        return initial


class EnterpriseCreateForm(EnterpriseProfileForm):
    """A new member enterprise and its first membership."""

    uscc = forms.CharField(
        label=_("Unified social credit code"),
        max_length=40,
        help_text=_("18 characters; the last one is a check character."),
    )
    organization = forms.ModelChoiceField(label=_("Organisation"), queryset=Organization.objects.none())
    level = forms.ChoiceField(
        label=_("Member level"), choices=Membership.Level.choices, initial=Membership.Level.MEMBER
    )
    joined_on = forms.DateField(label=_("Joined on"), required=False, widget=DateInput())

    field_order = ["uscc", "name", "short_name", "organization", "level", "joined_on"]

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization_field = self.fields["organization"]
        assert isinstance(organization_field, forms.ModelChoiceField)
        organization_field.queryset = organizations
        organization_field.label_from_instance = _indented_name  # type: ignore[method-assign,assignment]

    def clean_uscc(self) -> str:
        return normalize_uscc(self.cleaned_data["uscc"])


class EnterpriseEditForm(EnterpriseProfileForm):
    """An existing enterprise's profile (the credit code never changes)."""

    is_active = forms.BooleanField(label=_("Active"), required=False)

    def profile_changes(self) -> dict[str, Any]:
        return {**super().profile_changes(), "is_active": self.cleaned_data["is_active"]}


class OrganizationForm(CodeFieldsMixin, BootstrapForm):
    """An organisation's details (its place in the tree is changed in the back office)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    short_name = forms.CharField(label=_("Short name"), max_length=40, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Organization.Kind.choices)
    chamber_kind = forms.ChoiceField(
        label=_("Chamber kind"),
        required=False,
        choices=Organization.ChamberKind.choices,
        help_text=_("Only for chambers of commerce."),
    )
    founded_on = forms.DateField(label=_("Founded on"), required=False, widget=DateInput())
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    region_code = forms.CharField(label=_("Region"), max_length=60, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=40, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") != Organization.Kind.CHAMBER and data.get("chamber_kind"):
            self.add_error("chamber_kind", _("Only a chamber of commerce has a chamber kind."))
        return data

    def changes(self) -> dict[str, Any]:
        """Return the cleaned details as the keyword arguments update_organization takes."""
        data = dict(self.cleaned_data)
        data["region"] = data.pop("region_code")
        for key in ("name", "short_name", "address", "contact_name", "contact_phone", "description"):
            data[key] = data[key].strip()
        return data

    @classmethod
    def initial_for(cls, organization: Organization) -> dict[str, Any]:
        """Return the form's initial values for an organisation."""
        initial = {name: getattr(organization, name) for name in cls.base_fields if hasattr(organization, name)}
        initial["region_code"] = organization.region_id or ""
        return initial


class ApplicationForm(CodeFieldsMixin, BootstrapForm):
    """An enterprise's membership application: who it is, whom to contact, the licence, where it applies."""

    organization = forms.ModelChoiceField(label=_("Organisation to join"), queryset=Organization.objects.none(),
                                          widget=FastSelect)  # fmt: skip
    name = forms.CharField(label=_("Enterprise name"), max_length=120)
    uscc = forms.CharField(label=_("Unified social credit code"), max_length=30,
                           help_text=_("18 characters, as printed on the business licence."))  # fmt: skip
    industry_code = forms.CharField(label=_("Industry code"), max_length=40, required=False,
                                    help_text=_("GB/T 4754-2017 code; type a word to search."))  # fmt: skip
    region_code = forms.CharField(label=_("Region code"), max_length=60, required=False,
                                  help_text=_("GB/T 2260 code; type a place name to search."))  # fmt: skip
    size = forms.ChoiceField(label=_("Size"), required=False, choices=_blank("—") + Enterprise.Size.choices)
    ownership = forms.ChoiceField(label=_("Ownership"), required=False,
                                  choices=_blank("—") + Enterprise.Ownership.choices)  # fmt: skip
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    main_business = forms.CharField(label=_("Main business"), max_length=2000, required=False,
                                    widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    contact_name = forms.CharField(label=_("Contact person"), max_length=40)
    contact_mobile = forms.CharField(label=_("Contact mobile"), max_length=20)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_job_title = forms.CharField(label=_("Job title"), max_length=60, required=False)
    level = forms.ChoiceField(label=_("Member level applied for"), choices=Membership.Level.choices,
                              initial=Membership.Level.MEMBER)  # fmt: skip
    statement = forms.CharField(label=_("Why we want to join"), max_length=1000, required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    licence = forms.FileField(
        label=_("Business licence"), help_text=_("A scan or photo: PDF, JPG or PNG, at most 10 MB.")
    )

    FIELDS = ("name", "size", "ownership", "address", "main_business", "contact_name", "contact_mobile",
              "contact_email", "contact_job_title", "level", "statement")  # fmt: skip

    def __init__(self, *args: Any, organizations: Any, licence_required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations
        field.label_from_instance = _indented_name  # type: ignore[method-assign,assignment]
        self.fields["licence"].required = licence_required
        self.fields["licence"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png"

    def application_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {name: data[name].strip() if isinstance(data[name], str) else data[name] for name in self.FIELDS}
        values["industry"] = data["industry_code"]
        values["region"] = data["region_code"]
        return values

    @classmethod
    def initial_for(cls, application: Any) -> dict[str, Any]:
        initial = {name: getattr(application, name) for name in cls.FIELDS}
        initial.update(
            organization=application.organization_id,
            uscc=application.uscc,
            industry_code=application.industry_id or "",
            region_code=application.region_id or "",
        )
        return initial

    @classmethod
    def initial_for_enterprise(cls, enterprise: Enterprise, organization: Organization) -> dict[str, Any]:
        """Return the initial values of an invited enterprise's application, from its record."""
        return {
            "organization": organization.pk,
            "uscc": enterprise.uscc,
            "name": enterprise.name,
            "industry_code": enterprise.industry_id or "",
            "region_code": enterprise.region_id or "",
            "size": enterprise.size,
            "ownership": enterprise.ownership,
            "address": enterprise.address,
            "main_business": enterprise.main_business,
        }


class DecisionForm(BootstrapForm):
    """A reviewer's decision with the note the applicant reads (required to return or refuse)."""

    note = forms.CharField(label=_("Note to the applicant"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip
    level = forms.ChoiceField(label=_("Member level"), choices=Membership.Level.choices, required=False)
