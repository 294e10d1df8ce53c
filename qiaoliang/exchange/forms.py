"""Forms of the exchange UI: they parse and check input; the services do the writing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiaoliang.core.forms import BootstrapForm, CodeFieldsMixin, DateInput, industry_section_choices, region_choices
from qiaoliang.exchange.models import Category, Direction, Listing, Match
from qiaoliang.orgs.models import Enterprise, Organization, Person


def _blank(label: Any) -> list[tuple[str, Any]]:
    return [("", label)]


class BoardFilterForm(BootstrapForm):
    """Render the board's search box and filters (the query itself comes from BoardFilters)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Products, services, skills…"), "autocomplete": "off"}
        ),
    )
    direction = forms.ChoiceField(
        label=_("Offer or need"), required=False, choices=_blank(_("Offers and needs")) + Direction.choices
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_blank(_("Any category")) + Category.choices
    )
    industry = forms.ChoiceField(label=_("Industry"), required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)
    organization = forms.ChoiceField(label=_("Organisation"), required=False)
    urgent = forms.BooleanField(label=_("Urgent only"), required=False)

    def __init__(self, *args: Any, organizations: list[Organization], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["industry"].choices = _blank(_("Any industry")) + industry_section_choices()  # type: ignore[attr-defined]
        self.fields["region"].choices = _blank(_("Any region")) + region_choices()  # type: ignore[attr-defined]
        self.fields["organization"].choices = _blank(_("Any organisation")) + [  # type: ignore[attr-defined]
            (str(org.pk), "\u3000" * org.depth + org.display_name) for org in organizations
        ]


class ListingForm(CodeFieldsMixin, BootstrapForm):
    """An offer or need with every field the services take."""

    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=Enterprise.objects.none())
    direction = forms.ChoiceField(label=_("Offer or need"), choices=Direction.choices, widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    title = forms.CharField(label=_("Title"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    industry_code = forms.CharField(
        label=_("Industry code"),
        max_length=40,
        required=False,
        help_text=_("GB/T 4754-2017 code or name, for example 2652 or 旅行社."),
    )
    region_code = forms.CharField(
        label=_("Region code"),
        max_length=60,
        required=False,
        help_text=_("GB/T 2260 code or name, for example 110105 or 杭州市西湖区."),
    )
    service_area = forms.CharField(
        label=_("Service area"), max_length=120, required=False, help_text=_("For example 全国发货 or 仅限北京市内.")
    )
    quantity = forms.DecimalField(label=_("Quantity"), required=False, min_value=0, max_digits=14, decimal_places=2)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False)
    price_min = forms.DecimalField(
        label=_("Price or budget from (yuan)"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    price_max = forms.DecimalField(
        label=_("Price or budget to (yuan)"), required=False, min_value=0, max_digits=16, decimal_places=2
    )
    price_text = forms.CharField(
        label=_("Price or budget in words"), max_length=40, required=False, help_text=_("For example 面议.")
    )
    valid_until = forms.DateField(label=_("Valid until"), widget=DateInput())
    contact_person = forms.ModelChoiceField(label=_("Contact person"), queryset=Person.objects.none(), required=False)
    contact_visibility = forms.ChoiceField(
        label=_("Who may see the contact"),
        choices=Listing.ContactVisibility.choices,
        initial=Listing.ContactVisibility.MATCHED,
    )
    is_urgent = forms.BooleanField(label=_("Urgent"), required=False)

    FIELDS = [
        "direction", "category", "title", "description", "industry", "region", "service_area", "quantity", "unit",
        "price_min", "price_max", "price_text", "valid_until", "contact_person", "contact_visibility", "is_urgent",
    ]  # fmt: skip
    # Service error codes → the form field that shows them (others go on top of the form).
    ERROR_FIELDS = {"expired": "valid_until", "price": "price_max", "industry": "industry_code",
                    "region": "region_code"}  # fmt: skip

    def __init__(
        self, *args: Any, enterprises: Any = None, people: Any = None, listing: Listing | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.listing = listing
        self.only_enterprise: Enterprise | None = None
        enterprise_field = self.fields["enterprise"]
        assert isinstance(enterprise_field, forms.ModelChoiceField)
        if listing is not None or enterprises is None:
            del self.fields["enterprise"]
        else:
            enterprise_field.queryset = enterprises
            first_two = list(enterprises[:2])
            if len(first_two) == 1:  # an enterprise contact posts for its own enterprise: nothing to choose
                self.only_enterprise = first_two[0]
                enterprise_field.initial = first_two[0].pk
                enterprise_field.required = False
                enterprise_field.widget = forms.HiddenInput()
        person_field = self.fields["contact_person"]
        assert isinstance(person_field, forms.ModelChoiceField)
        if people is not None:
            person_field.queryset = people
            person_field.label_from_instance = self._person_label  # type: ignore[method-assign,assignment]
        self.fields["direction"].widget.attrs["class"] = "form-check-input"

    def clean_enterprise(self) -> Enterprise | None:
        return self.cleaned_data.get("enterprise") or self.only_enterprise

    @staticmethod
    def _person_label(person: Person) -> str:
        return f"{person.name} · {person.job_title}" if person.job_title else person.name

    def clean_valid_until(self) -> Any:
        value = self.cleaned_data.get("valid_until")
        if value and value < timezone.localdate():
            raise forms.ValidationError(_("The date has passed; choose a date from today on."), code="expired")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and high < low:
            self.add_error("price_max", _("The upper price or budget is below the lower one."))
        person = data.get("contact_person")
        enterprise = data.get("enterprise") or getattr(self.listing, "enterprise", None)
        if person is not None and enterprise is not None and person.enterprise_id != enterprise.pk:
            self.add_error("contact_person", _("The contact person must work for the enterprise."))
        return data

    def listing_fields(self) -> dict[str, Any]:
        """Return the cleaned listing as the keyword arguments the services take."""
        data = self.cleaned_data
        values = {
            "direction": data["direction"],
            "category": data["category"],
            "title": data["title"].strip(),
            "description": data["description"].strip(),
            "industry": data["industry_code"],
            "region": data["region_code"],
            "service_area": data["service_area"].strip(),
            "quantity": data["quantity"],
            "unit": data["unit"].strip(),
            "price_min": data["price_min"],
            "price_max": data["price_max"],
            "price_text": data["price_text"].strip(),
            "valid_until": data["valid_until"],
            "contact_person": data["contact_person"],
            "contact_visibility": data["contact_visibility"],
            "is_urgent": data["is_urgent"],
        }
        return values

    @classmethod
    def initial_from_enterprise(cls, enterprise: Enterprise) -> dict[str, Any]:
        """Return a new listing's defaults from the enterprise's profile (industry and region)."""
        return {"industry_code": enterprise.industry_id or "", "region_code": enterprise.region_id or ""}

    @classmethod
    def initial_for(cls, listing: Listing) -> dict[str, Any]:
        """Return the form's initial values for an existing listing."""
        initial = {name: getattr(listing, name) for name in cls.FIELDS if name not in {"industry", "region"}}
        initial["industry_code"] = listing.industry_id or ""
        initial["region_code"] = listing.region_id or ""
        initial["contact_person"] = listing.contact_person_id
        return initial


class AttachmentForm(BootstrapForm):
    """One file for a listing (the service checks its type and size)."""

    file = forms.FileField(label=_("File"), help_text=_("PDF, JPG, PNG, DOCX or XLSX, at most 10 MB."))


class ReviewForm(BootstrapForm):
    """A reviewer's decision on a pending listing (a note is required to return it; the service says so)."""

    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class AmountField(forms.DecimalField):
    """An amount typed in yuan or 万元 (the unit comes from a sibling field); bounded before conversion."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, max_digits=20, decimal_places=4, **kwargs)


UNIT_YUAN = "yuan"
UNIT_WAN = "wan"
AMOUNT_UNITS = [(UNIT_WAN, _("ten thousand yuan")), (UNIT_YUAN, _("yuan"))]


def in_yuan(amount: Decimal | None, unit: str) -> Decimal | None:
    """Return an amount converted to yuan (the service checks it fits its column)."""
    if amount is None:
        return None
    return Decimal(amount) * 10000 if unit == UNIT_WAN else Decimal(amount)


class MessageForm(BootstrapForm):
    """One message in a match's conversation."""

    body = forms.CharField(label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class DealForm(BootstrapForm):
    """Propose a deal: amount in yuan or 万元 and the date."""

    deal_amount = AmountField(label=_("Deal amount"))
    amount_unit = forms.ChoiceField(label=_("Unit"), choices=AMOUNT_UNITS, initial=UNIT_WAN)
    deal_date = forms.DateField(label=_("Deal date"), widget=DateInput())

    def amount_in_yuan(self) -> Decimal | None:
        return in_yuan(self.cleaned_data.get("deal_amount"), self.cleaned_data.get("amount_unit", UNIT_WAN))


class DeclineForm(BootstrapForm):
    """Decline a match, or withdraw a proposed deal, with a reason."""

    reason = forms.CharField(label=_("Reason"), max_length=300)


class MatchStatusForm(BootstrapForm):
    """Move a match by its target status (older clients and the one-button flows): the service decides what the
    move means for the user's side (agree to talk, propose or confirm a deal, decline)."""

    to_status = forms.ChoiceField(label=_("New status"), choices=Match.Status.choices, widget=forms.HiddenInput)
    deal_amount = AmountField(label=_("Deal amount"), required=False)
    amount_unit = forms.ChoiceField(label=_("Unit"), choices=AMOUNT_UNITS, initial=UNIT_WAN, required=False)
    deal_date = forms.DateField(label=_("Deal date"), required=False, widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def amount_in_yuan(self) -> Decimal | None:
        return in_yuan(self.cleaned_data.get("deal_amount"), self.cleaned_data.get("amount_unit") or UNIT_WAN)


class IntroduceForm(BootstrapForm):
    """Introduce a need and an offer picked from searches (their ids come from the chosen results)."""

    need = forms.IntegerField(label=_("Need"), min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    offer = forms.IntegerField(label=_("Offer"), min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note to both enterprises"), max_length=300, required=False)


class EmergencyBoardForm(BootstrapForm):
    """Open an emergency board for one category."""

    name = forms.CharField(label=_("Name"), max_length=80)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.MATERIAL)
    keywords = forms.CharField(
        label=_("Keywords"), max_length=300, required=False, help_text=_("Space-separated products, e.g. 口罩 防护服.")
    )


class CapacityForm(BootstrapForm):
    """Declare stock and daily capacity of a product on an emergency board."""

    enterprise = forms.ModelChoiceField(label=_("Enterprise"), queryset=Enterprise.objects.none())
    product = forms.CharField(label=_("Product"), max_length=80)
    stock = forms.DecimalField(label=_("Stock"), min_value=0, max_digits=14, decimal_places=2)
    daily_capacity = forms.DecimalField(label=_("Daily capacity"), min_value=0, max_digits=14, decimal_places=2)
    unit = forms.CharField(label=_("Unit"), max_length=20)

    def __init__(self, *args: Any, enterprises: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["enterprise"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = enterprises
