"""Quantities as policies write them ("2000万元", "1亿美元", "5%", "3年"), converted exactly to a base unit.

Every fact and every rule value is stored in its dimension's base unit (yuan, persons, shares, square metres,
years, percent) as a `Decimal`, so "大于等于2000万元" against a revenue entered as "0.2亿元" compares
20,000,000 with 20,000,000: no floating point anywhere. Foreign currencies convert at the rate in
`data/exchange_rates.csv` (dated, with its source), never at a rate fetched at run time; a rule written in
万美元 records the rate it was converted at.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.text import normalize_text

DATA = Path(__file__).resolve().parent / "data"


class Dimension(StrEnum):
    MONEY = "money"  # base: yuan
    COUNT = "count"  # base: persons / items
    SHARES = "shares"  # base: shares
    AREA = "area"  # base: square metres
    YEARS = "years"  # base: years (months are twelfths)
    PERCENT = "percent"  # base: percent points
    NUMBER = "number"  # a plain number


BASE_UNIT = {
    Dimension.MONEY: "元",
    Dimension.COUNT: "人",
    Dimension.SHARES: "股",
    Dimension.AREA: "平方米",
    Dimension.YEARS: "年",
    Dimension.PERCENT: "%",
    Dimension.NUMBER: "",
}

WAN = Decimal(10_000)
YI = Decimal(100_000_000)

# unit → (dimension, factor to the base unit); currencies other than yuan are resolved through the rate table.
_UNITS: dict[str, tuple[Dimension, Decimal]] = {
    "元": (Dimension.MONEY, Decimal(1)),
    "元人民币": (Dimension.MONEY, Decimal(1)),
    "千元": (Dimension.MONEY, Decimal(1000)),
    "万元": (Dimension.MONEY, WAN),
    "万": (Dimension.MONEY, WAN),  # "2000万" in a money field
    "十万元": (Dimension.MONEY, Decimal(100_000)),
    "百万元": (Dimension.MONEY, Decimal(1_000_000)),
    "千万元": (Dimension.MONEY, Decimal(10_000_000)),
    "亿元": (Dimension.MONEY, YI),
    "亿": (Dimension.MONEY, YI),
    "人": (Dimension.COUNT, Decimal(1)),
    "名": (Dimension.COUNT, Decimal(1)),
    "个": (Dimension.COUNT, Decimal(1)),
    "家": (Dimension.COUNT, Decimal(1)),
    "项": (Dimension.COUNT, Decimal(1)),
    "件": (Dimension.COUNT, Decimal(1)),
    "万人": (Dimension.COUNT, WAN),
    "股": (Dimension.SHARES, Decimal(1)),
    "万股": (Dimension.SHARES, WAN),
    "亿股": (Dimension.SHARES, YI),
    "平方米": (Dimension.AREA, Decimal(1)),
    "平米": (Dimension.AREA, Decimal(1)),
    "㎡": (Dimension.AREA, Decimal(1)),
    "m2": (Dimension.AREA, Decimal(1)),
    "万平方米": (Dimension.AREA, WAN),
    "亩": (Dimension.AREA, Decimal(1)),  # 1 亩 = 10000/15 m²: divided exactly in to_base (_DIVIDED)
    "公顷": (Dimension.AREA, WAN),
    "年": (Dimension.YEARS, Decimal(1)),
    "周年": (Dimension.YEARS, Decimal(1)),
    "个月": (Dimension.YEARS, Decimal(1)),  # divided by 12 in to_base (_DIVIDED)
    "月": (Dimension.YEARS, Decimal(1)),
    "%": (Dimension.PERCENT, Decimal(1)),
    "％": (Dimension.PERCENT, Decimal(1)),
    "‰": (Dimension.PERCENT, Decimal("0.1")),
    "": (Dimension.NUMBER, Decimal(1)),
}

# Units whose factor is a fraction: the number is multiplied, then divided once, so "5个月" is Decimal(5) / 12 exactly
# as an age of five months is computed (a factor of 1/12 rounded first would differ in the last digit).
_DIVIDED: dict[str, tuple[Decimal, Decimal]] = {"亩": (Decimal(10_000), Decimal(15)), "个月": (Decimal(1), Decimal(12)),
                                                "月": (Decimal(1), Decimal(12))}  # fmt: skip

# Currency units: 美元, 万美元, 亿美元, 欧元, 万欧元, 港元 … → (currency code, multiplier).
_CURRENCY_RE = re.compile(r"^(千|万|百万|千万|亿)?(美元|美金|欧元|港元|港币|日元|英镑)$")
_CURRENCY_CODES = {
    "美元": "USD",
    "美金": "USD",
    "欧元": "EUR",
    "港元": "HKD",
    "港币": "HKD",
    "日元": "JPY",
    "英镑": "GBP",
}
_MULTIPLIERS = {None: Decimal(1), "千": Decimal(1000), "万": WAN, "百万": Decimal(1_000_000),
                "千万": Decimal(10_000_000), "亿": YI}  # fmt: skip

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_QUANTITY_RE = re.compile(
    r"^(?P<sign>[-−负]?)(?P<number>[0-9]+(?:\.[0-9]+)?|[零〇一二两三四五六七八九十百千]+)\s*(?P<unit>[^\d\s]*?(?:m2)?)$"
)
_SUFFIXES = ("及以上", "及以下", "以上", "以下", "(含)", "（含）", "含")


class UnitError(DomainError):
    """A value or unit that cannot be read or does not convert to the field's dimension."""


@dataclass(frozen=True)
class Rate:
    currency: str
    yuan: Decimal  # yuan per one unit of the currency
    as_of: str
    source: str


@lru_cache(maxsize=1)
def exchange_rates() -> dict[str, Rate]:
    rates: dict[str, Rate] = {}
    with (DATA / "exchange_rates.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rates[row["currency"]] = Rate(row["currency"], Decimal(row["yuan"]), row["as_of"], row["source"])
    return rates


def chinese_number(text: str) -> int:
    """Read 十二, 三十, 一百五十, 两千 (the small numbers policies spell out)."""
    total, current = 0, 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in "十百千":
            factor = {"十": 10, "百": 100, "千": 1000}[char]
            total += (current or 1) * factor
            current = 0
        else:
            raise ValueError(char)
    return total + current


def unit_dimension(unit: str) -> Dimension:
    unit = normalize_text(unit).replace(" ", "")
    if unit in _UNITS:
        return _UNITS[unit][0]
    if _CURRENCY_RE.match(unit):
        return Dimension.MONEY
    raise UnitError(_("Unknown unit: %(unit)s.") % {"unit": unit or "—"}, code="unit")


def to_base(number: Decimal, unit: str, dimension: Dimension) -> Decimal:
    """Convert ``number unit`` to the dimension's base unit, exactly; refuse a unit of another dimension."""
    unit = normalize_text(unit).replace(" ", "")
    if unit in _UNITS:
        unit_dim, factor = _UNITS[unit]
        if unit_dim == Dimension.NUMBER and dimension != Dimension.NUMBER:
            return number  # a bare number is read in the field's base unit
        if unit_dim != dimension and dimension != Dimension.NUMBER:
            raise UnitError(
                _("%(unit)s does not convert to %(base)s.") % {"unit": unit, "base": BASE_UNIT[dimension] or "—"},
                code="unit",
            )
        if unit in _DIVIDED:
            multiplier, divisor = _DIVIDED[unit]
            return number * multiplier / divisor
        return number * factor
    match = _CURRENCY_RE.match(unit)
    if match:
        if dimension != Dimension.MONEY:
            raise UnitError(
                _("%(unit)s does not convert to %(base)s.") % {"unit": unit, "base": BASE_UNIT[dimension] or "—"},
                code="unit",
            )
        code = _CURRENCY_CODES[match.group(2)]
        rate = exchange_rates().get(code)
        if rate is None:
            raise UnitError(_("No exchange rate for %(currency)s.") % {"currency": code}, code="unit")
        return number * _MULTIPLIERS[match.group(1)] * rate.yuan
    raise UnitError(_("Unknown unit: %(unit)s.") % {"unit": unit or "—"}, code="unit")


_BARE_NUMBER_RE = re.compile(r"[-+−负]?[0-9,，]*\.?[0-9]+")


def is_bare_number(text: str) -> bool:
    """A number written without a unit ("3500", "-1,200.5", full-width digits too): for money, 元 or 万元 is a guess
    that callers must not make."""
    return bool(_BARE_NUMBER_RE.fullmatch(normalize_text(str(text)).replace(" ", "")))


def parse_quantity(text: str, dimension: Dimension) -> Decimal:
    """Read "2000万元", "1.5亿", "5%", "三年", "20人" in the given dimension; return the base-unit Decimal."""
    value = normalize_text(text).replace(" ", "").replace(",", "").replace("，", "")
    for prefix in ("人民币", "rmb"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    stripped = True
    while stripped:  # "2000万元及以上", "2000万元以上（含）"
        stripped = False
        for suffix in _SUFFIXES:
            if value.endswith(suffix) and len(value) > len(suffix):
                value, stripped = value[: -len(suffix)], True
    match = _QUANTITY_RE.match(value)
    if not match:
        raise UnitError(_("%(value)s is not a quantity.") % {"value": text}, code="value")
    raw = match.group("number")
    try:
        number = Decimal(raw) if raw[0].isdigit() else Decimal(chinese_number(raw))
    except (InvalidOperation, ValueError) as exc:
        raise UnitError(_("%(value)s is not a quantity.") % {"value": text}, code="value") from exc
    if not number.is_finite():
        raise UnitError(_("%(value)s is not a quantity.") % {"value": text}, code="value")
    if match.group("sign"):
        number = -number
    return to_base(number, match.group("unit"), dimension)


def format_quantity(value: Decimal, dimension: Dimension) -> str:
    """Write a base-unit value back the way a policy would (万元 / 亿元 for money)."""
    if dimension == Dimension.MONEY:
        if abs(value) >= YI and (value % (YI / 100)) == 0:
            return f"{format((value / YI).normalize(), 'f')}亿元"
        if abs(value) >= WAN:
            return f"{format((value / WAN).quantize(Decimal('0.0001')).normalize(), 'f')}万元"
        return f"{format(value.normalize(), 'f')}元"
    if dimension == Dimension.YEARS and value < 1 and value > 0:
        return f"{format((value * 12).quantize(Decimal('0.01')).normalize(), 'f')}个月"
    return f"{format(value.normalize(), 'f')}{BASE_UNIT[dimension]}"
