"""Structured matching rules: category compatibility, industry chain, region, price, local services.

Everything here is pure data plus numpy functions over *candidate columns* (one array per
attribute, one entry per candidate), so the same code re-ranks the 200-odd fused candidates of the
fast path and every listing of the exact ranker. Tables are documented in README.md.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .documents import CATEGORIES

DATA_DIR = Path(__file__).resolve().parent / "data"
CORE_DATA_DIR = Path(__file__).resolve().parents[2] / "core" / "data"

CATEGORY_INDEX = {name: i for i, name in enumerate(CATEGORIES)}

# need category → {offer category: compatibility}. 1.0 is the same category; lower values are
# offers that can still serve the need (a talent need is met by a talent offer or by an HR service).
# Pairs not listed are incompatible (factor `incompatible`).
CATEGORY_COMPATIBILITY: dict[str, dict[str, float]] = {
    "project": {"project": 1.0, "capital": 0.8, "technology": 0.6, "business": 0.5, "service": 0.4},
    "business": {"business": 1.0, "material": 0.8, "service": 0.6, "project": 0.5, "technology": 0.4},
    "technology": {"technology": 1.0, "service": 0.6, "project": 0.5, "talent": 0.4},
    "service": {"service": 1.0, "business": 0.7, "technology": 0.5, "talent": 0.4},
    "talent": {"talent": 1.0, "service": 0.7},
    "capital": {"capital": 1.0, "service": 0.5, "project": 0.4},
    "material": {"material": 1.0, "business": 0.7, "service": 0.3},
}

# Services that only make sense nearby: both sides must be in the same city when both give a region.
LOCAL_SERVICE_TERMS = frozenset(
    {
        "配餐",
        "送餐",
        "团餐",
        "餐饮",
        "食堂",
        "盒饭",
        "工作餐",
        "快餐",
        "保洁",
        "保安",
        "安保",
        "家政",
        "搬家",
        "绿化养护",
        "同城配送",
        "外卖",
    }
)
LOCAL_SERVICE_CATEGORIES = frozenset({"service"})


def category_matrix(incompatible: float = 0.15) -> np.ndarray:
    """Return M[need_category, offer_category] as a 7×7 float array."""
    matrix = np.full((len(CATEGORIES), len(CATEGORIES)), incompatible, dtype=np.float32)
    for need, offers in CATEGORY_COMPATIBILITY.items():
        for offer, value in offers.items():
            matrix[CATEGORY_INDEX[need], CATEGORY_INDEX[offer]] = value
    return matrix


# -- industry codes -----------------------------------------------------------------------------
_CODE_RE = re.compile(r"^[A-Ta-t]?(\d{2,4})$")


def industry_parts(code: str | None) -> tuple[int, int, int]:
    """Return (division, group, class) integers of a GB/T 4754 code, -1 where unknown.

    "2911" → (29, 291, 2911); "C29" → (29, -1, -1); "" → (-1, -1, -1).
    """
    match = _CODE_RE.match((code or "").strip())
    if not match:
        return -1, -1, -1
    digits = match.group(1)
    division = int(digits[:2])
    group = int(digits[:3]) if len(digits) >= 3 else -1
    klass = int(digits[:4]) if len(digits) >= 4 else -1
    return division, group, klass


@lru_cache(maxsize=1)
def industry_names() -> dict[str, str]:
    """Return GB/T 4754 code → name (all levels) from the shipped core table."""
    names: dict[str, str] = {}
    path = CORE_DATA_DIR / "industry_gbt4754_2017.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            names[row["code"]] = row["name"]
    return names


def industry_name(code: int, digits: int) -> str:
    """Return the name of a division (2 digits) or group (3 digits) given as an integer."""
    return industry_names().get(str(code).zfill(digits), str(code).zfill(digits))


@dataclass(frozen=True)
class ChainTable:
    """Supplier → customer links as dense lookup tables over divisions and groups."""

    division: np.ndarray  # [100, 100] int8: 1 where division u supplies division d
    group: np.ndarray  # [1000, 1000] int8: 1 where group u supplies group d
    links: tuple[tuple[str, str, str], ...]


@lru_cache(maxsize=1)
def chain_table() -> ChainTable:
    """Load data/chain.tsv into lookup tables (a 2-digit side expands to all its groups)."""
    division = np.zeros((100, 100), dtype=np.int8)
    group = np.zeros((1000, 1000), dtype=np.int8)
    groups_of: dict[int, list[int]] = {}
    for code in industry_names():
        if code.isdigit() and len(code) == 3:
            groups_of.setdefault(int(code[:2]), []).append(int(code))
    links = []
    for line in (DATA_DIR / "chain.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        upstream, downstream, basis = ([*line.split("\t"), "", ""])[:3]
        links.append((upstream, downstream, basis))
        if len(upstream) == 2 and len(downstream) == 2:
            division[int(upstream), int(downstream)] = 1
        ups = [int(upstream)] if len(upstream) == 3 else groups_of.get(int(upstream), [])
        downs = [int(downstream[:3])] if len(downstream) >= 3 else groups_of.get(int(downstream), [])
        for u in ups:
            for d in downs:
                group[u, d] = 1
    return ChainTable(division=division, group=group, links=tuple(links))


def chain_links(up_div: np.ndarray, up_grp: np.ndarray, down_div: np.ndarray, down_grp: np.ndarray) -> np.ndarray:
    """Return a bool array: does the upstream side supply the downstream side (group or division link)?"""
    table = chain_table()
    result = np.zeros(np.broadcast(up_div, down_div).shape, dtype=bool)
    both_grp = (up_grp >= 0) & (down_grp >= 0)
    if np.any(both_grp):
        ug = np.where(both_grp, up_grp, 0)
        dg = np.where(both_grp, down_grp, 0)
        result |= both_grp & (table.group[ug, dg] > 0)
    both_div = (up_div >= 0) & (down_div >= 0)
    if np.any(both_div):
        ud = np.where(both_div, up_div, 0)
        dd = np.where(both_div, down_div, 0)
        result |= both_div & (table.division[ud, dd] > 0)
    return result


# -- regions ------------------------------------------------------------------------------------
def region_int(code: str | None) -> int:
    """Return a 6-digit GB/T 2260 code as an integer (0 when missing or malformed)."""
    code = (code or "").strip()
    if len(code) >= 2 and code[:6].isdigit():
        return int(code[:6].ljust(6, "0"))
    return 0


def region_levels(query_region: int, regions: np.ndarray) -> np.ndarray:
    """Return 3 same county, 2 same city, 1 same province, 0 otherwise or unknown."""
    if not query_region:
        return np.zeros(len(regions), dtype=np.int8)
    known = regions > 0
    province = known & (regions // 10000 == query_region // 10000)
    q_city = query_region // 100
    city = province & (regions // 100 == q_city) & (query_region % 10000 != 0) & (regions % 10000 != 0)
    county = city & (regions == query_region) & (query_region % 100 != 0)
    return province.astype(np.int8) + city.astype(np.int8) + county.astype(np.int8)


@lru_cache(maxsize=1)
def region_names() -> dict[int, str]:
    """Return 6-digit code → name for provinces, cities and counties."""
    names: dict[int, str] = {}
    for file, key in (("regions_provinces.csv", 2), ("regions_cities.csv", 4), ("regions_areas.csv", 6)):
        path = CORE_DATA_DIR / file
        if not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                code = row["code"]
                if len(code) == key and code.isdigit():
                    names.setdefault(int(code.ljust(6, "0")), row["name"])
    return names


# -- prices -------------------------------------------------------------------------------------
def price_relation(q_min: float, q_max: float, c_min: np.ndarray, c_max: np.ndarray, query_is_need: bool) -> np.ndarray:
    """Return 1 where the need's budget covers the offer's price range (ranges overlap), -1 where the
    offer is clearly above budget (cheapest offer price > 1.5 × the top of the budget), 0 otherwise or
    when a side gives no price. NaN marks a missing bound; a single known bound stands for both.
    """
    if np.isnan(q_min) and np.isnan(q_max):
        return np.zeros(len(c_min), dtype=np.int8)
    q_lo = q_min if not np.isnan(q_min) else q_max
    q_hi = q_max if not np.isnan(q_max) else q_min
    c_lo = np.where(np.isnan(c_min), c_max, c_min)
    c_hi = np.where(np.isnan(c_max), c_min, c_max)
    known = ~np.isnan(c_lo)
    with np.errstate(invalid="ignore"):
        overlap = known & (c_lo <= q_hi) & (c_hi >= q_lo)
        too_dear = known & (c_lo > 1.5 * q_hi) if query_is_need else known & (q_lo > 1.5 * c_hi)
    return overlap.astype(np.int8) - (too_dear & ~overlap).astype(np.int8)


def is_local_service(category: str, terms: set[str] | list[str]) -> bool:
    """Tell whether a listing is a local service (catering, cleaning, security …) by category and terms."""
    return category in LOCAL_SERVICE_CATEGORIES and not LOCAL_SERVICE_TERMS.isdisjoint(terms)


# -- service area -------------------------------------------------------------------------------
SCOPE_NONE, SCOPE_NATIONAL, SCOPE_PROVINCE, SCOPE_CITY = 0, 1, 2, 3
_MUNICIPALITIES = {"11", "12", "31", "50"}
_NATIONAL_RE = re.compile(r"全国|不限地区|不限区域|不限地域|面向全球|海内外|国内外均可")
_PROVINCE_SUFFIX = r"(?:省内|市内可送达|内可送达|全境|全省|各地市|各区县|各区|省范围|境内)"
_CITY_SUFFIX = r"(?:市内|市区|本地|及周边|周边区县|同城|地区)"
_SCOPE_WORD_RE = re.compile(_PROVINCE_SUFFIX + "|" + _CITY_SUFFIX)


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, int], re.Pattern[str]]:
    """Return place name → 6-digit code (provinces and prefecture cities, full and short names)."""
    places: dict[str, int] = {}
    short_re = re.compile(r"(省|市|自治区|壮族自治区|回族自治区|维吾尔自治区|特别行政区|地区|自治州|盟)$")
    for code, name in region_names().items():
        if code % 100:  # counties are not service-area names
            continue
        if code % 10000 and str(code)[:2] in _MUNICIPALITIES:
            continue
        if name in {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}:
            continue
        places.setdefault(name, code)
        short = short_re.sub("", name)
        if short.endswith("壮族") or short.endswith("回族"):
            short = short[:-2]
        if len(short) >= 2:
            places.setdefault(short, code)
    names = sorted(places, key=len, reverse=True)
    pattern = re.compile("(" + "|".join(map(re.escape, names)) + ")")
    return places, pattern


def service_area(text: str, region: int, *, local_service: bool = False) -> tuple[int, int]:
    """Return (scope level, 6-digit code) of the area a listing says it serves or wants served.

    全国发货 / 不限地区 → national; 服务浙江省全境 / 山东省内可送达 / 覆盖四川各地市 / 全省 → that
    province; 仅限郑州市内 / 服务范围：南京本地 / 限杭州及周边区县 / 同城 → that city. A phrase
    without a place name refers to the listing's own region. Local services (catering, cleaning)
    without a stated area serve their own city.
    """
    places, pattern = _gazetteer()
    if _NATIONAL_RE.search(text):
        return SCOPE_NATIONAL, 0
    # Find the scope words first (cheap), then the place name just before each one.
    for match in _SCOPE_WORD_RE.finditer(text):
        window = text[max(0, match.start() - 12) : match.start()]
        names = pattern.findall(window)
        if not names:
            continue
        name = names[-1]
        if not re.search(re.escape(name) + r"\s*(?:省|市)?\s*$", window):
            continue  # the place must touch the scope word (覆盖四川各地市, not 四川企业在杭州本地)
        code = places[name]
        if code % 10000 == 0 or str(code)[:2] in _MUNICIPALITIES:
            return SCOPE_PROVINCE, code // 10000 * 10000
        return SCOPE_CITY, code
    if region:
        if re.search(r"全省|省内", text):
            return SCOPE_PROVINCE, region // 10000 * 10000
        if re.search(r"仅限本地|限本地|本地服务|同城|本市|市内", text) and region % 10000:
            return SCOPE_CITY, region // 100 * 100
        if local_service and region % 10000:
            return SCOPE_CITY, region // 100 * 100
    return SCOPE_NONE, 0


def outside_scope(levels: np.ndarray, codes: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Return True where a known region lies outside the *province* of a province or city scope (hard)."""
    known = regions > 0
    scoped = (levels == SCOPE_PROVINCE) | (levels == SCOPE_CITY)
    return known & scoped & (codes // 10000 != regions // 10000)


def outside_city(levels: np.ndarray, codes: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Return True where a known region is in the scope's province but not in its city (soft)."""
    known = (regions > 0) & (regions % 10000 != 0)
    return known & (levels == SCOPE_CITY) & (codes // 10000 == regions // 10000) & (codes // 100 != regions // 100)
