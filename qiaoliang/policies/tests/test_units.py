"""Quantities as policies write them, converted exactly to base units (`qiaoliang.policies.units`)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from qiaoliang.policies import units
from qiaoliang.policies.units import (
    Dimension,
    UnitError,
    chinese_number,
    exchange_rates,
    format_quantity,
    parse_quantity,
    to_base,
    unit_dimension,
)

MONEY = Dimension.MONEY
COUNT = Dimension.COUNT
SHARES = Dimension.SHARES
AREA = Dimension.AREA
YEARS = Dimension.YEARS
PERCENT = Dimension.PERCENT
D = Decimal


@pytest.fixture(autouse=True)
def _english() -> object:
    with translation.override("en"):
        yield


def rate(code: str) -> Decimal:
    return exchange_rates()[code].yuan


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1元", D(1)),
        ("0.01元", D("0.01")),
        ("1元人民币", D(1)),
        ("3千元", D(3000)),
        ("2000万元", D(20_000_000)),
        ("2000万", D(20_000_000)),
        ("5十万元", D(500_000)),
        ("3百万元", D(3_000_000)),
        ("2千万元", D(20_000_000)),
        ("1亿元", D(100_000_000)),
        ("1.5亿", D(150_000_000)),
        ("0.2亿元", D(20_000_000)),
        ("1999.9999万元", D(19_999_999)),
        ("2000.000001万元", D("20000000.01")),
        ("人民币2000万元", D(20_000_000)),
        ("RMB 2000万元", D(20_000_000)),
        ("2000", D(2000)),  # a bare number is read in the base unit (yuan)
        ("0", D(0)),
    ],
)
def test_money_units_convert_exactly_to_yuan(text, expected):
    value = parse_quantity(text, MONEY)
    assert isinstance(value, Decimal)
    assert value == expected


@pytest.mark.parametrize(
    ("text", "currency", "multiplier"),
    [
        ("1美元", "USD", D(1)),
        ("1美金", "USD", D(1)),
        ("100万美元", "USD", D(1_000_000)),
        ("1亿美元", "USD", D(100_000_000)),
        ("5千美元", "USD", D(5000)),
        ("3千万美元", "USD", D(30_000_000)),
        ("2百万美元", "USD", D(2_000_000)),
        ("10万欧元", "EUR", D(100_000)),
        ("100港元", "HKD", D(100)),
        ("100港币", "HKD", D(100)),
        ("1万日元", "JPY", D(10_000)),
        ("1英镑", "GBP", D(1)),
    ],
)
def test_foreign_currency_converts_at_the_recorded_rate(text, currency, multiplier):
    value = parse_quantity(text, MONEY)
    assert isinstance(value, Decimal)
    assert value == multiplier * rate(currency)


def test_exchange_rates_are_decimals_with_a_date_and_a_source():
    rates = exchange_rates()
    assert {"USD", "EUR", "HKD", "JPY", "GBP"} <= set(rates)
    for code, entry in rates.items():
        assert entry.currency == code
        assert isinstance(entry.yuan, Decimal) and entry.yuan > 0
        assert len(entry.as_of) == 10 and entry.as_of[4] == "-"
        assert entry.source
    # the table in the repository: 1 USD = 7.1 yuan, so 100万美元 is 710万元 exactly
    assert rates["USD"].yuan == D("7.1")
    assert parse_quantity("100万美元", MONEY) == D(7_100_000)


def test_a_currency_without_a_rate_is_refused(monkeypatch):
    monkeypatch.setattr(units, "exchange_rates", lambda: {})
    with pytest.raises(UnitError, match="No exchange rate for USD"):
        parse_quantity("100万美元", MONEY)


def test_money_is_exact_not_float():
    assert parse_quantity("0.2亿元", MONEY) == parse_quantity("2000万元", MONEY) == D(20_000_000)
    assert parse_quantity("0.2亿元", MONEY) == parse_quantity("20000000元", MONEY)
    # 0.1 + 0.2 in floats is 0.30000000000000004; here it is 0.3 exactly
    tenth = parse_quantity("0.1万元", MONEY)
    fifth = parse_quantity("0.2万元", MONEY)
    assert tenth + fifth == parse_quantity("0.3万元", MONEY) == D(3000)
    assert parse_quantity("1.1亿元", MONEY) == D(110_000_000)
    assert parse_quantity("0.000001亿元", MONEY) == D(100)
    # one cent above 2000万元, written in 亿元 and in 元, is the same Decimal
    assert parse_quantity("0.2000000001亿元", MONEY) == parse_quantity("20000000.01元", MONEY)
    assert parse_quantity("20000000.01元", MONEY) - parse_quantity("2000万元", MONEY) == D("0.01")
    big = parse_quantity("123456789012345.67元", MONEY)
    assert big == D("123456789012345.67")  # more digits than a float holds
    assert float(big) != big


# --------------------------------------------------------------------------- counts, shares, percent


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("20人", COUNT, D(20)),
        ("20名", COUNT, D(20)),
        ("3个", COUNT, D(3)),
        ("3家", COUNT, D(3)),
        ("5项", COUNT, D(5)),
        ("2件", COUNT, D(2)),
        ("1万人", COUNT, D(10_000)),
        ("1.2万人", COUNT, D(12_000)),
        ("300", COUNT, D(300)),
        ("500股", SHARES, D(500)),
        ("1000万股", SHARES, D(10_000_000)),
        ("1.5亿股", SHARES, D(150_000_000)),
        ("5%", PERCENT, D(5)),
        ("5％", PERCENT, D(5)),
        ("3.5%", PERCENT, D("3.5")),
        ("5‰", PERCENT, D("0.5")),
        ("60", PERCENT, D(60)),
    ],
)
def test_counts_shares_and_percent(text, dimension, expected):
    assert parse_quantity(text, dimension) == expected


# --------------------------------------------------------------------------- area


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100平方米", D(100)),
        ("100平米", D(100)),
        ("1.5万平方米", D(15_000)),
        ("2公顷", D(20_000)),
        ("15亩", D(10_000)),
        ("1.5亩", D(1000)),
        ("3亩", D(2000)),
        ("0.3亩", D(200)),
        ("0.0015亩", D(1)),
        ("150亩", D(100_000)),
    ],
)
def test_area_units(text, expected):
    assert parse_quantity(text, AREA) == expected


@pytest.mark.parametrize(("text", "expected"), [("100㎡", D(100)), ("100m2", D(100)), ("100M2", D(100)),
                                               ("1000㎡以上", D(1000))])  # fmt: skip
def test_square_metre_symbols(text, expected):
    assert parse_quantity(text, AREA) == expected


def test_mu_is_ten_thousand_fifteenths_of_a_square_metre():
    one = parse_quantity("1亩", AREA)
    assert one == D(10_000) / D(15)
    assert D("666.666") < one < D("666.667")
    # every multiple of 0.0015 亩 is a whole number of square metres, and comes out as exactly that
    for n in range(1, 2001):
        assert parse_quantity(f"{D(n) * D('0.0015')}亩", AREA) == D(n), n
    for n in range(3, 3001, 3):
        assert parse_quantity(f"{n}亩", AREA) == D(n * 2000 // 3), n
    assert parse_quantity("10亩", AREA) == parse_quantity("10亩", AREA)
    assert parse_quantity("10亩", AREA) > parse_quantity("6666.66平方米", AREA)
    assert parse_quantity("10亩", AREA) < parse_quantity("6666.67平方米", AREA)


# --------------------------------------------------------------------------- years and months


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3年", D(3)),
        ("三年", D(3)),
        ("5周年", D(5)),
        ("6个月", D("0.5")),
        ("18个月", D("1.5")),
        ("3个月", D("0.25")),
        ("12个月", D(1)),
        ("十二个月", D(1)),
        ("24月", D(2)),
        ("2", D(2)),
    ],
)
def test_years_and_months(text, expected):
    assert parse_quantity(text, YEARS) == expected


def test_months_are_the_same_twelfths_as_an_age_in_months():
    wrong = [n for n in range(1, 121) if parse_quantity(f"{n}个月", YEARS) != D(n) / D(12)]
    assert wrong == []


# --------------------------------------------------------------------------- Chinese numerals and writing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("十", 10), ("十二", 12), ("三十", 30), ("一百五十", 150), ("两千", 2000), ("三百零五", 305), ("二", 2),
     ("〇", 0), ("九千九百九十九", 9999)],
)  # fmt: skip
def test_chinese_number(text, expected):
    assert chinese_number(text) == expected


def test_chinese_number_refuses_other_characters():
    with pytest.raises(ValueError):
        chinese_number("一万")


@pytest.mark.parametrize(
    ("text", "dimension", "expected"),
    [
        ("两千万元", MONEY, D(20_000_000)),
        ("两千元", MONEY, D(2000)),
        ("二十万元", MONEY, D(200_000)),
        ("十万元", MONEY, D(100_000)),
        ("一万元", MONEY, D(10_000)),
        ("五亿元", MONEY, D(500_000_000)),
        ("一百五十人", COUNT, D(150)),
        ("三百零五人", COUNT, D(305)),
        ("三年", YEARS, D(3)),
        ("两年", YEARS, D(2)),
        ("六个月", YEARS, D("0.5")),
        ("百分之五", PERCENT, None),  # not supported: refused (see below), never misread
    ],
)
def test_chinese_numerals(text, dimension, expected):
    if expected is None:
        with pytest.raises(UnitError):
            parse_quantity(text, dimension)
    else:
        assert parse_quantity(text, dimension) == expected


@pytest.mark.parametrize(
    "text",
    ["２０００万元", "２，０００万元", "2,000万元", "2，000万元", "２０００　万元", " 2000 万元 ", "2000萬元",
     "２０００万元以上", "0.2亿元", "０．２亿元", "20,000,000元", "2000万元以上", "2000万元(含)", "2000万元（含）",
     "2000万元（含）以上", "2000万以上", "两千万元以上"],
)  # fmt: skip
def test_full_width_commas_spaces_and_suffixes(text):
    assert parse_quantity(text, MONEY) == D(20_000_000)


def test_below_suffix_is_stripped_too():
    assert parse_quantity("500万元以下", MONEY) == D(5_000_000)
    assert parse_quantity("5%以上", PERCENT) == D(5)
    assert parse_quantity("3年以上", YEARS) == D(3)


@pytest.mark.parametrize("text", ["2000万元及以上", "2000万元以上（含）"])
def test_and_above_suffixes(text):
    assert parse_quantity(text, MONEY) == D(20_000_000)


def test_a_negative_amount_such_as_a_net_loss():
    assert parse_quantity("-120万元", MONEY) == D(-1_200_000)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "dimension"),
    [
        ("5人", MONEY),
        ("3年", MONEY),
        ("5%", MONEY),
        ("10亩", MONEY),
        ("1万股", MONEY),
        ("2000万元/亩", MONEY),
        ("2000万元", COUNT),
        ("100万美元", COUNT),
        ("100万美元", YEARS),
        ("1万股", COUNT),
        ("20人", SHARES),
        ("10平方米", YEARS),
        ("3个月", PERCENT),
        ("5%", AREA),
        ("2000万元", PERCENT),
    ],
)
def test_a_unit_of_another_dimension_is_refused(text, dimension):
    with pytest.raises(UnitError) as excinfo:
        parse_quantity(text, dimension)
    assert excinfo.value.code in ("unit", "value")


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "万元", "元", "1.2.3万元", "NaN", "nan元", "Infinity", "inf元", "1e3元", "--5万元",
     "五点五万元", "2000万元整", "约2000万元", "2000-3000万元", "2000万元或1亿元", ".5万元", "5.万元",
     "一万两千元", "2000斤", "2000万卢布", "１e５元"],
)  # fmt: skip
def test_garbage_is_refused(text):
    with pytest.raises(UnitError):
        parse_quantity(text, MONEY)


def test_unit_errors_say_what_is_wrong():
    with pytest.raises(UnitError, match="人 does not convert to 元"):
        parse_quantity("5人", MONEY)
    with pytest.raises(UnitError, match="Unknown unit: 万元/亩"):
        parse_quantity("2000万元/亩", MONEY)
    with pytest.raises(UnitError, match="abc is not a quantity") as excinfo:
        parse_quantity("abc", MONEY)
    assert excinfo.value.code == "value"


@pytest.mark.parametrize(
    ("unit", "dimension"),
    [("元", MONEY), ("万元", MONEY), ("万美元", MONEY), ("亿欧元", MONEY), ("人", COUNT), ("万人", COUNT),
     ("万股", SHARES), ("亩", AREA), ("公顷", AREA), ("个月", YEARS), ("周年", YEARS), ("‰", PERCENT),
     ("％", PERCENT), ("", Dimension.NUMBER), (" 万 元 ", MONEY)],
)  # fmt: skip
def test_unit_dimension(unit, dimension):
    assert unit_dimension(unit) == dimension


@pytest.mark.parametrize("unit", ["斤", "万元/亩", "美分", "万卢布"])
def test_unit_dimension_refuses_unknown_units(unit):
    with pytest.raises(UnitError):
        unit_dimension(unit)


def test_to_base():
    assert to_base(D(2000), "万元", MONEY) == D(20_000_000)
    assert to_base(D(7), "", MONEY) == D(7)
    assert to_base(D(1), "万美元", MONEY) == D(10_000) * rate("USD")
    with pytest.raises(UnitError):
        to_base(D(1), "万美元", COUNT)
    with pytest.raises(UnitError):
        to_base(D(1), "人", MONEY)


# --------------------------------------------------------------------------- writing back


@pytest.mark.parametrize(
    ("value", "dimension", "text"),
    [
        (D(20_000_000), MONEY, "2000万元"),
        (D(150_000_000), MONEY, "1.5亿元"),
        (D(100_000_000), MONEY, "1亿元"),
        (D(123_456_789), MONEY, "12345.6789万元"),
        (D(500), MONEY, "500元"),
        (D("0.5"), YEARS, "6个月"),
        (D(3), YEARS, "3年"),
        (D(5), PERCENT, "5%"),
        (D(20), COUNT, "20人"),
        (D(100), AREA, "100平方米"),
    ],
)
def test_format_quantity(value, dimension, text):
    assert format_quantity(value, dimension) == text
    assert parse_quantity(text, dimension) == value


@pytest.mark.parametrize(
    ("text", "bare"),
    [("3500", True), (" -1,200.5 ", True), ("１２３", True), ("−3500", True), ("负3500", True), ("+5", True),
     ("3500万元", False), ("0.2亿", False), ("35人", False), ("三千", False), ("", False), ("5%", False)],
)  # fmt: skip
def test_a_number_without_its_unit_is_told_apart(text: str, bare: bool) -> None:
    """One test for the figure form and the figures import: money written without a unit is refused by both."""
    assert units.is_bare_number(text) is bare
