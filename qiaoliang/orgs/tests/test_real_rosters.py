"""Real rosters: regions and industries as registries and secretaries write them (2,084 Zhejiang travel agencies)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook

from qiaoliang.core import regions
from qiaoliang.core.codes import normalize_uscc
from qiaoliang.core.regions import How
from qiaoliang.orgs import importers
from qiaoliang.orgs.models import Enterprise

DATA = Path(__file__).resolve().parent / "data" / "travel_agencies_zhejiang.csv"


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def agencies() -> list[tuple[dict[str, str], str]]:
    """Every row whose USCC is valid, once per USCC (1,651 of 2,084)."""
    seen: set[str] = set()
    kept = []
    with DATA.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                uscc = normalize_uscc(row["unifiedSocialCreditCode"])
            except ValidationError:
                continue
            if uscc not in seen:
                seen.add(uscc)
                kept.append((row, uscc))
    return kept


def workbook(headers: list[str], rows: list[list[Any]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    handle.name = "travel.xlsx"
    return handle


def test_a_roster_with_each_agencys_uscc_region_code_passes_the_dry_run(world: Any) -> None:
    kept = agencies()
    assert len(kept) == 1651
    rows = [[row["name"], uscc, "7291", uscc[2:8]] for row, uscc in kept]
    parsed = importers.parse_roster(workbook(["企业名称", "统一社会信用代码", "行业代码", "行政区划代码"], rows))
    assert parsed.errors == [] and parsed.file_error == ""
    assert len(parsed.rows) == 1651
    counts = parsed.region_counts
    assert counts.get(How.HISTORICAL_CODE, 0) > 100  # 330103 下城区, 330283 奉化市 …
    assert counts.get(How.CITY_LEVEL, 0) > 100  # 330701 金华市市辖区 …
    assert sum(counts.values()) == 1651
    result = importers.import_roster(actor=None, organization=world.federation, parsed=parsed, dry_run=True)
    assert result.errors == [] and result.enterprises_created == 1651
    messages = {note.message for note in parsed.notes}
    assert ("330103 → 浙江省杭州市下城区 (a former division, last published in 2020; now part of 浙江省杭州市拱墅区)"
            in messages)  # fmt: skip
    assert "330701 → 浙江省金华市市辖区 (city level)" in messages


def test_a_roster_with_registry_city_and_county_names_passes_the_dry_run(world: Any) -> None:
    kept = agencies()
    rows = [[row["name"], uscc, "旅行社及相关服务", row["city"], row["county"]] for row, uscc in kept]
    parsed = importers.parse_roster(workbook(["企业名称", "统一社会信用代码", "行业代码", "城市", "区县"], rows))
    assert parsed.errors == [] and len(parsed.rows) == 1651
    assert parsed.region_counts == {How.NAME: 1651}
    by_row = {note.row: note for note in parsed.notes if note.column == "行政区划代码"}
    line = {row[3] + row[4]: number for number, row in enumerate(rows, start=2)}
    assert by_row[line["金华市市辖区"]].message == "金华市市辖区 → 330701 浙江省金华市市辖区 (city level)"
    assert by_row[line["绍兴市绍兴市"]].message == "绍兴市绍兴市 → 330600 浙江省绍兴市 (city level)"
    zone = by_row[line["舟山市普陀山管委会"]]
    assert zone.warning and "普陀山管委会 is no division" in zone.message
    assert all(row.industry_code == "7291" for row in parsed.rows)


def test_without_a_region_the_address_then_the_uscc_fill_it_with_a_warning(world: Any) -> None:
    kept = agencies()[:200]
    rows = [[row["name"], uscc, "旅行社", row["address"][:200] if number % 2 else ""]
            for number, (row, uscc) in enumerate(kept)]  # fmt: skip
    parsed = importers.parse_roster(workbook(["企业名称", "统一社会信用代码", "行业代码", "地址"], rows))
    assert parsed.errors == []
    assert parsed.region_counts.get(How.USCC, 0) >= 100 and parsed.region_counts.get(How.ADDRESS, 0) > 50
    warnings = [note for note in parsed.notes if note.warning]
    assert len(warnings) == 200
    assert any(note.message.startswith("No region given:") and "the registration code in the USCC" in note.message
               for note in warnings)  # fmt: skip
    assert all(row.region_code for row in parsed.rows)


def test_an_ambiguous_name_is_an_error_with_its_candidates_unless_the_uscc_tells_the_city(world: Any) -> None:
    hangzhou = "91330106MA2H0C0X13"  # a Hangzhou 西湖区 registration code
    beijing = "91110105MA01ABCD13"
    for uscc in (hangzhou, beijing):
        normalize_uscc(uscc)
    rows = [["杭州的旅行社", hangzhou, "旅行社", "西湖区"], ["北京的旅行社", beijing, "旅行社", "西湖区"]]
    parsed = importers.parse_roster(workbook(["企业名称", "统一社会信用代码", "行业代码", "行政区划代码"], rows))
    assert [row.region_code for row in parsed.rows] == ["330106"]
    assert [(error.row, error.column) for error in parsed.errors] == [(3, "行政区划代码")]
    assert "330106 浙江省杭州市西湖区、360103 江西省南昌市西湖区" in parsed.errors[0].message


def test_a_division_filter_counts_former_divisions_now_part_of_it(db: Any) -> None:
    Enterprise.objects.create(uscc="91330103MA2H0C0X1P", name="下城区的旅行社", region_id="330103")
    Enterprise.objects.create(uscc="91330105MA2H0C0X1L", name="拱墅区的旅行社", region_id="330105")

    def by(code: str) -> set[str]:
        return set(Enterprise.objects.filter(regions.region_filter("region_id", code)).values_list("name", flat=True))

    assert by("330105") == {"下城区的旅行社", "拱墅区的旅行社"}  # 下城区 merged into 拱墅区 in 2021
    assert by("330100") == by("330000") == {"下城区的旅行社", "拱墅区的旅行社"}
    assert by("330106") == set()
