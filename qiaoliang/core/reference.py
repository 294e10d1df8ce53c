"""Load the shipped GB/T 4754-2017 and GB/T 2260 tables (see data/SOURCE.md)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
# City-level rows that are statistical placeholders, not names to show ("市辖区" of a municipality).
_PLACEHOLDER_CITIES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def industry_rows() -> list[dict[str, Any]]:
    """Return the industry table, parents before children."""
    rows = _rows("industry_gbt4754_2017.csv")
    return [
        {
            "code": row["code"],
            "name": row["name"],
            "level": int(row["level"]),
            "parent_id": row["parent_code"] or None,
            "section": row["section"],
        }
        for row in sorted(rows, key=lambda r: int(r["level"]))
    ]


def region_rows() -> list[dict[str, Any]]:
    """Return provinces, cities and counties with 6-digit codes, parents before children."""
    provinces = {row["code"]: row["name"] for row in _rows("regions_provinces.csv")}
    cities = _rows("regions_cities.csv")
    areas = _rows("regions_areas.csv")
    city_names = {row["code"]: row["name"] for row in cities}
    result: list[dict[str, Any]] = []
    for code, name in provinces.items():
        result.append({"code": code.ljust(6, "0"), "name": name, "full_name": name, "level": 1, "parent_id": None})
    for row in cities:
        province = provinces[row["provinceCode"]]
        full = province if row["name"] in _PLACEHOLDER_CITIES else province + row["name"]
        result.append(
            {
                "code": row["code"].ljust(6, "0"),
                "name": row["name"],
                "full_name": full,
                "level": 2,
                "parent_id": row["provinceCode"].ljust(6, "0"),
            }
        )
    city_codes = {row["code"].ljust(6, "0") for row in cities}
    for row in areas:
        if row["code"] in city_codes:  # cities without counties (东莞市) repeat themselves as an area
            continue
        province = provinces[row["provinceCode"]]
        city = city_names.get(row["cityCode"], "")
        prefix = province if city in _PLACEHOLDER_CITIES or not city else province + city
        result.append(
            {
                "code": row["code"],
                "name": row["name"],
                "full_name": prefix + row["name"],
                "level": 3,
                "parent_id": row["cityCode"].ljust(6, "0"),
            }
        )
    return result


def history_rows(current: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the divisions of earlier GB/T 2260 revisions that the current table lacks, parents before children.

    `current` maps the current table's codes to their rows. Each former division keeps its own name and the
    year of the last revision that lists it; its parent is its city (or province) of any revision, and its
    successor the current division it is now part of where that is known (see regions_history_SOURCE.md).
    """
    path = DATA_DIR / "regions_history.csv"
    if not path.exists():
        return []
    rows = [row for row in _rows("regions_history.csv") if row["code"] not in current]
    names = {code: row["name"] for code, row in current.items()}
    names.update({row["code"]: row["name"] for row in rows})
    result: list[dict[str, Any]] = []
    known = set(current) | {row["code"] for row in rows}
    for row in rows:
        code = row["code"]
        level = 1 if code.endswith("0000") else 2 if code.endswith("00") else 3
        province_code, city_code = code[:2] + "0000", code[:4] + "00"
        province = names.get(province_code, "")
        if level == 1:
            parent, full = None, row["name"]
        elif level == 2:
            parent, full = (province_code if province_code in known else None), province + row["name"]
        else:
            city = names.get(city_code, "")
            parent = city_code if city_code in known else (province_code if province_code in known else None)
            city_part = "" if city in _PLACEHOLDER_CITIES else city
            full = province + city_part + row["name"]
        successor = row.get("successor_code") or None
        result.append(
            {
                "code": code,
                "name": row["name"],
                "full_name": full,
                "level": level,
                "parent_id": parent,
                "last_year": int(row["last_year"]),
                "successor_id": successor if successor in current else None,
            }
        )
    result.sort(key=lambda row: (row["level"], row["code"]))
    return result


def load_history(region_model: Any) -> None:
    """Insert the former divisions (idempotent)."""
    current = {row["code"]: row for row in region_rows()}
    existing = set(region_model.objects.values_list("code", flat=True))
    region_model.objects.bulk_create(
        [region_model(**row) for row in history_rows(current) if row["code"] not in existing], batch_size=500
    )


def load(industry_model: Any, region_model: Any) -> None:
    """Insert both tables (idempotent: existing codes are left alone)."""
    existing = set(industry_model.objects.values_list("code", flat=True))
    industry_model.objects.bulk_create(
        [industry_model(**row) for row in industry_rows() if row["code"] not in existing], batch_size=500
    )
    existing = set(region_model.objects.values_list("code", flat=True))
    region_model.objects.bulk_create(
        [region_model(**row) for row in region_rows() if row["code"] not in existing], batch_size=500
    )
