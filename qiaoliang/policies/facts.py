"""The enterprise facts eligibility rules read: one registry of fields, one snapshot per enterprise.

A field is read from the enterprise's profile (region, industry, size, ownership, founding date), from its
yearly facts (revenue, tax, R&D, employees … one value per year, entered by the enterprise and reviewed, or
imported by staff), from its honours and qualifications (codes of the vocabulary in `honours.py`), from its
declarations (statements a rule cannot compute, such as 近三年无重大违法行为, which the enterprise attests) or
derived (age in years, R&D share of revenue). Values are Decimals in the base unit of `units.Dimension`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from qiaoliang.policies.units import Dimension, parse_quantity


class Kind(StrEnum):
    NUMBER = "number"
    REGION = "region"
    INDUSTRY = "industry"
    CHOICE = "choice"
    HONOUR = "honour"
    THRESHOLD = "threshold"
    DECLARATION = "declaration"


class Source(StrEnum):
    PROFILE = "profile"
    YEARLY = "yearly"  # one value per year (EnterpriseFact with a year)
    STANDING = "standing"  # one current value (EnterpriseFact without a year)
    DERIVED = "derived"
    HONOURS = "honours"
    DECLARATIONS = "declarations"
    THRESHOLDS = "thresholds"


@dataclass(frozen=True)
class FactField:
    code: str
    label: Promise | str
    kind: Kind
    source: Source
    dimension: Dimension = Dimension.NUMBER
    choices: tuple[tuple[str, Any], ...] = ()

    @property
    def yearly(self) -> bool:
        return self.source in (Source.YEARLY, Source.DERIVED) and self.code != "age_years"

    @property
    def keyed(self) -> bool:
        """Conditions on this field name what they test in `key` (a declaration's statement, a figure's name)."""
        return self.source == Source.DECLARATIONS


SIZE_CHOICES = (("large", _("Large")), ("medium", _("Medium")), ("small", _("Small")), ("micro", _("Micro")))
OWNERSHIP_CHOICES = (
    ("state", _("State-owned")), ("private", _("Private")), ("foreign", _("Foreign-invested")),
    ("hk_mo_tw", _("Hong Kong, Macao or Taiwan invested")), ("collective", _("Collective")),
    ("mixed", _("Mixed ownership")), ("other", _("Other")),
)  # fmt: skip

FIELDS: dict[str, FactField] = {
    f.code: f
    for f in (
        FactField("region", _("registered in"), Kind.REGION, Source.PROFILE),
        FactField("industry", _("industry"), Kind.INDUSTRY, Source.PROFILE),
        FactField("size", _("size"), Kind.CHOICE, Source.PROFILE, choices=SIZE_CHOICES),
        FactField("ownership", _("ownership"), Kind.CHOICE, Source.PROFILE, choices=OWNERSHIP_CHOICES),
        FactField("age_years", _("years since founding"), Kind.NUMBER, Source.DERIVED, Dimension.YEARS),
        FactField("revenue", _("operating revenue"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField("tax", _("taxes paid"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField("rd_expense", _("R&D expenditure"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField("rd_ratio", _("R&D share of revenue"), Kind.NUMBER, Source.DERIVED, Dimension.PERCENT),
        FactField("employees", _("employees"), Kind.NUMBER, Source.YEARLY, Dimension.COUNT),
        FactField("net_profit", _("net profit"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField("export_value", _("exports"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField("output_value", _("output value"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField("trade_volume", _("trade or transaction volume"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY),
        FactField(
            "investment", _("investment (fixed assets and equipment)"), Kind.NUMBER, Source.YEARLY, Dimension.MONEY
        ),
        FactField("paid_in_capital", _("paid-in registered capital"), Kind.NUMBER, Source.STANDING, Dimension.MONEY),
        FactField("floor_area", _("floor area used"), Kind.NUMBER, Source.STANDING, Dimension.AREA),
        FactField("share_capital", _("share capital"), Kind.NUMBER, Source.STANDING, Dimension.SHARES),
        FactField("honour", _("honours and qualifications"), Kind.HONOUR, Source.HONOURS),
        FactField("threshold", _("named threshold"), Kind.THRESHOLD, Source.THRESHOLDS),
        FactField("declaration", _("declaration"), Kind.DECLARATION, Source.DECLARATIONS),
        # Figures of the application rather than the enterprise (a project's investment, a fund's size): the
        # enterprise states them for the item; the condition names the figure in `key`.
        FactField("declared_money", _("declared amount"), Kind.NUMBER, Source.DECLARATIONS, Dimension.MONEY),
        FactField("declared_number", _("declared figure"), Kind.NUMBER, Source.DECLARATIONS, Dimension.NUMBER),
    )
}

# The fields an enterprise enters as numbers, yearly or standing (the fact form and the xlsx import).
ENTERED_FIELDS = [f for f in FIELDS.values() if f.source in (Source.YEARLY, Source.STANDING)]


class FactValue(NamedTuple):  # a tuple: built a million times when a policy is computed for every enterprise
    value: Decimal
    reviewed: bool
    year: int | None = None


class HeldHonour(NamedTuple):
    code: str
    reviewed: bool
    valid_until: datetime.date | None = None


@dataclass
class Snapshot:
    """What the engine knows of one enterprise on one day."""

    enterprise_id: int
    region: str = ""  # GB/T 2260 code
    industry: str = ""  # GB/T 4754 code of any level
    industry_section: str = ""
    size: str = ""
    ownership: str = ""
    founded_on: datetime.date | None = None
    yearly: dict[str, dict[int, FactValue]] = field(default_factory=dict)
    standing: dict[str, FactValue] = field(default_factory=dict)
    honours: list[HeldHonour] = field(default_factory=list)
    declarations: dict[str, FactValue] = field(default_factory=dict)
    figures: dict[str, FactValue] = field(default_factory=dict)  # declared figures by name

    def honour_codes(self, on: datetime.date) -> list[str]:
        return [h.code for h in self.honours if h.valid_until is None or h.valid_until >= on]


def reference_year(on: datetime.date) -> int:
    """The last complete fiscal year on a day: yearly conditions without a window read this year."""
    return on.year - 1


# GB/T 4754-2017: the first two-digit division of each section (门类).
_SECTION_STARTS = [(1, "A"), (6, "B"), (13, "C"), (44, "D"), (47, "E"), (51, "F"), (53, "G"), (61, "H"), (63, "I"),
                   (66, "J"), (70, "K"), (71, "L"), (73, "M"), (76, "N"), (80, "O"), (83, "P"), (84, "Q"), (86, "R"),
                   (90, "S"), (97, "T")]  # fmt: skip


def section_of_code(code: str) -> str:
    """The section letter of a numeric GB/T 4754 code (3610 → C); '' for anything else."""
    if len(code) < 2 or not code[:2].isdigit():
        return ""
    division = int(code[:2])
    letter = ""
    for start, section in _SECTION_STARTS:
        if division >= start:
            letter = section
    return letter


def snapshot_from_json(data: dict[str, Any], enterprise_id: int = 0) -> Snapshot:
    """A snapshot from a rule test case's facts (quantities as written, e.g. "2000万元"; reviewed unless said).

    ``{"region": "330400", "industry": "C3610", "industry_section": "C", "size": "small", "founded_on":
    "2019-03-01", "yearly": {"revenue": {"2025": "2000万元"}}, "standing": {"paid_in_capital": "1亿元"},
    "honours": ["hnte.national"], "declarations": {"具有独立法人资格": true},
    "figures": {"declared_money:设备投资额": "5000万元"}}``
    """

    def quantity(code: str, text: Any) -> Decimal:
        dimension = FIELDS[code].dimension if code in FIELDS else Dimension.NUMBER
        return parse_quantity(str(text), dimension)

    industry = str(data.get("industry") or "")
    section = str(data.get("industry_section") or "")
    if industry[:1].isalpha():  # "C3610": the section letter, then the code
        section, industry = section or industry[:1].upper(), industry[1:]
    snap = Snapshot(
        enterprise_id=enterprise_id,
        region=str(data.get("region") or ""),
        industry=industry,
        industry_section=section or section_of_code(industry),
        size=str(data.get("size") or ""),
        ownership=str(data.get("ownership") or ""),
        founded_on=datetime.date.fromisoformat(data["founded_on"]) if data.get("founded_on") else None,
    )
    for code, years in (data.get("yearly") or {}).items():
        for year, text in years.items():
            snap.yearly.setdefault(code, {})[int(year)] = FactValue(quantity(code, text), True, int(year))
    for code, text in (data.get("standing") or {}).items():
        snap.standing[code] = FactValue(quantity(code, text), True)
    for code in data.get("honours") or []:
        snap.honours.append(HeldHonour(str(code), True))
    for key, flag in (data.get("declarations") or {}).items():
        snap.declarations[key] = FactValue(Decimal(1 if flag else 0), True)
    for key, text in (data.get("figures") or {}).items():
        code = key.split(":", 1)[0]
        snap.figures[key] = FactValue(quantity(code, text), True)
    return snap
