"""Places and service areas: a gazetteer of GB/T 2260 names and the common regional groupings.

`parse_area(text, home)` reads what area a listing serves (an offer) or wants served (a need) from its
structured service-area field or its free text: 全国, 长三角 / 珠三角 / 京津冀 / 成渝 / 江浙沪 / 华东 …,
province, city and county names with or without 省/市/区/县/自治区, exclusions (除新疆西藏外, 偏远地区除外)
and limits (仅限本市, 广东省以外不发货, 省外不接, 北京五环内). An `Area` is a bit mask of provinces plus,
optionally, the prefecture cities it is limited to, so the engine can test many listings with numpy.
Only geography is encoded here: names come from GB/T 2260 (qiaoliang/core/data/regions_*.csv) and the
groupings from data/region_groups.tsv (definitions in data/SOURCE.md).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rjieba

DATA_DIR = Path(__file__).resolve().parent / "data"
CORE_DATA_DIR = Path(__file__).resolve().parents[2] / "core" / "data"

# GB/T 2260 province-level codes: the 31 mainland ones of the shipped table plus 台湾 71, 香港 81, 澳门 82.
EXTRA_PROVINCES = {71: "台湾省", 81: "香港特别行政区", 82: "澳门特别行政区"}
MUNICIPALITIES = frozenset({11, 12, 31, 50})
_SUFFIX_RE = re.compile(r"(?:维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|自治州|地区|省|市|盟|区|县|旗)$")
_ETHNIC_RE = re.compile(r"(?:[\u4e00-\u9fff]{1,6}?族)+$")
# Short names (without 省/市/区/县) are accepted as place names only when jieba's dictionary does not
# know them as an ordinary word (光明, 合作, 东方, 来宾 are words first, places second).
_PLACE_TAGS = frozenset({"ns", "nr", "nrt", "nrfg", "nz", "nt", "x", "eng"})


@dataclass(frozen=True)
class Place:
    """One name found in a text: a province, city or county (codes are 6-digit GB/T 2260)."""

    name: str
    code: int
    level: int  # 1 province, 2 city, 3 county


@dataclass(frozen=True)
class Area:
    """An area as province bits plus an optional limit to prefecture cities (6-digit codes)."""

    mask: int  # bit per province (see `province_bit`); 0 = no area stated
    cities: tuple[int, ...] = ()  # limited to these cities inside `mask`; () = the whole provinces
    strict: bool = False  # stated as a limit (仅限 / 以外不发货 / 省外不接), not only as coverage
    label: str = ""  # the words that stated it, for the reasons shown to users

    @property
    def national(self) -> bool:
        return self.mask & MAINLAND_MASK == MAINLAND_MASK and not self.cities

    def covers(self, region: int) -> bool | None:
        """Tell whether a 6-digit region lies in the area (None when the region is unknown)."""
        if not region or not self.mask:
            return None
        if not self.mask >> province_bit(region) & 1:
            return False
        if not self.cities:
            return True
        province = region // 10000
        city = region // 100 * 100
        in_province = [c for c in self.cities if c // 10000 == province]
        return not in_province or city in in_province or province in MUNICIPALITIES


NO_AREA = Area(0)


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str], dict[int, int]]:
    """Return code → name (provinces, cities, counties as 6-digit ints) and province → bit."""
    names: dict[int, str] = {}
    for file, width in (("regions_provinces.csv", 2), ("regions_cities.csv", 4), ("regions_areas.csv", 6)):
        with (CORE_DATA_DIR / file).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                code = row["code"]
                if len(code) == width and code.isdigit():
                    names.setdefault(int(code.ljust(6, "0")), row["name"])
    for province, name in EXTRA_PROVINCES.items():
        names[province * 10000] = name
    provinces = sorted(code // 10000 for code in names if code % 10000 == 0)
    bits = {province: i for i, province in enumerate(provinces)}
    return names, bits


def region_names() -> dict[int, str]:
    """Return 6-digit code → GB/T 2260 name (provinces, cities, counties; plus 71, 81, 82)."""
    return _tables()[0]


def province_bit(region: int) -> int:
    """Return the bit of a region's province in an area mask (63 for an unknown province)."""
    return _tables()[1].get(region // 10000, 63)


def province_mask(codes: list[int] | tuple[int, ...]) -> int:
    """Return the mask of the provinces of some 6-digit region codes."""
    mask = 0
    for code in codes:
        mask |= 1 << province_bit(code)
    return mask


@lru_cache(maxsize=1)
def _masks() -> tuple[int, int]:
    bits = _tables()[1]
    mainland = 0
    for province, bit in bits.items():
        if province not in EXTRA_PROVINCES:
            mainland |= 1 << bit
    return mainland, mainland | province_mask([p * 10000 for p in EXTRA_PROVINCES])


def _short(name: str) -> str:
    short = _SUFFIX_RE.sub("", name)
    if len(short) > 2:
        short = _ETHNIC_RE.sub("", short) or short
    return short


def _is_word(name: str) -> bool:
    """Tell whether jieba's dictionary reads a short name as an ordinary word rather than a place."""
    tags = rjieba.tag(name)
    return len(tags) == 1 and tags[0][1] not in _PLACE_TAGS


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, tuple[Place, ...]]:
    """Return name → places (a short name may name several places, highest level first)."""
    names, _bits = _tables()
    places: dict[str, list[Place]] = {}

    def add(name: str, place: Place) -> None:
        found = places.setdefault(name, [])
        if place not in found:
            found.append(place)

    skip = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "城区", "郊区", "矿区"}
    for code, name in names.items():
        if name in skip:
            continue
        level = 1 if code % 10000 == 0 else 2 if code % 100 == 0 else 3
        place = Place(name, code, level)
        add(name, place)
        short = _short(name)
        if len(short) >= 2 and short != name and (level == 1 or not _is_word(short)):
            add(short, place)
    # A short name may name several places (朝阳: a city in Liaoning, a district of Beijing): all are kept,
    # highest level first, and `_mentions` picks the one inside the place named just before.
    resolved = {name: tuple(sorted(found, key=lambda p: (p.level, p.code))) for name, found in places.items()}
    return resolved


@lru_cache(maxsize=1)
def groups() -> dict[str, tuple[int, ...]]:
    """Return grouping name → 6-digit province or city codes (data/region_groups.tsv; 全国 → every province)."""
    names = region_names()
    result: dict[str, tuple[int, ...]] = {}
    provinces = tuple(sorted(code for code in names if code % 10000 == 0 and code // 10000 not in EXTRA_PROVINCES))
    for line in (DATA_DIR / "region_groups.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        aliases, _, members = line.partition("\t")
        if members.strip() == "*":
            codes = provinces
        else:
            codes = tuple(int(code.strip().ljust(6, "0")) for code in members.split(",") if code.strip())
        for alias in aliases.split(","):
            if alias.strip():
                result[alias.strip()] = codes
    return result


MAINLAND_MASK, ALL_MASK = 0, 0  # filled below (needs the tables)


def _init_masks() -> None:
    global MAINLAND_MASK, ALL_MASK
    MAINLAND_MASK, ALL_MASK = _masks()


_init_masks()

_RELATIVE = {
    # words naming the listing's own place
    "本市": 2, "市内": 2, "市区": 2, "同城": 2, "本地": 2, "当地": 2, "本区": 2, "区内": 2, "城区": 2,
    "本省": 1, "省内": 1, "全省": 1, "省外": -1, "外省": -1, "市外": -2,
}  # fmt: skip
# A clause states an area when it has one of these words (coverage) …
_LIMIT = (
    r"(?:仅|只)(?:限|在|做|接|服务|送|发|配送|针对|面向|承接|供|覆盖)|限于|限定|限本|不接|不做|不发|不送|不去|不出"
    r"|不跨|不服务|不配送|外不|以外不|除外|不含|不包括"
)
_AREA_CUE_RE = re.compile(
    r"服务|覆盖|配送|送货|送达|可达|到达|发货|发往|包邮|运往|范围|辐射|上门|专线|区域|地区|全境|境内|各地|一带|周边"
    r"|附近|就近|以内|之内|内|响应|承接|驻场|现场|均可|皆可|可接|可做|可送|客户|" + _LIMIT
)
# … and states it as a limit with one of these.
_STRICT_RE = re.compile(_LIMIT)
_EXCLUDE_BEFORE_RE = re.compile(r"除(?:了)?$")
_EXCLUDE_AFTER_RE = re.compile(r"^(?:地区|省|市)?(?:除外|不发|不送|不包邮|不配送|不接|不含)")
_OUTSIDE_RE = re.compile(r"(省|市)?(?:以外|之外|外)(?:的)?(?:地区|区域|客户|订单|业务)?(?:不|一律不|暂不|均不|概不)")
_NOT_INCLUDED_RE = re.compile(r"(?:不含|不包括|不包含)$")


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, tuple[str, object]], dict[str, tuple[int, ...]]]:
    """Return every name the scanner knows (places, groupings, relative words) and their lengths, longest first."""
    places = gazetteer()
    lexicon: dict[str, tuple[str, object]] = {name: ("place", found) for name, found in places.items()}
    lexicon |= {name: ("group", codes) for name, codes in groups().items()}
    lexicon |= {word: ("relative", level) for word, level in _RELATIVE.items() if level > 0}
    lengths: dict[str, set[int]] = {}
    for name in lexicon:
        lengths.setdefault(name[0], set()).add(len(name))
    return lexicon, {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _mentions(clause: str, home: int) -> list[tuple[int, int, tuple[int, ...], str]]:
    """Return (start, end, 6-digit codes, name) of the places and groupings named in a clause.

    A greedy longest-match scan over the lexicon (a dict lookup per position and length: much faster
    than one regular expression with six thousand alternatives).
    """
    lexicon, lengths_by_first = _lexicon()
    found: list[tuple[int, int, tuple[int, ...], str]] = []
    previous: Place | None = None
    i, n = 0, len(clause)
    while i < n:
        for length in lengths_by_first.get(clause[i], ()):
            if i + length > n:
                continue
            name = clause[i : i + length]
            entry = lexicon.get(name)
            if entry is None:
                continue
            kind, value = entry
            if kind == "group":
                found.append((i, i + length, value, name))  # type: ignore[arg-type]
            elif kind == "relative":
                if home:
                    level = value
                    code = home // 10000 * 10000 if level == 1 or home // 10000 in MUNICIPALITIES else home // 100 * 100
                    if level == 2 and home % 10000 == 0:
                        code = home
                    found.append((i, i + length, (code,), region_names().get(code, name)))
            else:
                candidates: tuple[Place, ...] = value  # type: ignore[assignment]
                # Prefer the place inside the province named just before (北京朝阳, 上海松江, 苏州昆山).
                if previous is not None and len(candidates) > 1:
                    inside = tuple(p for p in candidates if p.code // 10000 == previous.code // 10000)
                    candidates = inside or candidates
                if len(candidates) > 1 and candidates[0].level == 3 and candidates[1].level == 3:
                    continue  # a short county name shared by several provinces (和平, 新华) and no context
                previous = candidates[0]
                found.append((i, i + length, (previous.code,), name))
            i += length - 1
            break
        i += 1
    return found


def _area_of(codes: list[int]) -> tuple[int, tuple[int, ...]]:
    """Return (mask, cities) for some province, city and county codes (counties widen to their city)."""
    mask = province_mask(codes)
    whole = {code // 10000 for code in codes if code % 10000 == 0 or code // 10000 in MUNICIPALITIES}
    cities = sorted({code // 100 * 100 for code in codes if code % 10000 and code // 10000 not in whole})
    if cities and whole:  # a mix of whole provinces and cities: keep the cities of the other provinces only
        cities = [c for c in cities if c // 10000 not in whole]
        if not cities:
            return mask, ()
        return mask, tuple(cities + [p * 10000 for p in sorted(whole)])
    return mask, tuple(cities)


def parse_area(text: str, home: int = 0, *, structured: bool = False) -> Area:
    """Return the area a text states (NO_AREA when it states none).

    `home` is the listing's own 6-digit region (for 本市 / 省内 / 省外不接). `structured` marks the
    service-area field: every place named there is part of the area, no cue word needed.
    """
    if not text:
        return NO_AREA
    included: list[int] = []
    excluded: list[int] = []
    labels: list[str] = []
    strict = False
    for clause in re.split(r"[。；;！!？?\n|｜，,]", text):
        if not clause.strip():
            continue
        outside = _OUTSIDE_RE.search(clause)
        cue = structured or bool(_AREA_CUE_RE.search(clause))
        if not outside and not cue:
            continue
        mentions = _mentions(clause, home)
        if outside and (home or outside.start() > 0):
            ends = {outside.start(), outside.start() + len(outside.group(1) or "")}
            named = [m for m in mentions if m[1] in ends]
            limit: list[int] = []
            label = ""
            if named:
                limit, label = list(named[-1][2]), named[-1][3]
            elif home and outside.group(1):
                level_code = home // 10000 * 10000
                if outside.group(1) == "市" and home // 10000 not in MUNICIPALITIES:
                    level_code = home // 100 * 100
                limit, label = [level_code], region_names().get(level_code, "")
            if limit:
                included += limit
                labels.append(label)
                strict = True
                continue
        if not mentions or not cue:
            continue
        clause_strict = bool(_STRICT_RE.search(clause))
        names_in, names_out = [], []
        for start, end, codes, name in mentions:
            before, after = clause[:start], clause[end:]
            is_excluded = (
                _EXCLUDE_BEFORE_RE.search(before[-3:]) is not None
                or _EXCLUDE_AFTER_RE.match(after) is not None
                or _NOT_INCLUDED_RE.search(before.rstrip("（( ")) is not None
                or (
                    re.search(r"除(?:了)?[\u4e00-\u9fff、，,和及与]{0,20}$", before) is not None
                    and re.match(r"^[\u4e00-\u9fff、，,和及与]{0,20}?(?:外|以外|之外)", after) is not None
                )
            )
            if is_excluded:
                excluded += codes
                names_out.append(name)
            else:
                included += codes
                names_in.append(name)
        if names_out:  # 除新疆西藏外: an exclusion is a limit
            clause_strict = True
        if names_out and not names_in:
            included += list(groups()["全国"])  # 除新疆西藏外 (全国): the rest of the country
            names_in.append("全国")
        if names_in and re.search(r"周边|附近|邻近", clause):  # 深圳及周边: the province around the cities
            included += [code // 10000 * 10000 for _s, _e, codes, _n in mentions for code in codes]
        if names_in:
            label = "、".join(dict.fromkeys(names_in))
            if names_out:
                label += "（" + "、".join(dict.fromkeys(names_out)) + "除外）"
            labels.append(label)
        strict = strict or clause_strict
    if not included:
        return NO_AREA
    mask, cities = _area_of(included)
    if excluded:
        out_mask, out_cities = _area_of(excluded)
        if not out_cities:
            mask &= ~out_mask
    if not mask:
        return NO_AREA
    return Area(mask=mask, cities=cities, strict=strict, label="；".join(dict.fromkeys(labels)))


def place_in_text(text: str) -> int:
    """Return the 6-digit code of the first province, city or county named in a text (0 when none)."""
    if not text:
        return 0
    for _start, _end, codes, _name in _mentions(text, 0):
        if len(codes) == 1:
            return codes[0]
    return 0


def full_name(code: int) -> str:
    """Return a region's name as people write it: 苏州市虎丘区, 上海市闵行区, 杭州市, 浙江省."""
    names = region_names()
    name = names.get(code, "")
    if not name or code % 10000 == 0:
        return name
    if code % 100 == 0:
        return name if name != "市辖区" else names.get(code // 10000 * 10000, "")
    parent = names.get(code // 100 * 100, "")
    if parent in ("", "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
        parent = names.get(code // 10000 * 10000, "") if code // 10000 in MUNICIPALITIES else ""
    return parent + name


def area_name(area: Area, limit: int = 4) -> str:
    """Return a short human name of an area: its own words (the first `limit` names) when it has them."""
    if area.label:
        words = list(dict.fromkeys(w for w in re.split(r"[、；]", area.label) if w))
        if len(words) > limit:
            return "、".join(words[:limit]) + "等"
        return "、".join(words)
    if area.national:
        return "全国"
    names, bits = _tables()
    if area.cities:
        return "、".join(names.get(c, str(c)) for c in area.cities)
    return "、".join(names.get(p * 10000, str(p)) for p, bit in sorted(bits.items()) if area.mask >> bit & 1)
