"""Chinese text helpers: one normaliser for indexing and for queries.

Folds full-width characters (NFKC), strips HTML tags and entities, folds Traditional into
Simplified (OpenCC t2s) and lower-cases Latin letters. Pinyin keys sort names the way
Chinese users expect (张 under Z) and initials let `bjqy` find 北京企业.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
_ASCII_LETTERS_RE = re.compile(r"^[a-z]+$")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(value: str) -> str:
    """Return the text with Traditional characters folded into Simplified."""
    if not value:
        return ""
    return str(_t2s().convert(value))


def normalize_text(value: str | None) -> str:
    """Return the canonical search form of a text (full-width, HTML, Traditional, case folded)."""
    if not value:
        return ""
    text = html.unescape(_TAG_RE.sub(" ", value))
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    return _SPACE_RE.sub(" ", text).strip().lower()


def compact_text(value: str | None) -> str:
    """Return the normalised text with all white space removed (for substring search)."""
    return normalize_text(value).replace(" ", "")


_GRAM_NOISE_RE = re.compile(r"[^0-9a-z\u0080-\U0010ffff]")


def name_grams(text: str) -> list[str]:
    """Return the distinct characters and character pairs of a normalised name (substring search index).

    A query is found where all of its pairs are (then checked as a substring), so 2-character words
    such as 科技 need no dictionary. Pairs with ASCII punctuation are left out on both sides.
    """
    grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
    return list(dict.fromkeys(g for g in grams if g.strip() and not _GRAM_NOISE_RE.search(g)))


def query_grams(text: str) -> list[str]:
    """Return the grams a substring query must all have (pairs, or the single character)."""
    if len(text) == 1:
        return name_grams(text)
    return list(
        dict.fromkeys(g for g in (text[i : i + 2] for i in range(len(text) - 1)) if not _GRAM_NOISE_RE.search(g))
    )


def _each_character(chars: str) -> list[str]:
    return list(chars)


def pinyin_key(value: str) -> str:
    """Return the full pinyin of a name without tones or spaces, for sorting (北京 → beijing)."""
    text = compact_text(value)
    return "".join(lazy_pinyin(text, errors="default")).lower()


def pinyin_initials(value: str) -> str:
    """Return the pinyin initials of a name (北京企业 → bjqy); Latin letters and digits are kept."""
    text = compact_text(value)
    parts = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=_each_character)  # type: ignore[arg-type]
    return "".join(parts).lower()


def is_pinyin_query(value: str) -> bool:
    """Tell whether a query is plain Latin letters (a pinyin or initials search)."""
    return bool(_ASCII_LETTERS_RE.match(value))


def pinyin_items(text: str) -> list[str]:
    """Return the lower-case pinyin of each character of a normalised text (Latin letters and digits as they are)."""
    return [item.lower() for item in lazy_pinyin(text, errors=_each_character)]  # type: ignore[arg-type]


def name_keys(value: str) -> tuple[str, str, str]:
    """Return (search form, full pinyin, initials) of a name with one pinyin pass.

    The initials are the first letter of each full-pinyin item (pypinyin's FIRST_LETTER style is defined
    that way); Latin letters and digits come through one by one.
    """
    text = compact_text(value)
    items = pinyin_items(text)
    return text, "".join(items), "".join(item[:1] for item in items)


def enterprise_name_keys(value: str) -> tuple[str, str, str, list[str]]:
    """Return (search form, full pinyin, initials, trade-name keys) of an enterprise name with one pinyin pass."""
    text = compact_text(value)
    items = pinyin_items(text)
    return text, "".join(items), "".join(item[:1] for item in items), compact_name_search_keys(text, items)


_FOLD_SYMBOLS = str.maketrans({"\u3000": " ", "％": "%", "＋": "+", "－": "-", "＝": "=", "＠": "@", "＃": "#",
                               "＆": "&", "＊": "*", "／": "/", "～": "~", "＜": "<", "＞": ">"})  # fmt: skip
_FULLWIDTH_ALNUM_RE = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_BLANK_LINES_RE = re.compile(r"\n{3,}")
_INLINE_SPACE_RE = re.compile(r"[ \t\r\f\v]+")
_BLOCK_TAG_RE = re.compile(r"<\s*/?\s*(?:p|div|br|li|tr|h[1-6])\b[^>]*>", re.IGNORECASE)


def clean_text(value: str | None, *, multiline: bool = True) -> str:
    """Return user or imported text cleaned for storage: HTML tags and entities removed, full-width letters and
    digits (１２０吨) folded to half-width, control and direction-override characters dropped, spaces tidied.

    Chinese punctuation (，。：；（）) is kept: it is the text's own typography, not debris.
    """
    if not value:
        return ""
    text = _BLOCK_TAG_RE.sub("\n", value) if multiline else value
    text = html.unescape(_TAG_RE.sub(" " if not multiline else "", text))
    text = _FULLWIDTH_ALNUM_RE.sub(lambda match: chr(ord(match.group(0)) - 0xFEE0), text)
    text = _CONTROL_RE.sub("", text.translate(_FOLD_SYMBOLS))
    lines = [_INLINE_SPACE_RE.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    if not multiline:
        return " ".join(line for line in lines if line)
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()


# --- trade-name search keys (字号) ---------------------------------------------------------------------------
#
# A registered name is usually 行政区划 + 字号 + 行业 + 组织形式 (北京市 + 怀柔 + 海盛 + 餐饮 + 有限公司), or with the
# division in brackets after the trade name (海盛（北京）餐饮有限公司). People search by the part they remember: the
# trade name, not the province. `name_search_keys` returns the pinyin initials and full pinyin of the name read from
# each place a trade name can start, for prefix search next to the full name's keys.

_REGION_FILES = ("regions_provinces.csv", "regions_cities.csv", "regions_areas.csv")
# Placeholders of the GB/T 2260 tables that are not names anyone writes in an enterprise name.
_REGION_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "县级市"}
# Suffixes a division's name is also written without (北京市 → 北京, 怀柔区 → 怀柔), longest first.
_REGION_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "林区", "新区", "矿区", "省", "市",
                    "区", "县", "盟", "旗")  # fmt: skip
# Peoples named in autonomous divisions (延边朝鲜族自治州 → 延边, 新疆维吾尔自治区 → 新疆).
_PEOPLES = (
    "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族", "白族",
    "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族",
    "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族",
    "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族",
    "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族", "各族", "维吾尔",
    "蒙古", "哈萨克", "柯尔克孜", "塔吉克",
)  # fmt: skip
# Legal forms at the end of a name (组织形式), longest first.
COMPANY_FORMS = (
    "集团股份有限公司", "集团有限责任公司", "股份有限公司", "有限责任公司", "集团有限公司", "股份合作公司",
    "有限公司", "集团公司", "股份公司", "总公司", "分公司", "公司", "有限合伙", "普通合伙", "合伙企业",
    "个人独资企业", "专业合作社", "合作社", "集团", "事务所", "工作室", "商行", "企业",
)  # fmt: skip
# Common industry words (行业表述) between a trade name and its legal form; stripped from the end one by one
# (海盛网络科技 → 海盛网络 → 海盛), never below two characters.
INDUSTRY_WORDS = (
    "科技", "技术", "信息", "网络", "数据", "软件", "智能", "电子", "通信", "电气", "数字", "互联网", "人工智能",
    "新材料", "材料", "新能源", "能源", "环保", "环境", "生物", "医药", "医疗", "健康", "康复", "食品", "餐饮",
    "酒店", "管理", "咨询", "服务", "商务", "商贸", "贸易", "商业", "进出口", "供应链", "物流", "运输", "快递",
    "仓储", "配送", "建设", "建筑", "工程", "装饰", "市政", "安装", "设计", "检测", "房地产", "地产", "置业", "开发",
    "经纪", "物业", "投资", "资产", "金融", "基金", "租赁", "担保", "保险", "文化", "传媒", "传播", "广告", "影视",
    "体育", "娱乐", "旅游", "会展", "教育", "培训", "人力资源", "劳务", "家政", "保洁", "美容", "美发", "汽车",
    "机械", "制造", "设备", "装备", "仪器", "精密", "包装", "印刷", "纺织", "服装", "服饰", "家具", "建材", "五金",
    "化工", "农业", "生态", "种植", "养殖", "林业", "发展", "实业", "产业", "控股", "电子商务",
)  # fmt: skip
_COMPANY_FORM_SET = frozenset(COMPANY_FORMS)
_INDUSTRY_WORD_SET = frozenset(INDUSTRY_WORDS)
_BRACKETS_RE = re.compile(r"\([^()]*\)")
_KEY_NOISE_RE = re.compile(r"[^0-9a-z]")
_MAX_PREFIX_STRIPS = 3  # province, city, county: 北京市怀柔区… → 怀柔区… → …


def region_name_forms(name: str) -> set[str]:
    """Return the forms a division's name is written in: 朝阳区 → {朝阳区, 朝阳}; 延边朝鲜族自治州 → {…, 延边}."""
    forms = {name}
    for suffix in _REGION_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            short = name[: -len(suffix)]
            stripped = True
            while stripped:
                stripped = False
                for people in _PEOPLES:
                    if short.endswith(people) and len(short) - len(people) >= 2:
                        short = short[: -len(people)]
                        stripped = True
            if len(short) >= 2:
                forms.add(short)
                if suffix in ("自治州", "自治县", "自治旗"):  # 延边州, 景宁县: the people dropped, the kind kept
                    forms.add(short + suffix[-1])
            break
    return forms


@lru_cache(maxsize=1)
def region_names() -> frozenset[str]:
    """Return the GB/T 2260 division names (the tables core.Region is loaded from), with and without 省/市/区/县."""
    import csv
    from pathlib import Path

    folder = Path(__file__).resolve().parent / "data"
    names: set[str] = set()
    for file_name in _REGION_FILES:
        with (folder / file_name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                name = compact_text(row.get("name") or "")
                if len(name) >= 2 and name not in _REGION_PLACEHOLDERS:
                    names.update(region_name_forms(name))
    return frozenset(names)


@lru_cache(maxsize=1)
def _region_lengths_by_first_character() -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for name in region_names():
        lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def _leading_region(text: str, start: int = 0) -> int:
    """Return the length of the longest division name at text[start:], or 0."""
    lengths = _region_lengths_by_first_character().get(text[start : start + 1])
    if lengths:
        names = region_names()
        for length in lengths:
            if text[start : start + length] in names and start + length <= len(text):
                return length
    return 0


def _suffix_lengths(suffixes: frozenset[str]) -> tuple[int, ...]:
    return tuple(sorted({len(suffix) for suffix in suffixes}, reverse=True))


_SUFFIX_LENGTHS = {_COMPANY_FORM_SET: _suffix_lengths(_COMPANY_FORM_SET),
                   _INDUSTRY_WORD_SET: _suffix_lengths(_INDUSTRY_WORD_SET)}  # fmt: skip


def _strip_suffixes(text: str, suffixes: frozenset[str], *, repeat: bool) -> str:
    """Strip the longest of the suffixes from the end (again and again with `repeat`), keeping two characters."""
    lengths = _SUFFIX_LENGTHS.get(suffixes) or _suffix_lengths(suffixes)
    stripped = True
    while stripped:
        stripped = False
        for length in lengths:
            if len(text) - length >= 2 and text[-length:] in suffixes:
                text = text[:-length]
                stripped = repeat
                break
    return text


def trade_name(value: str) -> str:
    """Return the trade name (字号) of an enterprise name: 北京市怀柔海盛餐饮有限公司 → 海盛 (best effort).

    Leading divisions and bracketed parts are dropped, then the legal form and the industry words at the end.
    """
    return _trade_name(compact_text(value))


def _trade_name(text: str) -> str:
    text = _BRACKETS_RE.sub("", text)
    for _ in range(_MAX_PREFIX_STRIPS):
        length = _leading_region(text)
        if not length or len(text) - length < 2:
            break
        text = text[length:]
    text = _strip_suffixes(text, _COMPANY_FORM_SET, repeat=False)
    # A division written after the trade name without brackets (海盛北京餐饮…) ends the trade name.
    for start in range(2, len(text) - 1):
        if _leading_region(text, start):
            text = text[:start]
            break
    return _strip_suffixes(text, _INDUSTRY_WORD_SET, repeat=True)


def _name_variants(text: str) -> list[list[int]]:
    """Return the character positions of each way to read a normalised name from a possible trade-name start."""
    variants: list[list[int]] = [list(range(len(text)))]
    # Without bracketed parts: 海盛(北京)餐饮有限公司 → 海盛餐饮有限公司.
    keep = [True] * len(text)
    for match in _BRACKETS_RE.finditer(text):
        for index in range(match.start(), match.end()):
            keep[index] = False
    positions = [index for index in range(len(text)) if keep[index]]
    plain = "".join(text[index] for index in positions)
    if len(positions) != len(text):
        variants.append(positions)
    # From after each leading division: 北京市怀柔海盛… → 怀柔海盛… → 海盛….
    start = 0
    for _ in range(_MAX_PREFIX_STRIPS):
        length = _leading_region(plain, start)
        if not length or len(plain) - start - length < 2:
            break
        start += length
        variants.append(positions[start:])
    # A division right after the trade name, without brackets: 海盛北京餐饮有限公司 → 海盛餐饮有限公司.
    rest = plain[start:]
    for offset in range(2, len(rest) - 1):
        length = _leading_region(rest, offset)
        if length:
            tail = positions[start:]
            variants.append(tail[:offset] + tail[offset + length :])
            break
    # The trade name alone, without the industry words and the legal form: 海盛.
    core = _trade_name(text)
    found = plain.find(core, start) if core else -1
    if found >= 0:
        variants.append(positions[found : found + len(core)])
    return variants


def name_search_keys(value: str) -> list[str]:
    """Return the extra pinyin keys of a name: initials and full pinyin read from each trade-name start.

    北京市怀柔海盛餐饮有限公司 gives hrhscyyxgs, huairouhaisheng…, hscyyxgs, haisheng…, so `hrhs`, `hscy` and
    `haisheng` find it as `bjshrhs` does. Only lower-case letters and digits are kept; a key that is the start of
    another key, or of the full name's own initials or pinyin (searched on their own index), is left out.
    """
    text = compact_text(value)
    return compact_name_search_keys(text, pinyin_items(text))


def compact_name_search_keys(text: str, items: list[str]) -> list[str]:
    """Return name_search_keys of a name already normalised (compact_text), given the pinyin of each character."""
    if not text:
        return []
    if len(items) != len(text):  # pragma: no cover - pypinyin gives one item per character with this error hook
        items = ["".join(pinyin_items(ch)) for ch in text]
    full_pinyin, full_initials = "".join(items), "".join(item[:1] for item in items)
    keys: set[str] = set()
    for positions in _name_variants(text):
        pinyin = _KEY_NOISE_RE.sub("", "".join(items[index] for index in positions))
        initials = _KEY_NOISE_RE.sub("", "".join(items[index][:1] for index in positions))
        keys.update(key for key in (pinyin, initials) if key)
    # The full name's own keys are searched on their own index (name_pinyin, name_initials).
    keys = {key for key in keys if not full_pinyin.startswith(key) and not full_initials.startswith(key)}
    return sorted(key for key in keys if not any(other != key and other.startswith(key) for other in keys))
