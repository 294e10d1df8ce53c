"""Regions as people write them: GB/T 2260 codes of any level and revision, names read in context, addresses.

A secretary's roster comes from older spreadsheets, registry exports and hand typing. `RegionResolver` turns
what such a roster holds into a `core.Region` row and says how it got there, so the preview can show it:

- a code of any level (province, city, 市辖区, county) and of any published revision: a historical code keeps
  its own name and year and points to its current successor (330103 下城区 → 330105 拱墅区);
- a name, with or without its province and city and their 省/市/区 (浙江省杭州市西湖区, 杭州西湖区, 西湖区), read in
  the context of the enterprise's USCC and of the organisation when it alone is ambiguous; otherwise refused
  with its candidates;
- an address, whose leading division fills a missing region;
- the USCC's registration code (characters 3–8), the default when a roster gives no usable region.

The same resolver serves the importers, the forms' code fields and the API (see `region_field_error`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from qiaoliang.core.text import compact_text, region_name_forms

# Statistical placeholders that are names only together with their city or province.
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "县级市"})
_SEPARATORS_RE = re.compile(r"[\s/\\,，、;；|·:：_\-—－]+")
_DIGITS_RE = re.compile(r"^\d+$")
# After a short name (杭州, 西湖), these start a street, not a division: 中山路 is no 中山市.
_STREET_STARTS = (
    "路", "街", "道", "巷", "弄", "号", "桥", "大道", "大街", "大厦", "广场", "公园", "村", "小区", "东路", "西路",
    "南路", "北路", "中路", "湖", "山", "江",
)  # fmt: skip
_MAX_CANDIDATES_SHOWN = 6
# What names a division (杭州市火星区 names one that does not exist), and what names a zone inside one.
_DIVISION_ENDINGS = ("省", "市", "区", "县", "旗", "州", "盟")
_ZONE_ENDINGS = ("开发区", "园区", "新区", "高新区", "保税区", "度假区", "风景区", "景区", "管理区", "试验区", "示范区",
                 "工业区", "产业区", "功能区", "集聚区", "港区", "合作区")  # fmt: skip
_MAX_ADDRESS_PREFIX = 40


class How(StrEnum):
    """How a region was found, as the import preview counts them."""

    CURRENT_CODE = "current_code"
    HISTORICAL_CODE = "historical_code"
    CITY_LEVEL = "city_level"
    PROVINCE_LEVEL = "province_level"
    NAME = "name"
    ADDRESS = "address"
    USCC = "uscc"


def how_label(how: str) -> str:
    """Return the translated label of a `How` value."""
    labels = {
        How.CURRENT_CODE: _("current code"),
        How.HISTORICAL_CODE: _("historical code"),
        How.CITY_LEVEL: _("city-level code"),
        How.PROVINCE_LEVEL: _("province-level code"),
        How.NAME: _("name"),
        How.ADDRESS: _("address"),
        How.USCC: _("USCC registration code"),
    }
    return str(labels.get(How(how), how))


@dataclass(frozen=True)
class Place:
    """One division of any revision, as the resolver knows it."""

    code: str
    name: str
    full_name: str
    level: int
    last_year: int | None = None  # None: in the current table
    successor: str | None = None

    @property
    def current(self) -> bool:
        return self.last_year is None

    @property
    def is_placeholder(self) -> bool:
        return self.name in PLACEHOLDERS

    @property
    def city_level(self) -> bool:
        """A city's code (330100) or its 市辖区 code (330701): statistics place it in the city, not a county."""
        return (self.code.endswith("00") and not self.code.endswith("0000")) or self.name == "市辖区"

    def __str__(self) -> str:
        return f"{self.code} {self.full_name}"


def prefixes_of(code: str) -> tuple[str, ...]:
    """Return the city and province prefixes a code sets as context (330106 → 3301, 33; 330000 → 33)."""
    if not code or len(code) < 2 or not code[:2].isdigit():
        return ()
    province = code[:2]
    if len(code) >= 4 and code[2:4] != "00" and code[:4].isdigit():
        return (code[:4], province)
    return (province,)


def region_prefix(code: str) -> str:
    """Return the code prefix that selects a division and everything below it (330100 → 3301, 330106 → 330106)."""
    code = code.strip()
    if len(code) == 6 and code.isdigit():
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
        return code
    return code if code.isdigit() and len(code) in (2, 4) else ""


@dataclass(frozen=True)
class RegionMatch:
    """What a value resolved to, how, and what the user is told; `error` set when it could not be resolved."""

    text: str
    place: Place | None = None
    how: str = ""
    error: str = ""
    candidates: tuple[Place, ...] = ()
    successor: Place | None = None
    unread: str = ""  # the part of a name after its leading division that names none (普陀山管委会, 经济开发区)

    @property
    def code(self) -> str | None:
        return self.place.code if self.place else None

    @property
    def is_warning(self) -> bool:
        """A value the roster did not give (taken from the address or the USCC): the user should check it."""
        return self.how in (How.ADDRESS, How.USCC) or bool(self.unread)

    def describe(self) -> str:
        """Return what the preview says ('西湖区 → 330106 浙江省杭州市西湖区'); '' when there is nothing to say."""
        place = self.place
        if place is None:
            return ""
        values: dict[str, Any] = {
            "text": self.text,
            "code": place.code,
            "name": place.name,
            "full_name": place.full_name,
        }
        # "西湖区 → 330106 浙江省杭州市西湖区"; a code written is not repeated: "330103 → 浙江省杭州市下城区".
        values["target"] = place.full_name if self.text == place.code else f"{place.code} {place.full_name}"
        if self.how == How.USCC:
            return _("No region given: %(code)s %(full_name)s, the registration code in the USCC.") % values
        if self.how == How.ADDRESS:
            return _("No region given: %(code)s %(full_name)s, read from the address %(text)s.") % values
        if self.unread:
            values["unread"] = self.unread
            return _("%(text)s → %(target)s: %(unread)s is no division and was not read; check the region.") % values
        if place.city_level:
            return _("%(text)s → %(target)s (city level)") % values
        if not place.current:
            values["year"] = place.last_year
            if self.successor is not None:
                values["successor"] = self.successor.full_name
                return _("%(text)s → %(target)s (a former division, last published in %(year)s; now part of "
                         "%(successor)s)") % values  # fmt: skip
            return _("%(text)s → %(target)s (a former division, last published in %(year)s)") % values
        if self.how == How.NAME:
            return _("%(text)s → %(target)s") % values
        if self.how == How.PROVINCE_LEVEL:
            return _("%(text)s → %(target)s (province level)") % values
        return ""


def _candidates_text(places: Iterable[Place]) -> str:
    shown = sorted(places, key=lambda place: place.code)
    text = "、".join(str(place) for place in shown[:_MAX_CANDIDATES_SHOWN])
    if len(shown) > _MAX_CANDIDATES_SHOWN:
        text += " " + _("and %(count)d more") % {"count": len(shown) - _MAX_CANDIDATES_SHOWN}
    return text


def normalize_region_text(value: Any) -> str:
    """Return a region cell folded for lookup: half-width, simplified, lower case, without spaces and separators."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SEPARATORS_RE.sub("", compact_text(str(value)))


class RegionResolver:
    """Resolve region codes, names and addresses against every division the database holds."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.by_code: dict[str, Place] = {place.code: place for place in places}
        # spelling → {code: rank}; rank 0 when the division's own name is written in full, 1 when shortened.
        self._spellings: dict[str, dict[str, int]] = {}
        self._moved: dict[str, list[str]] = {}
        for place in self.by_code.values():
            self._add_spellings(place)

    # --- building -------------------------------------------------------------------------------------------

    def _forms(self, place: Place | None) -> list[tuple[str, int]]:
        if place is None or place.is_placeholder:
            return []
        return [(form, 0 if form == place.name else 1) for form in region_name_forms(place.name)]

    def _add(self, spelling: str, code: str, rank: int) -> None:
        codes = self._spellings.setdefault(spelling, {})
        if rank < codes.get(code, 9):
            codes[code] = rank

    def _add_spellings(self, place: Place) -> None:
        code = place.code
        province = self.by_code.get(code[:2] + "0000")
        own = self._forms(place) or [(place.name, 2)]  # rank 2: a placeholder (市辖区) needs its city
        if code.endswith("0000"):
            prefixes = [""]
        elif code.endswith("00"):
            prefixes = ["", *(form for form, _rank in self._forms(province))]
        else:
            city_forms = [form for form, _rank in self._forms(self.by_code.get(code[:4] + "00"))]
            province_forms = [form for form, _rank in self._forms(province)]
            prefixes = ["", *city_forms, *province_forms, *(p + c for p in province_forms for c in city_forms)]
        for form, rank in own:
            form = normalize_region_text(form)
            for prefix in prefixes:
                spelled_rank = rank if rank < 2 or not prefix else 0
                self._add(normalize_region_text(prefix) + form, code, spelled_rank)

    # --- resolving ------------------------------------------------------------------------------------------

    def successor_of(self, place: Place | None) -> Place | None:
        if place is None or place.current or not place.successor:
            return None
        return self.by_code.get(place.successor)

    def _code_match(self, text: str, code: str) -> RegionMatch:
        place = self.by_code.get(code)
        if place is None:
            return RegionMatch(
                text,
                error=_(
                    "%(code)s is not a GB/T 2260 region code (neither in the current table nor in an earlier revision)."
                )
                % {"code": text},
            )
        if not place.current:
            how = How.CITY_LEVEL if place.name == "市辖区" else How.HISTORICAL_CODE
        elif code.endswith("0000"):
            how = How.PROVINCE_LEVEL
        elif place.city_level:
            how = How.CITY_LEVEL
        else:
            how = How.CURRENT_CODE
        return RegionMatch(text, place=place, how=how, successor=self.successor_of(place))

    def _narrow(self, codes: dict[str, int], context: tuple[str, ...]) -> list[Place]:
        best = min(codes.values())
        places = [self.by_code[code] for code, rank in codes.items() if rank == best]
        if len(places) > 1:
            for prefix in context:
                inside = [place for place in places if place.code.startswith(prefix)]
                if inside:
                    places = inside
                    break
        if len(places) > 1 and any(place.current for place in places):
            places = [place for place in places if place.current]
        if len(places) > 1 and len({self.current_successor_code(place.code) for place in places}) == 1:
            # Former codes of one division (奉化市 330283 and an older numbering): its latest code answers.
            places = [max(places, key=lambda place: (place.last_year or 0, place.code))]
        return places

    def resolve(self, value: Any, context: Iterable[str] = ()) -> RegionMatch:
        """Resolve a cell or field (code or name); `context` holds codes (the USCC's, the organisation's)."""
        raw = "" if value is None else str(int(value) if isinstance(value, float) and value.is_integer() else value)
        text = raw.strip()
        norm = normalize_region_text(value)
        if not norm:
            return RegionMatch("")
        if _DIGITS_RE.match(norm):
            if len(norm) in (2, 4, 6):
                return self._code_match(text, norm.ljust(6, "0"))
            if len(norm) in (9, 12) and not norm[6:].strip("0"):  # 统计用区划代码 (330106000000)
                return self._code_match(text, norm[:6])
            return RegionMatch(text, error=_("%(code)s is not a six-digit GB/T 2260 region code.") % {"code": text})
        codes = self._spellings.get(norm)
        if not codes:
            leading = self._leading(text, norm, _context_prefixes(context))
            if leading is not None:
                return leading
            return RegionMatch(
                text,
                error=_(
                    "%(text)s is no region name we know; write the GB/T 2260 code or the name with its city "
                    "(such as 杭州市西湖区)."
                )
                % {"text": text},
            )
        places = self._narrow(codes, _context_prefixes(context))
        if len(places) > 1:
            return RegionMatch(
                text,
                candidates=tuple(places),
                error=_("%(text)s is ambiguous: %(candidates)s. Write the city too (such as 杭州市西湖区) or the code.")
                % {"text": text, "candidates": _candidates_text(places)},
            )
        place = places[0]
        match = self._code_match(text, place.code)
        return RegionMatch(text, place=place, how=How.NAME, successor=match.successor)

    def _leading(self, text: str, norm: str, context: tuple[str, ...]) -> RegionMatch | None:
        """Read a name that starts with a division and goes on with something else: the city repeated as its own
        county (绍兴市绍兴市, as registries write a city-level registration), or a zone that is no division
        (舟山市普陀山管委会, 嘉兴市经济开发区): the leading division answers, with a warning for the rest."""
        first: tuple[Place, str] | None = None
        for length in range(len(norm) - 1, 1, -1):
            codes = {code: rank for code, rank in self._spellings.get(norm[:length], {}).items() if rank == 0}
            if not codes:  # only a division written in full (舟山市, not 舟山市普陀 read as 普陀区)
                continue
            places = self._narrow(codes, context)
            if len(places) != 1 or places[0].is_placeholder:
                continue
            place, rest = places[0], norm[length:]
            if rest in {normalize_region_text(form) for form in region_name_forms(place.name)}:
                return RegionMatch(text, place=place, how=How.NAME, successor=self.successor_of(place))
            if first is None:
                first = (place, rest)
        if first is None:
            return None
        place, rest = first
        unread = text[-len(rest) :] if text.endswith(rest) else rest
        values = {"text": text, "place": place.full_name, "rest": unread}
        if rest in self._spellings:  # 杭州市鼓楼区: a division, but elsewhere
            return RegionMatch(text, error=_("%(text)s: %(rest)s is not in %(place)s.") % values)
        if rest.endswith(_DIVISION_ENDINGS) and not rest.endswith(_ZONE_ENDINGS):  # 杭州市火星区: no such division
            return RegionMatch(text, error=_("%(text)s: %(place)s has no division named %(rest)s.") % values)
        # 舟山市普陀山管委会, 嘉兴市经济开发区, 杭州市下沙: a zone or area inside the division.
        return RegionMatch(text, place=place, how=How.NAME, successor=self.successor_of(place), unread=unread)

    def from_address(self, address: Any, context: Iterable[str] = ()) -> RegionMatch | None:
        """Return the division an address starts with (浙江省杭州市西湖区文三路… → 330106), or None."""
        norm = normalize_region_text(address)
        if not norm:
            return None
        prefixes = _context_prefixes(context)
        for length in range(min(len(norm), _MAX_ADDRESS_PREFIX), 1, -1):
            codes = self._spellings.get(norm[:length])
            if not codes:
                continue
            rest = norm[length:]
            if min(codes.values()) >= 1 and rest.startswith(_STREET_STARTS):
                continue  # 中山路, 西湖大道: a street named after a place
            places = self._narrow(codes, prefixes)
            if len(places) != 1 or places[0].is_placeholder:
                return None
            place = places[0]
            outside = prefixes and not any(place.code.startswith(prefix) for prefix in prefixes)
            if outside and min(codes.values()) >= 1:
                return None  # a short name outside the enterprise's province is no evidence
            return RegionMatch(str(address).strip(), place=place, how=How.ADDRESS, successor=self.successor_of(place))
        return None

    def from_uscc(self, uscc: str | None) -> RegionMatch | None:
        """Return the division of a USCC's registration code (characters 3–8), or None when it names none."""
        if not uscc or len(uscc) != 18:
            return None
        place = self.by_code.get(uscc[2:8])
        if place is None:
            return None
        return RegionMatch(uscc[2:8], place=place, how=How.USCC, successor=self.successor_of(place))

    def moved_into(self, prefix: str) -> list[str]:
        """Return the former divisions now part of the prefix's division whose own code lies outside it."""
        known = self._moved.get(prefix)
        if known is None:
            known = self._moved[prefix] = sorted(
                place.code
                for place in self.by_code.values()
                if not place.current
                and not place.code.startswith(prefix)
                and self.current_successor_code(place.code).startswith(prefix)
            )
        return known

    def current_successor_code(self, code: str) -> str:
        """Return the current code statistics count a division under (itself when current)."""
        place = self.by_code.get(code)
        seen = 0
        while place is not None and not place.current and place.successor and seen < 5:
            place = self.by_code.get(place.successor)
            seen += 1
        return place.code if place is not None else code


def _context_prefixes(context: Iterable[str]) -> tuple[str, ...]:
    """Order the context's prefixes narrowest first: every context's city, then every context's province."""
    cities: list[str] = []
    provinces: list[str] = []
    for code in context:
        for prefix in prefixes_of(code or ""):
            target = cities if len(prefix) == 4 else provinces
            if prefix not in target:
                target.append(prefix)
    return (*cities, *provinces)


# --- loading --------------------------------------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[tuple[int, int], RegionResolver] | None = None


def resolver() -> RegionResolver:
    """Return the resolver over the Region table, rebuilt only when the table's size changes."""
    global _cached
    from qiaoliang.core.models import Region

    key = (Region.objects.count(), Region.objects.filter(last_year__isnull=False).count())
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
    rows = Region.objects.values_list("code", "name", "full_name", "level", "last_year", "successor_id")
    built = RegionResolver(Place(*row) for row in rows)
    with _lock:
        _cached = (key, built)
    return built


def region_filter(field: str, code: str) -> Q:
    """Return the filter of a division and everything below it, former divisions now part of it included.

    The code prefix answers from the B-tree index; former divisions whose code lies outside the prefix
    (a county moved to another city) are added by code.
    """
    prefix = region_prefix(code)
    if not prefix:
        return Q(pk__in=[])
    condition = Q(**{f"{field}__gte": prefix, f"{field}__lt": prefix + "\uffff"})
    moved = resolver().moved_into(prefix)
    if moved:
        condition |= Q(**{f"{field}__in": moved})
    return condition


def region_field_error(value: Any, context: Iterable[str] = ()) -> tuple[Any, str]:
    """Resolve a form or API value to a Region row: (region, '') or (None, the reason)."""
    from qiaoliang.core.models import Region

    match = resolver().resolve(value, context)
    if match.error:
        return None, match.error
    if match.place is None:
        return None, ""
    return Region.objects.get(code=match.place.code), ""
