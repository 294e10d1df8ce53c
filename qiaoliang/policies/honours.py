"""Enterprise honours and qualifications (荣誉/资质) as policies and profiles write them, read into one vocabulary.

The vocabulary is `data/honours.csv` (how it was made and how to maintain it: `data/honours_SOURCE.md`): one row
per honour kind at a level, with a stable code (`hnte.national`, `etc.provincial`, `listed`), the canonical name,
aliases, the grades it is awarded in, and the codes it implies. Rules and enterprise profiles store these codes.

`normalise_honour` reads one written honour ("金华市级高新技术企业", "新认定为省级重点企业研究院",
"省科技进步一等奖", "國家級企業技術中心") into an `HonourMatch`:

1. the text is folded (NFKC, Traditional → Simplified, Latin lower case), quotes are dropped, 试点或示范 is read as
   试点示范, and each way of reading its brackets is tried (content kept, content dropped);
2. leading actions are stripped and remembered as qualifiers (新认定为 → new, 首次 → first, 重新认定 → renewed,
   当年 → this_year), and so are levels: 国家级/国家/全国/中国 → national, 省级/省/浙江省 → provincial,
   X市级/市级/市 → municipal, 区级/县级/县(市、区)级 → county; a division named by GB/T 2260 (金华市, 永康市, 仙居县)
   gives its own level and `region_name` (永康 is a county-level city, so 永康市政府质量奖 is county level);
   以上/及以上 makes the level a minimum (`min_level`);
3. what is left is looked up among the rows' names and aliases, then the kinds' names and aliases, with noise
   endings (称号, 证书, 的企业…) and a grade (一等奖, 金奖, 提名奖, 5A, 三级, 五星级…) taken off; a kind read
   without a level takes the row marked `default` (高新技术企业 → national) or, when the kind has several rows and
   none is the default, level "any";
4. when nothing matches the whole text, the longest known name inside it answers, with `exact=False`.

`region_hint` is the region of the issuing government (a name or a GB/T 2260 code): "市级" in a policy of 温岭市 (a
county-level city) is county level, and a bare 市级/县级/省级 gets the hint's city, county or province as
`region_name`.

`split_honours` reads enumerations ("国家、省、市级企业技术中心", "国家(省)高新技术企业", "一、二、三等奖",
"国家知识产权示范企业、优势企业") into one match per honour. `satisfies` answers whether an enterprise holding some
codes meets a requirement.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang import core
from qiaoliang.core.text import region_name_forms, to_simplified

DATA_DIR = Path(__file__).resolve().parent / "data"
VOCABULARY_PATH = DATA_DIR / "honours.csv"
_REGION_DIR = Path(core.__file__).resolve().parent / "data"

NATIONAL, PROVINCIAL, MUNICIPAL, COUNTY = "national", "provincial", "municipal", "county"
NONE, ANY = "none", "any"
LEVELS = (NATIONAL, PROVINCIAL, MUNICIPAL, COUNTY)  # highest first
LEVEL_RANK = {NATIONAL: 4, PROVINCIAL: 3, MUNICIPAL: 2, COUNTY: 1, NONE: 0}
LEVEL_LABELS = {
    NATIONAL: gettext_lazy("national"),
    PROVINCIAL: gettext_lazy("provincial"),
    MUNICIPAL: gettext_lazy("municipal"),
    COUNTY: gettext_lazy("county"),
    NONE: gettext_lazy("no level"),
    ANY: gettext_lazy("any level"),
}
CATEGORIES = {
    "qualification": gettext_lazy("qualification"),
    "platform": gettext_lazy("R&D platform"),
    "brand": gettext_lazy("brand"),
    "award": gettext_lazy("award"),
    "demonstration": gettext_lazy("demonstration or pilot"),
    "list": gettext_lazy("list"),
    "other": gettext_lazy("other"),
}
QUALIFIERS = {
    "new": gettext_lazy("newly recognised"),
    "first": gettext_lazy("recognised for the first time"),
    "renewed": gettext_lazy("re-recognised"),
    "this_year": gettext_lazy("in the current year"),
    "candidate": gettext_lazy("candidate or under construction"),
    "excellent": gettext_lazy("rated excellent"),
}
# Kinds that stand for "any honour / award / demonstration / rating at this level" (国家级荣誉称号, 省级一等奖).
GENERIC_KINDS = {"honour": "", "award": "award", "demo": "demonstration", "rating": ""}

# Grades and tiers, as written after folding, with an ASCII slug for stored keys. Order within a row is the
# row's `grades` column (best first); a nomination (提名奖) is no grade of the award itself, so a requirement
# without a grade does not accept it.
GRADE_SLUGS = {
    "特等奖": "special", "一等奖": "first", "二等奖": "second", "三等奖": "third", "金奖": "gold", "银奖": "silver",
    "铜奖": "bronze", "优秀奖": "excellence", "优胜奖": "merit", "提名奖": "nomination", "重大贡献奖": "major",
    "优秀贡献奖": "outstanding", "金叶级": "gold_leaf", "银叶级": "silver_leaf", "金鼎级": "gold_ding",
    "银鼎级": "silver_ding", "特级": "premier", "一级": "l1", "二级": "l2", "三级": "l3", "四级": "l4", "五级": "l5",
    "一星级": "star1", "二星级": "star2", "三星级": "star3", "四星级": "star4", "五星级": "star5", "A": "a1",
    "AA": "a2", "AAA": "a3", "AAAA": "a4", "AAAAA": "a5",
}  # fmt: skip
_SLUG_GRADES = {slug: grade for grade, slug in GRADE_SLUGS.items()}
_NOMINATION = "提名奖"
_AWARD_GRADES = frozenset(
    ("特等奖", "一等奖", "二等奖", "三等奖", "金奖", "银奖", "铜奖", "优秀奖", "优胜奖", "提名奖")
)
_DIGITS = {"1": "一", "2": "二", "3": "三", "4": "四", "5": "五"}
_GRADE_RE = re.compile(
    r"(特等奖|[一二三]等奖|金奖|银奖|铜奖|优秀奖|优胜奖|提名奖|重大贡献奖|优秀贡献奖|[金银][叶鼎]级?|"
    r"[一二三四五1-5]星级|特级|[一二三四五1-5]级|[1-5]a级?|a{1,5}级?)(及以上|以上)?"
)

_BRACKETS = str.maketrans("【】〔〕[]", "()()()")
_QUOTES_RE = re.compile(r"[“”\"「」『』‘’'《》〈〉<>]")
_PIECE_SEPARATORS = "、，,;；/"
_KEY_DROP_RE = re.compile(r"[\s“”\"「」『』‘’'《》〈〉<>()\[\]【】〔〕、，,;；·・:：.。!！?？\-—_]+")
# Actions before an honour and the qualifier each one records (longest first; "" records nothing).
_ACTIONS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [
            *((word, "new") for word in ("当年新获得", "当年新认定的", "当年新认定", "当年新核定的", "新认定为",
                                          "新认定的", "新认定", "新获得", "新获", "新增的", "新增", "新创", "新评为",
                                          "新评定为", "新评", "新列入", "新建", "新取得", "新通过", "新核定的",
                                          "新成立的", "通过行政途径新评为", "新")),
            *((word, "first") for word in ("首次被认定为", "首次认定为", "首次被评为", "首次评定为", "首次获得",
                                            "首次获", "首次列入", "首次纳入", "首次通过", "首次被", "首次")),
            *((word, "renewed") for word in ("重新认定为", "重新认定", "复评通过", "复核通过", "复审通过")),
            *((word, "this_year") for word in ("当年被认定为", "当年获得", "当年取得", "当年被评为", "当年")),
            *((word, "") for word in ("被认定为", "认定为", "经认定的", "经认定", "被评为", "评为", "评定为",
                                       "获得", "获评", "荣获", "获批", "获", "取得", "列入", "纳入", "被命名为",
                                       "命名为", "成功创建", "创建", "通过", "确认为", "被确认为", "进入", "入选",
                                       "认定的", "认定", "被", "项目荣获", "成功", "经行政认定获得", "经行政认定",
                                       "通过行政途径", "行政认定的", "由", "其", "为", "的", "各类", "的各类",
                                       "经")),
        ],
        key=lambda item: -len(item[0]),
    )
)  # fmt: skip
_NOISE_SUFFIXES = ("称号或荣誉的企业", "并通过认定", "的企业", "的单位", "称号", "荣誉", "证书", "资格", "单位", "企业",
                   "认定", "等", "的")  # fmt: skip
_CANDIDATE_SUFFIXES = ("培育对象", "培育", "创建")
# Words after a name found inside a longer text that make it something else (a project, a tenant, an operator).
_NOT_THE_HONOUR = ("入驻", "对象", "项目", "运营单位", "计划", "专项", "目录", "清单", "成果库", "基金")
_MIN_CONTAINED = 3
_MIN_LEVEL_RE = re.compile(r"^(?:人民政府|政府)?(?:及以上|以上|及[^及以]{1,4}?以上)")
_PLAIN_LEVELS: tuple[tuple[str, str], ...] = (
    ("国家级", NATIONAL), ("国家", NATIONAL), ("全国", NATIONAL), ("中国", NATIONAL),
    ("省部级", PROVINCIAL), ("省部", PROVINCIAL), ("省级", PROVINCIAL), ("浙江省", PROVINCIAL), ("浙江", PROVINCIAL),
    ("省", PROVINCIAL), ("市级", MUNICIPAL), ("市", MUNICIPAL), ("区县级", COUNTY), ("县区级", COUNTY),
    ("县市区级", COUNTY), ("县级", COUNTY), ("区级", COUNTY), ("县", COUNTY),
)  # fmt: skip
_BEYOND_NATIONAL_RE = re.compile(r"世界级|国际级")
_LOCAL_WORDS = ("县内", "市内", "区内", "本市", "本县", "本区", "我市", "我县", "我区")
_MAX_BRACKETS = 3


# --- the vocabulary -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Honour:
    """One row of the vocabulary: an honour kind at a level."""

    code: str
    name: str
    kind: str
    level: str
    category: str
    default: bool
    aliases: tuple[str, ...]
    kind_aliases: tuple[str, ...]
    implies: tuple[str, ...]
    grades: tuple[str, ...]
    issuer: str
    basis: str  # official / data / generic

    @property
    def kind_code(self) -> str:
        return kind_code_of(self.code)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def kind_code_of(code: str) -> str:
    """Return the kind part of a code: hnte.national → hnte; listed → listed."""
    head, _sep, tail = code.rpartition(".")
    return head if head and tail in (*LEVELS, ANY, NONE) else code


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split("|") if item.strip())


def _grade_text(value: str) -> str:
    """Return a grade as the vocabulary writes it: 5A级/aaaaa → AAAAA, 3级 → 三级, 5星级 → 五星级."""
    text = unicodedata.normalize("NFKC", value).strip().upper().removesuffix("及以上").removesuffix("以上")
    if re.fullmatch(r"[1-5]A级?", text):
        return "A" * int(text[0])
    if re.fullmatch(r"A{1,5}级?", text):
        return text.rstrip("级")
    if re.fullmatch(r"[金银][叶鼎]", text):
        return text + "级"
    if re.fullmatch(r"[1-5](星级|级)", text):
        return _DIGITS[text[0]] + text[1:]
    return _SLUG_GRADES.get(value.strip().lower(), text)


def _key(text: str) -> str:
    """Return a name as compared: folded, lower case, without spaces, quotes, brackets and list punctuation."""
    return _KEY_DROP_RE.sub("", to_simplified(unicodedata.normalize("NFKC", text)).lower())


class Vocabulary:
    """The honours of `honours.csv` indexed by code, name, alias and kind."""

    def __init__(self, honours: list[Honour]) -> None:
        self.honours = honours
        self.by_code = {honour.code: honour for honour in honours}
        self.kinds: dict[str, list[Honour]] = {}
        for honour in honours:
            self.kinds.setdefault(honour.kind_code, []).append(honour)
        self.row_names: dict[str, Honour] = {}
        self.kind_names: dict[str, str] = {}
        for honour in honours:
            for name in (honour.name, *honour.aliases):
                self.row_names.setdefault(_key(name), honour)
            for name in (honour.kind, *honour.kind_aliases):
                self.kind_names.setdefault(_key(name), honour.kind_code)
        self.kind_grades = {code: {grade for row in rows for grade in row.grades} for code, rows in self.kinds.items()}
        # Names searched inside longer texts: long enough, and not the generic kinds.
        contained = [
            (key, code)
            for key, code in [*((k, h.kind_code) for k, h in self.row_names.items()), *self.kind_names.items()]
            if code not in GENERIC_KINDS and len(key) >= (_MIN_CONTAINED if not key.isascii() else 4)
        ]
        self.contained: dict[str, list[tuple[str, str]]] = {}  # first two characters → (name, kind), longest first
        for key, code in sorted(contained, key=lambda item: -len(item[0])):
            self.contained.setdefault(key[:2], []).append((key, code))

    def rows_of(self, kind_code: str) -> list[Honour]:
        return self.kinds.get(kind_code, [])

    def default_of(self, kind_code: str) -> Honour | None:
        rows = self.rows_of(kind_code)
        marked = [row for row in rows if row.default]
        if marked:
            return marked[0]
        return rows[0] if len(rows) == 1 else None

    def at_level(self, kind_code: str, level: str) -> Honour | None:
        for row in self.rows_of(kind_code):
            if row.level == level:
                return row
        return None


def load_vocabulary(path: Path = VOCABULARY_PATH) -> Vocabulary:
    """Read a vocabulary file (the shipped one unless a path is given)."""
    with path.open(encoding="utf-8", newline="") as handle:
        honours = [
            Honour(
                code=row["code"].strip(),
                name=row["name"].strip(),
                kind=row["kind"].strip(),
                level=row["level"].strip(),
                category=row["category"].strip(),
                default=row["default"].strip().lower() in ("yes", "1", "true"),
                aliases=_split_list(row["aliases"]),
                kind_aliases=_split_list(row["kind_aliases"]),
                implies=_split_list(row["implies"]),
                grades=tuple(_grade_text(grade) for grade in _split_list(row["grades"])),
                issuer=row["issuer"].strip(),
                basis=row["basis"].strip(),
            )
            for row in csv.DictReader(handle)
            if (row.get("code") or "").strip()
        ]
    return Vocabulary(honours)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Return the shipped vocabulary (read once)."""
    return load_vocabulary()


def honour_vocabulary() -> list[Honour]:
    """Return every honour of the vocabulary, in file order."""
    return list(vocabulary().honours)


def honour_by_code(code: str) -> Honour | None:
    """Return the honour with this code (a held key's grade, `code:first`, is ignored), or None."""
    return vocabulary().by_code.get(code.split(":", 1)[0].strip())


# --- regions (GB/T 2260 tables of core, read as files: no database) -------------------------------------------


@dataclass(frozen=True)
class _Region:
    code: str
    name: str
    level: str  # provincial, municipal, county
    province: str  # two-digit code
    city_name: str = ""  # the prefecture city of a county-level division
    province_name: str = ""


_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "县级市"}
_HOME_PROVINCE = "33"


@lru_cache(maxsize=1)
def _regions() -> tuple[dict[str, list[_Region]], dict[str, _Region]]:
    """Return (name form → divisions, code → division); short forms (金华, 永康) only for Zhejiang."""

    def rows(name: str) -> list[dict[str, str]]:
        with (_REGION_DIR / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    provinces = {row["code"]: row["name"] for row in rows("regions_provinces.csv")}
    cities = {row["code"]: (row["name"], row["provinceCode"]) for row in rows("regions_cities.csv")}
    found: list[_Region] = [_Region(code, name, PROVINCIAL, code, "", name) for code, name in provinces.items()]
    for code, (name, province) in cities.items():
        if name not in _PLACEHOLDERS:
            found.append(_Region(code, name, MUNICIPAL, province, "", provinces.get(province, "")))
    for row in rows("regions_areas.csv"):
        if row["name"] in _PLACEHOLDERS:
            continue
        city_name, _province = cities.get(row["cityCode"], ("", ""))
        city_name = "" if city_name in _PLACEHOLDERS else city_name
        province = row["provinceCode"]
        found.append(_Region(row["code"], row["name"], COUNTY, province, city_name, provinces.get(province, "")))
    by_name: dict[str, list[_Region]] = {}
    for region in found:
        forms = region_name_forms(region.name) if region.province == _HOME_PROVINCE else {region.name}
        for form in forms:
            by_name.setdefault(form, []).append(region)
    return by_name, {region.code: region for region in found}


def _region_hint(hint: str | None) -> _Region | None:
    """Return the division a hint names: a GB/T 2260 code (2, 4 or 6 digits) or a name (金华市, 温岭)."""
    if not hint:
        return None
    text = _key(hint)
    by_name, by_code = _regions()
    if text.isdecimal():
        if len(text) == 6 and text.endswith("0000"):
            text = text[:2]
        elif len(text) == 6 and text.endswith("00"):
            text = text[:4]
        return by_code.get(text)
    candidates = by_name.get(text, [])
    return _prefer(candidates, None)


def _prefer(candidates: list[_Region], hint: _Region | None) -> _Region | None:
    if not candidates:
        return None
    province = hint.province if hint else _HOME_PROVINCE
    return min(
        candidates,
        key=lambda r: (r.province != province, r.province != _HOME_PROVINCE, -LEVEL_RANK[r.level], r.code),
    )


@lru_cache(maxsize=1)
def _region_lengths() -> tuple[int, ...]:
    by_name, _codes = _regions()
    return tuple(sorted({len(name) for name in by_name if len(name) >= 2}, reverse=True))


def _leading_region(text: str, hint: _Region | None) -> tuple[str, _Region] | None:
    by_name, _codes = _regions()
    for length in _region_lengths():
        if length <= len(text) and text[:length] in by_name:
            region = _prefer(by_name[text[:length]], hint)
            if region is not None:
                return text[:length], region
    return None


# --- matches --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HonourMatch:
    """An honour as read from a text, or a requirement read from a stored key.

    `code` is the vocabulary row (`in_vocabulary`), or `<kind>.any` for a kind read without a level that has no
    default row, or `<kind>.<level>` for a level the vocabulary has no row for (国家级重点企业研究院).
    `min_level` is set for "以上" (that level or higher); `grade_or_better` for "三等奖及以上".
    """

    text: str
    code: str
    kind_code: str
    name: str
    kind: str
    level: str
    category: str
    region_name: str = ""
    grade: str = ""
    grade_or_better: bool = False
    min_level: str = ""
    qualifiers: tuple[str, ...] = ()
    exact: bool = True
    in_vocabulary: bool = True

    @property
    def generic(self) -> bool:
        """Whether this stands for any honour, award or demonstration at a level (国家级荣誉称号, 一等奖)."""
        return self.kind_code in GENERIC_KINDS

    @property
    def key(self) -> str:
        """Return the requirement as a stored string: etc.provincial+, sta.provincial:first, award.any:third+."""
        base = self.kind_code if self.level == NONE else f"{self.kind_code}.{self.level}"
        if self.min_level:
            base = f"{self.kind_code}.{self.min_level}+"
        if self.grade:
            base += ":" + GRADE_SLUGS.get(self.grade, self.grade) + ("+" if self.grade_or_better else "")
        return base

    def describe(self) -> str:
        """Return what a reviewer reads: '金华市级高新技术企业 → hnte.municipal 市级高新技术企业（金华市）'."""
        parts = [self.name]
        if self.region_name:
            parts.append(_("(%(region)s)") % {"region": self.region_name})
        if self.min_level:
            parts.append(_("or higher"))
        if self.grade:
            parts.append(self.grade + (_(" or better") if self.grade_or_better else ""))
        text = _("%(text)s → %(code)s %(name)s") % {"text": self.text, "code": self.code, "name": " ".join(parts)}
        if not self.exact:
            text += " " + _("(read from part of the text; check it)")
        return text


def held_key(code: str, grade: str = "") -> str:
    """Return what a profile stores for an honour held, with its grade if any: `sta.provincial:first`."""
    if honour_by_code(code) is None:
        raise ValueError(_("%(code)s is not an honour code of the vocabulary.") % {"code": code})
    if not grade:
        return code
    grade_text = _grade_text(grade)
    return f"{code}:{GRADE_SLUGS.get(grade_text, grade_text)}"


def requirement_from_key(key: str) -> HonourMatch:
    """Read a stored requirement key (HonourMatch.key) back into a match; ValueError when it is not one."""
    head, _sep, grade_part = key.strip().partition(":")
    minimum = head.endswith("+")
    head = head.rstrip("+")
    kind_code = kind_code_of(head)
    level = head[len(kind_code) + 1 :] if head != kind_code else NONE
    vocab = vocabulary()
    rows = vocab.rows_of(kind_code)
    if not rows or level not in (*LEVELS, NONE, ANY):
        raise ValueError(_("%(key)s is not an honour requirement.") % {"key": key})
    row = vocab.at_level(kind_code, level)
    grade = _grade_text(grade_part.rstrip("+")) if grade_part else ""
    return HonourMatch(
        text=key,
        code=row.code if row else f"{kind_code}.{level}",
        kind_code=kind_code,
        name=row.name if row else rows[0].kind,
        kind=rows[0].kind,
        level=level,
        category=rows[0].category,
        grade=grade,
        grade_or_better=grade_part.endswith("+"),
        min_level=level if minimum else "",
        in_vocabulary=row is not None,
    )


# --- reading --------------------------------------------------------------------------------------------------


@dataclass
class _State:
    levels: list[tuple[str, str]] = field(default_factory=list)  # (level, region name)
    minimum: bool = False
    qualifiers: list[str] = field(default_factory=list)

    def copy(self) -> _State:
        return _State(list(self.levels), self.minimum, list(self.qualifiers))


@dataclass(frozen=True)
class _Hit:
    kind_code: str
    row: Honour | None = None  # a row named by its own name or alias
    grade: str = ""
    or_better: bool = False
    qualifiers: tuple[str, ...] = ()
    exact: bool = True
    level_only: bool = False  # nothing but levels was written (国家、省级)


def _clean(text: str) -> str:
    """Fold a written honour for reading; brackets become ( ) and an unclosed one is closed."""
    value = to_simplified(unicodedata.normalize("NFKC", text or "")).lower()
    value = re.sub(r"\s+", "", value)
    value = value.translate(_BRACKETS)
    value = _QUOTES_RE.sub("", value)
    value = re.sub(r"县\(市[、,]?区\)", "县", value)
    value = re.sub(r"试点\(示范\)|试点或示范|试点、示范|试点和示范", "试点示范", value)
    value = re.sub(r"\(或[^()]*\)$", "", value)  # 一等奖(或金等相应奖项)
    if value.count("(") > value.count(")"):
        value += ")"
    value = re.sub(r"(?:等|等各类)$", "", value)
    return value.strip("、，,;；。.")


def _bracket_variants(text: str) -> list[tuple[str, bool]]:
    """Return readings of a text's brackets, fewest dropped first: (text, a level-only bracket was dropped)."""
    groups = list(re.finditer(r"\(([^()]*)\)", text))
    if not groups:
        return [(text, False)]
    if len(groups) > _MAX_BRACKETS:
        keep = re.sub(r"[()]", "", text)
        return [(keep, False), (re.sub(r"\([^()]*\)", "", text), False)]
    variants: list[tuple[int, str, bool]] = []
    for mask in range(1 << len(groups)):
        pieces, last, levels_dropped = [], 0, False
        for index, group in enumerate(groups):
            pieces.append(text[last : group.start()])
            content = group.group(1)
            dropped = bool(mask & (1 << index))
            if not dropped:
                pieces.append(content)
            elif content in {word for word, _level in _PLAIN_LEVELS} or content in ("省", "市", "县", "部"):
                levels_dropped = levels_dropped or content != "部"
            last = group.end()
        pieces.append(text[last:])
        variants.append((bin(mask).count("1"), "".join(pieces), levels_dropped))
    variants.sort(key=lambda item: item[0])
    return [(value, dropped) for _count, value, dropped in variants]


class _Reader:
    def __init__(self, vocab: Vocabulary, hint: _Region | None) -> None:
        self.vocab = vocab
        self.hint = hint

    # lookup of what is left once actions and levels are off
    def lookup(self, rest: str) -> _Hit | None:
        if not rest:
            return None
        for variant, qualifiers in self._suffix_variants(rest):
            hit = self._lookup_name(variant, qualifiers)
            if hit is not None:
                return hit
            for match in _GRADE_RE.finditer(variant):
                grade = _grade_text(match.group(1))
                or_better = bool(match.group(2))
                base = (variant[: match.start()] + variant[match.end() :]).strip("的")
                if not base:
                    if grade in _AWARD_GRADES:
                        return _Hit("award", grade=grade, or_better=or_better, qualifiers=qualifiers)
                    if grade in self.vocab.kind_grades.get("rating", set()):
                        return _Hit("rating", grade=grade, or_better=or_better, qualifiers=qualifiers)
                    continue
                for candidate in (base, base + "奖", base.removesuffix("的")):
                    hit = self._lookup_name(candidate, qualifiers)
                    if hit is not None and self._grade_fits(hit, grade):
                        return replace(hit, grade=grade, or_better=or_better)
        return None

    def _lookup_name(self, key: str, qualifiers: tuple[str, ...]) -> _Hit | None:
        row = self.vocab.row_names.get(key)
        if row is not None:
            return _Hit(row.kind_code, row=row, qualifiers=qualifiers)
        kind_code = self.vocab.kind_names.get(key)
        if kind_code is not None:
            return _Hit(kind_code, qualifiers=qualifiers)
        return None

    def _grade_fits(self, hit: _Hit, grade: str) -> bool:
        grades = set(hit.row.grades) if hit.row else self.vocab.kind_grades.get(hit.kind_code, set())
        return grade in grades

    @staticmethod
    def _suffix_variants(rest: str) -> Iterator[tuple[str, tuple[str, ...]]]:
        yield rest, ()
        current = rest
        qualifiers: tuple[str, ...] = ()
        for _round in range(3):
            for suffix in (*_CANDIDATE_SUFFIXES, *_NOISE_SUFFIXES):
                if current.endswith(suffix) and len(current) > len(suffix) + 1:
                    current = current[: -len(suffix)]
                    if suffix in _CANDIDATE_SUFFIXES:
                        qualifiers = (*qualifiers, "candidate")
                    yield current, qualifiers
                    break
            else:
                return

    # the prefixes: actions and levels, tried in every order the text allows
    def strips(self, text: str, state: _State) -> Iterator[tuple[str, _State]]:
        for word, qualifier in _ACTIONS:
            if text.startswith(word) and len(text) > len(word):
                new = state.copy()
                if qualifier and qualifier not in new.qualifiers:
                    new.qualifiers.append(qualifier)
                yield text[len(word) :], new
        if text.startswith("优秀") and len(text) > 2:
            new = state.copy()
            new.qualifiers.append("excellent")
            yield text[2:], new
        for word in _LOCAL_WORDS:
            if text.startswith(word):
                yield text[len(word) :], state.copy()
        region = _leading_region(text, self.hint)
        if region is not None:
            written, division = region
            rest = text[len(written) :]
            rest = rest[1:] if rest.startswith("级") else rest
            yield self._after_level(rest, state, division.level, division.name)
        for word, level in _PLAIN_LEVELS:
            if text.startswith(word):
                rest = text[len(word) :]
                rest = rest[1:] if rest.startswith("级") and not word.endswith("级") else rest
                level, region_name = self._plain_level(level, word)
                yield self._after_level(rest, state, level, region_name)

    def _plain_level(self, level: str, word: str) -> tuple[str, str]:
        hint = self.hint
        if level == PROVINCIAL:
            if word.startswith("浙江"):
                return level, "浙江省"
            return level, hint.province_name if hint else ""
        if level == MUNICIPAL and hint is not None:
            if hint.level == COUNTY and hint.name.endswith("市"):  # 市级 in a county-level city's policy
                return COUNTY, hint.name
            return MUNICIPAL, hint.name if hint.level == MUNICIPAL else hint.city_name
        if level == COUNTY and hint is not None and hint.level == COUNTY:
            return COUNTY, hint.name
        return level, ""

    @staticmethod
    def _after_level(rest: str, state: _State, level: str, region_name: str) -> tuple[str, _State]:
        new = state.copy()
        new.levels.append((level, region_name))
        minimum = _MIN_LEVEL_RE.match(rest)
        if minimum:
            new.minimum = True
            rest = rest[minimum.end() :]
        return rest, new

    def search(self, text: str, state: _State, depth: int = 0) -> tuple[_Hit, _State] | None:
        """Find the first reading that leaves a known name: the whole text first, then each prefix stripped."""
        hit = self.lookup(text)
        if hit is not None:
            return hit, state
        if not text:
            return None
        if depth >= 8:
            return None
        for rest, new_state in self.strips(text, state):
            if not rest:
                if new_state.levels:
                    return _Hit("honour", level_only=True), new_state
                continue
            found = self.search(rest, new_state, depth + 1)
            if found is not None:
                return found
        return None

    def greedy(self, text: str) -> tuple[str, _State]:
        """Strip every leading action and level (first way each time) and return what is left."""
        state = _State()
        for _round in range(8):
            step = next(iter(self.strips(text, state)), None)
            if step is None or not step[0]:
                break
            text, state = step
        return text, state

    def contained(self, text: str) -> tuple[_Hit, _State] | None:
        """Find the longest known name inside a text (exact=False), with the level written before it."""
        candidates = {
            item for start in range(len(text) - 1) for item in self.vocab.contained.get(text[start : start + 2], ())
        }
        for key, kind_code in sorted(candidates, key=lambda item: (-len(item[0]), item[0])):
            position = text.find(key)
            if position < 0:
                continue
            head, tail = text[:position], text[position + len(key) :]
            if any(word in tail for word in _NOT_THE_HONOUR):  # 研究院建设项目; a longer name may still end well
                continue
            state = self.greedy(text)[1]
            state.levels = self._levels_in(head)[:1]
            state.minimum = bool(state.levels) and "以上" in head
            row = self.vocab.row_names.get(key)
            hit = _Hit(kind_code, row=row if row and row.kind_code == kind_code else None, exact=False)
            for match in _GRADE_RE.finditer(tail + head):
                grade = _grade_text(match.group(1))
                if self._grade_fits(hit, grade):
                    hit = replace(hit, grade=grade, or_better=bool(match.group(2)))
                    break
            return hit, state
        return None

    def _levels_in(self, head: str) -> list[tuple[str, str]]:
        """Return the levels named anywhere in a text: division names and level words of two characters or more."""
        for start in range(len(head)):
            region = _leading_region(head[start:], self.hint)
            if region is not None and region[0].endswith(("省", "市", "县", "区")):
                return [(region[1].level, region[1].name)]
            for word, level in _PLAIN_LEVELS:
                if len(word) >= 2 and head.startswith(word, start):
                    return [self._plain_level(level, word)]
        return []


def _match(text: str, hit: _Hit, state: _State, vocab: Vocabulary, *, exact: bool) -> HonourMatch:
    """Build the match: the row for the kind at the level read (or the row named), region, grade, qualifiers."""
    exact = exact and hit.exact and len(state.levels) <= 1
    level, region_name = state.levels[0] if state.levels else ("", "")
    rows = vocab.rows_of(hit.kind_code)
    row = hit.row
    if row is not None and level and row.level not in (level, NONE):
        # The level written (as the hint reads it: 市级 in 温岭市's policy is county level) wins over the row named.
        row = None
    if row is not None:
        level = row.level
    elif level:
        row = vocab.at_level(hit.kind_code, level)
        if row is None and len(rows) == 1 and rows[0].level == NONE:
            row, level = rows[0], NONE
    else:
        row = vocab.default_of(hit.kind_code)
        level = row.level if row else ANY
    if row is not None and row.level == NONE:
        level, region_name = NONE, ""
    in_vocabulary = row is not None and row.level == level
    kind = rows[0].kind if rows else hit.kind_code
    category = rows[0].category if rows else "other"
    qualifiers = tuple(dict.fromkeys((*state.qualifiers, *hit.qualifiers)))
    if in_vocabulary and row is not None:
        code, name = row.code, row.name
    else:
        code, name = f"{hit.kind_code}.{level}", kind
    return HonourMatch(
        text=text,
        code=code,
        kind_code=hit.kind_code,
        name=name,
        kind=kind,
        level=level,
        category=category,
        region_name=region_name if level not in (NONE, ANY) else "",
        grade=hit.grade,
        grade_or_better=hit.or_better,
        min_level=level if state.minimum and level in LEVELS else "",
        qualifiers=qualifiers,
        exact=exact,
        in_vocabulary=in_vocabulary,
    )


def _read(text: str, hint: _Region | None, vocab: Vocabulary) -> HonourMatch | None:
    cleaned = _clean(text)
    if not cleaned or _BEYOND_NATIONAL_RE.search(cleaned):  # no international level in the vocabulary
        return None
    reader = _Reader(vocab, hint)
    inexact: HonourMatch | None = None
    for variant, level_dropped in _bracket_variants(cleaned):
        key = _key(variant)
        found = reader.search(key, _State())
        if found is not None:
            hit, state = found
            if hit.row is not None and not state.levels:  # 浙江省著名商标, 市级高新技术企业: the row's own level words
                state.levels = reader.greedy(key)[1].levels[:1]
            match = _match(text, hit, state, vocab, exact=not level_dropped)
            if match.exact:
                return match
            inexact = inexact or match
    if inexact is not None:
        return inexact
    for variant, _level_dropped in reversed(_bracket_variants(cleaned)):
        found = reader.contained(_key(variant))
        if found is not None:
            return _match(text, *found, vocab, exact=False)
    return None


def normalise_honour(text: str, *, region_hint: str | None = None) -> HonourMatch | None:
    """Read one written honour into a vocabulary match, or None when it names no honour we know.

    `region_hint` is the issuing government's region (name or GB/T 2260 code); it decides what a bare 市级/县级
    means and fills `region_name`.
    """
    if not text or not text.strip():
        return None
    return _read(text, _region_hint(region_hint), vocabulary())


# --- enumerations ---------------------------------------------------------------------------------------------

_PROTECT_RE = re.compile(r"及(?:[^、，,;；/及以]{0,4}?)以上")
_CONJUNCTIONS_RE = re.compile(r"或|和|及|与|以及")
_NUMERAL_PIECES = frozenset("一二三特金银铜")
_TRAILING_GRADE_RE = re.compile(r"^(.+)的((?:特等奖|[一二三]等奖|金奖|银奖|铜奖|优秀奖))$")


def _top_level_split(text: str, separators: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if depth == 0 and char in separators:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [piece for piece in pieces if piece]


def _expand_brackets(text: str) -> str:
    """Turn level-only and listing brackets into pieces: 国家(省)X → 国家、省X; X(含A、B) → X、A、B."""
    levels = "|".join(re.escape(word) for word, _level in _PLAIN_LEVELS)
    text = re.sub(rf"\(({levels})\)", r"、\1", text)

    def listing(match: re.Match[str]) -> str:
        content = re.sub(r"^(?:含|包括|或)", "", match.group(1))
        return "、" + content

    return re.sub(r"\(((?:含|包括)[^()]*|[^()]*、[^()]*)\)", listing, text)


def split_honours(text: str, *, region_hint: str | None = None) -> list[HonourMatch]:
    """Read a text that may list several honours into one match per honour (empty when none is known).

    Levels written before a list apply to each (国家、省、市级企业技术中心 → three levels of one kind); a piece
    without a kind takes the next piece's kind, a grade alone takes the previous piece's (国家科技进步一、二等奖);
    a piece that is the end of a name takes the beginning of the previous one (国家知识产权示范企业、优势企业).
    Pieces that inherited something are not exact. "省级以上企业技术中心" is one match with `min_level`.
    """
    hint = _region_hint(region_hint)
    vocab = vocabulary()
    whole = _read(text, hint, vocab) if text and text.strip() else None
    cleaned = _clean(text)
    expanded = _expand_brackets(cleaned)
    pieces = _top_level_split(_PROTECT_RE.sub(lambda m: m.group(0).replace("及", "\0"), expanded), _PIECE_SEPARATORS)
    pieces = [piece.replace("\0", "及") for piece in pieces]
    if whole is not None and whole.exact and (len(pieces) <= 1 or _read(pieces[0], hint, vocab) is None):
        return [whole]  # 守信用、重合同单位 is one name
    # A piece that does not read on its own may be a list joined by 或/和/及/与.
    refined: list[str] = []
    for piece in pieces:
        single = _read(piece, hint, vocab)
        if single is not None and single.exact:
            refined.append(piece)
            continue
        protected = _PROTECT_RE.sub(lambda m: m.group(0).replace("及", "\0"), piece)
        parts = [part.replace("\0", "及") for part in _CONJUNCTIONS_RE.split(protected) if part]
        if len(parts) > 1 and all(_read(part, hint, vocab) is not None for part in parts):
            refined.extend(parts)
        else:
            refined.append(piece)
    pieces = refined
    if len(pieces) <= 1:
        return [whole] if whole else []
    grade_for_all = ""
    last = _TRAILING_GRADE_RE.match(pieces[-1])
    if last:
        pieces[-1], grade_for_all = last.group(1), last.group(2)
    # 一、二、三等奖 and 金、银、铜奖: a bare numeral takes the ending of the last piece.
    ending = re.search(r"(等奖|奖)$", pieces[-1])
    if ending:
        pieces = [piece + ending.group(1) if piece in _NUMERAL_PIECES else piece for piece in pieces]
        pieces = [
            piece + ending.group(1) if re.search(r"[^等][一二三特]$", piece) and index < len(pieces) - 1 else piece
            for index, piece in enumerate(pieces)
        ]
    readings = [_read(piece, hint, vocab) for piece in pieces]
    results: list[HonourMatch] = []
    for index, reading in enumerate(readings):
        piece = pieces[index]
        if reading is None:
            reading = _complete(piece, readings[:index], pieces[:index], hint, vocab)
        if reading is None:
            continue
        if _level_only(piece, hint, vocab):  # 国家、省、市级X: a level alone takes the next kind
            donor = next((r for r in readings[index + 1 :] if r is not None and not r.generic), None)
            if donor is None:
                donor = next((r for r in reversed(readings[:index]) if r is not None and not r.generic), None)
            if donor is not None:
                reading = _at_level(donor, reading.level, reading.region_name, reading.min_level, text, vocab)
        elif reading.kind_code == "award" and reading.grade:  # a grade alone: the previous award
            donor = next((r for r in reversed(results) if r.category == "award" and not r.generic), None)
            if donor is not None and reading.level in (ANY, donor.level):
                reading = replace(donor, text=text, grade=reading.grade, grade_or_better=reading.grade_or_better,
                                  exact=False)  # fmt: skip
        elif reading.level in (ANY,) and results and results[-1].level in LEVELS:
            previous = results[-1]
            reading = _at_level(reading, previous.level, previous.region_name, previous.min_level, text, vocab)
        if grade_for_all and not reading.grade and reading.category == "award":
            reading = replace(reading, grade=grade_for_all)
        results.append(replace(reading, text=text) if reading.text != text else reading)
    unique: dict[str, HonourMatch] = {}
    for result in results:
        unique.setdefault(result.key, result)
    if not unique:
        return [whole] if whole else []
    return list(unique.values())


def _level_only(piece: str, hint: _Region | None, vocab: Vocabulary) -> bool:
    """Tell whether a piece is only a level (国家, 省级以上), not a generic honour written out (国家级荣誉称号)."""
    found = _Reader(vocab, hint).search(_key(_clean(piece)), _State())
    return found is not None and found[0].kind_code == "honour" and found[0].level_only


def _at_level(match: HonourMatch, level: str, region_name: str, min_level: str, text: str,
              vocab: Vocabulary) -> HonourMatch:  # fmt: skip
    """Return the match's kind at another level (from a neighbouring piece); not exact."""
    row = vocab.at_level(match.kind_code, level)
    rows = vocab.rows_of(match.kind_code)
    if row is None and rows and all(r.level == NONE for r in rows):
        return replace(match, text=text, exact=False)
    return replace(
        match,
        text=text,
        code=row.code if row else f"{match.kind_code}.{level}",
        name=row.name if row else match.kind,
        level=level,
        region_name=region_name,
        min_level=min_level,
        in_vocabulary=row is not None,
        exact=False,
    )


def _complete(piece: str, previous: list[HonourMatch | None], pieces: list[str], hint: _Region | None,
              vocab: Vocabulary) -> HonourMatch | None:  # fmt: skip
    """Read the end of a name with the start of the previous piece's: 示范企业、优势企业 → 知识产权优势企业."""
    for reading, written in zip(reversed(previous), reversed(pieces), strict=False):
        if reading is None:
            continue
        rest, _state = _Reader(vocab, hint).greedy(_key(written))
        tail = _key(piece)
        for cut in range(len(rest) - 1, 0, -1):
            found = _read(rest[:cut] + tail, hint, vocab)
            if found is not None and found.exact and not found.generic:
                level_match = found if found.level not in (ANY,) else None
                if level_match is None and reading.level in LEVELS:
                    found = _at_level(found, reading.level, reading.region_name, reading.min_level, piece, vocab)
                return replace(found, text=piece, exact=False)
        return None
    return None


# --- requirements ---------------------------------------------------------------------------------------------


def _parse_held(item: str, vocab: Vocabulary) -> tuple[Honour, str] | None:
    code, _sep, grade = item.strip().partition(":")
    honour = vocab.by_code.get(code)
    if honour is None:
        return None
    return honour, _grade_text(grade) if grade else ""


def _held_with_implied(held_codes: Iterable[str], vocab: Vocabulary) -> list[tuple[Honour, str]]:
    """Return the honours held and, transitively, those they imply (with the same grade where it applies)."""
    held: list[tuple[Honour, str]] = []
    queue = [parsed for item in held_codes if (parsed := _parse_held(item, vocab)) is not None]
    seen: set[tuple[str, str]] = set()
    while queue:
        honour, grade = queue.pop()
        if (honour.code, grade) in seen:
            continue
        seen.add((honour.code, grade))
        held.append((honour, grade))
        for code in honour.implies:
            implied = vocab.by_code.get(code)
            if implied is not None:
                queue.append((implied, grade if grade in implied.grades else ""))
    return held


def _grade_rank(grade: str, honour: Honour) -> int | None:
    order = honour.grades or tuple(GRADE_SLUGS)
    return order.index(grade) if grade in order else None


def satisfies(held_codes: Iterable[str], required: HonourMatch | str) -> bool:
    """Tell whether an enterprise holding these honours meets a requirement.

    `held_codes` are vocabulary codes, with the grade of an award after a colon (`sta.provincial:first` or
    `sta.provincial:一等奖`); unknown codes count for nothing. A requirement (a match or its `key`) is met by the
    same kind at the required level, at that level or higher when it says 以上 (`min_level`), at any level when its
    level is "any", or by an honour that implies one of those (省重点企业研究院 → 省级企业研究院). An award
    requirement without a grade accepts any grade but a nomination; with a grade it needs that grade, or a better
    one when it says 及以上. A generic requirement (省级荣誉称号, 国家级一等奖) is met by any honour (or award) at
    its level. The region a requirement names (金华市级) and its qualifiers (新认定, 当年) are not checked here:
    codes carry neither; the rule engine checks them against the enterprise's region and the date obtained.
    """
    vocab = vocabulary()
    requirement = requirement_from_key(required) if isinstance(required, str) else required
    for honour, grade in _held_with_implied(held_codes, vocab):
        if not _kind_fits(requirement, honour):
            continue
        if not _level_fits(requirement, honour):
            continue
        if _grade_fits(requirement, honour, grade):
            return True
    return False


def _kind_fits(requirement: HonourMatch, honour: Honour) -> bool:
    if requirement.kind_code == honour.kind_code:
        return True
    if requirement.kind_code in GENERIC_KINDS:
        category = GENERIC_KINDS[requirement.kind_code]
        if requirement.kind_code == "rating":
            return bool(honour.grades) and requirement.grade in honour.grades
        return honour.level in LEVELS and (not category or honour.category == category)
    return False


def _level_fits(requirement: HonourMatch, honour: Honour) -> bool:
    if requirement.level in (ANY, NONE):
        return True
    if requirement.min_level:
        return LEVEL_RANK.get(honour.level, 0) >= LEVEL_RANK[requirement.min_level]
    return honour.level == requirement.level


def _grade_fits(requirement: HonourMatch, honour: Honour, grade: str) -> bool:
    if not requirement.grade:
        return grade != _NOMINATION
    if not grade:
        return False
    if grade == requirement.grade:
        return True
    if not requirement.grade_or_better:
        return False
    held_rank, required_rank = _grade_rank(grade, honour), _grade_rank(requirement.grade, honour)
    return held_rank is not None and required_rank is not None and held_rank < required_rank
