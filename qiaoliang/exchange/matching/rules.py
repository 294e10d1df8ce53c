"""Structured matching rules: industry chain, region, price, locally delivered services.

Everything here is pure data plus numpy functions over *candidate columns* (one array per
attribute, one entry per candidate), so the same code scores the few hundred fused candidates of
the fast path and every listing of the exact ranker. Service areas live in `geo.py`; how much each
signal counts is learned (`model.py`), not set here.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import geo
from .documents import CATEGORIES

DATA_DIR = Path(__file__).resolve().parent / "data"
CORE_DATA_DIR = Path(__file__).resolve().parents[2] / "core" / "data"

CATEGORY_INDEX = {name: i for i, name in enumerate(CATEGORIES)}

# Services delivered where the customer is, by GB/T 4754-2017 大类 / 中类 (names from the standard):
# 44 电力、热力生产和供应, 45 燃气生产和供应, 46 水的生产和供应, 62 餐饮业, 702 物业管理, 727 安全保护服务,
# 782 环境卫生管理, 80 居民服务业, 81 机动车、电子产品和日用产品修理业, 821 清洁服务.
LOCAL_DIVISIONS = frozenset({44, 45, 46, 62, 80, 81})
LOCAL_GROUPS = frozenset({702, 727, 782, 821})
# Words that say the work happens at the customer's site or nearby (Modern Standard Chinese).
LOCAL_CUE_RE = re.compile(r"上门|同城|驻场|就近|附近|到店|到厂|现场服务|本地服务|当日达|当天送达|配送到")


def is_local(industry_code: str, text: str) -> bool:
    """Tell whether a listing is about a locally delivered service (by its industry or its words)."""
    division, group, _ = industry_parts(industry_code)
    return division in LOCAL_DIVISIONS or group in LOCAL_GROUPS or LOCAL_CUE_RE.search(text) is not None


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


def region_names() -> dict[int, str]:
    """Return 6-digit code → name for provinces, cities and counties (GB/T 2260)."""
    return geo.region_names()


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
