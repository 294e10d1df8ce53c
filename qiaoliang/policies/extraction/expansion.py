"""Turn a tagged span into the fields the annotators would write.

Most spans are one field. A span that enumerates with a shared head or prefix is expanded:

- modifiers with a shared head: 国家级、省级、台州市级企业技术中心 → 国家级企业技术中心, 省级企业技术中心,
  台州市级企业技术中心; 一、二、三等奖 → 一等奖, 二等奖, 三等奖; 国家三星级、四星级旅游饭店 → 国家三星级旅游饭店, …
  (a level or grade left of the first modifier is shared as well);
- short items with a shared head: 发明、实用新型、外观设计专利授权 → 发明专利授权, …;
- full items after a shared verb: 列入国家火炬计划、国家星火计划 → 列入国家火炬计划, 列入国家星火计划;
- a numeric range: 1000-5000万元 → 1000万元, 5000万元;
- a list of grades at the end, after words that may enumerate themselves: 国家级、省级创业大赛一、二、三等奖 →
  six fields; medals: 技能大赛金、银、铜奖 → 技能大赛金奖, …; complete awards, then full items:
  国家科学技术一等奖、二等奖和省科学技术一等奖 → three fields; letter grades with their own 级 (AAA级、AAAA级称号
  → AAA级, AAAA级); quoted names before 品牌称号, 荣誉称号, 认定 ….
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

import rjieba

from qiaoliang.core.text import region_names
from qiaoliang.policies.extraction.data import PREFIX_RE

SEPARATOR_TOKENS = frozenset({"、", "/", "／", "和", "及", "或", "与", "以及", "或者", "和/或"})
PREFIX_WORDS = frozenset(
    {
        "对", "获得", "获", "新", "认定", "被", "为", "评为", "评定", "列入", "入选", "的", "首次", "当年", "新获",
        "新获得", "成功", "创建", "通过", "荣获", "取得", "经", "获批", "新认定", "新评", "被评", "命名", "确定",
        "具有", "符合", "参与", "新创", "创成", "认定为", "评上", "新评上", "争创", "新晋", "复评", "首次获得",
        "当年度", "年度", "新引进", "引进",
    }
)  # fmt: skip
_LEVEL = r"(?:国际|国家|全国|中国|省部|省|市|县|区|镇|乡|村|浙江省|浙江|(?:(?!级)[\u4e00-\u9fff]){2,4}?[市县区])级?"
_GRADE = (
    r"(?:[一二三四五六七八九十]+|\d+|[A-Z]{1,5}|[ⅠⅡⅢⅣⅤ]+)(?:级|等奖|等|星级|星|类)?"
    r"|[金银铜](?:奖|牌|鼎级|叶级)?|(?:特等|优秀|提名|鼓励)奖"
)
MODIFIER_RE = re.compile(rf"(?:{_LEVEL})?(?:{_GRADE})?")
_GRADE_RE = re.compile(_GRADE)
_BARE_RE = re.compile(r"(?:[一二三四五六七八九十]+|\d+|[A-Z]{1,5}|[ⅠⅡⅢⅣⅤ]+)")
_RANGE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*[-—–~～至到]\s*(\d+(?:\.\d+)?)(\D{1,4})$")
_MAX_MODIFIER = 8
_OPENING = frozenset("（(《“[【")
_CLOSING = frozenset("）)》”]】")

_JIEBA_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _jieba() -> Any:
    return rjieba.Jieba()


def tokens(text: str) -> list[str]:
    """Return the rjieba tokens of a text."""
    if not text:
        return []
    with _JIEBA_LOCK:
        return list(_jieba().cut(text))


def is_modifier(text: str) -> bool:
    """Return whether a text is a level (国家级, 省, 嘉兴市级) or a grade (三级, AAA, 二等奖, 金奖) or both."""
    return bool(text) and len(text) <= _MAX_MODIFIER and MODIFIER_RE.fullmatch(text) is not None


def _split_chunks(text: str) -> list[str]:
    """Split a span at its list separators (rjieba tokens outside brackets and quotes).

    A slash between letters or digits (ISO27001/BS7799, 万元/亩) and 及 before 以上 or 以下 do not separate.
    """
    chunks, current, depth = [], "", 0
    parts = tokens(text)
    for position, part in enumerate(parts):
        if part in _OPENING:
            depth += 1
        elif part in _CLOSING:
            depth = max(0, depth - 1)
        following = parts[position + 1] if position + 1 < len(parts) else ""
        joins = (
            (part in {"/", "／"} and current[-1:].isascii() and following[:1].isascii())
            or (part == "及" and following.startswith(("以上", "以下")))
            or (part in {"/", "／"} and following[:1] in {"亩", "平", "人", "年", "月", "件", "个", "台", "套"})
        )
        if depth == 0 and part in SEPARATOR_TOKENS and not joins:
            chunks.append(current)
            current = ""
        else:
            current += part
    chunks.append(current)
    return chunks


def _leading_prefix(chunk: str) -> str:
    """Return the shared verb or time words at the start of a chunk (获得, 新认定为, 当年列入 …)."""
    prefix = ""
    for token in tokens(chunk):
        if token in PREFIX_WORDS and len(prefix) + len(token) < len(chunk):
            prefix += token
        else:
            break
    return prefix


def _modifier_suffix(chunk: str) -> str:
    """Return the shortest modifier the chunk ends with (国家级 of 新认定为国家级), or ''."""
    for length in range(1, min(len(chunk), _MAX_MODIFIER) + 1):
        if is_modifier(chunk[-length:]):
            while length < len(chunk) and _BARE_RE.fullmatch(chunk[-length - 1 :]):  # all of AAA, not its last A
                length += 1
            if chunk[-length:].rstrip("级") in _BARE_LEVELS:  # all of 嘉兴市, not its 市 (a known place only)
                places = region_names()
                length = next(
                    (n for n in range(min(len(chunk), 6), length, -1) if chunk[-n:].removesuffix("级") in places),
                    length,
                )
            while (  # all of AAA级, not A级
                length < len(chunk)
                and "A" <= chunk[-length - 1] <= "Z"
                and "A" <= chunk[-length] <= "Z"
                and is_modifier(chunk[-length - 1 :])
            ):
                length += 1
            return chunk[-length:]
    return ""


def _modifier_prefix(chunk: str, previous: str) -> str:
    """Return the modifier the last chunk starts with (省级 of 省级企业技术中心), leaving a head of 1+ characters."""
    if _BARE_RE.fullmatch(previous):
        match = _BARE_RE.match(chunk)
        return match.group(0) if match and match.end() < len(chunk) else ""
    for length in range(min(len(chunk) - 2, _MAX_MODIFIER), 0, -1):
        if is_modifier(chunk[:length]) and chunk[length:] != "级":
            return chunk[:length]
    return ""


def _token_cut(text: str, near: int) -> int:
    """Return the token boundary of text nearest to a character position (not 0 nor the end)."""
    bounds, position = [], 0
    for token in tokens(text)[:-1]:
        position += len(token)
        bounds.append(position)
    return min(bounds, key=lambda bound: (abs(bound - near), bound)) if bounds else 0


_BARE_LEVELS = frozenset({"国家", "省", "市", "县", "区"})
_TITLE_WORDS = frozenset({"称号", "荣誉称号"})


def _with_level_suffix(modifiers: list[str]) -> list[str]:
    """Write 国家 as 国家级 when another modifier of the list has 级 (国家、省级 → 国家级, 省级), as annotators do."""
    if not any(modifier.endswith("级") for modifier in modifiers):
        return modifiers
    return [modifier + "级" if modifier in _BARE_LEVELS else modifier for modifier in modifiers]


def _distribute(prefix: str, items: list[str]) -> list[str] | None:
    """Return the fields of items whose leading modifiers share the head of the next full item, or None.

    Runs of modifiers (国家级, 省级) take the head of the next item that starts with a modifier; other items stand
    alone. None when no run of modifiers is followed by such an item.
    """
    fields: list[str] = []
    pending: list[str] = []
    distributed = standalone = False
    for position, item in enumerate(items):
        is_last = position == len(items) - 1
        if is_modifier(item) and not is_last:
            pending.append(item)
            continue
        if pending and is_last and is_modifier(item) and not _BARE_RE.fullmatch(pending[-1]):
            # all modifiers (省科技进步一等奖、二等奖、三等奖): each takes the words before the first one;
            # bare medals take the last one's noun (大赛金、银、铜奖 → 大赛金奖, 大赛银奖, 大赛铜奖)
            modifiers = _with_level_suffix([*pending, item])
            medal = _MEDAL_RE.fullmatch(item)
            if medal and all(modifier in "金银铜" for modifier in pending):
                modifiers = [modifier + medal.group(2) for modifier in pending] + [item]
            fields.extend(prefix + modifier for modifier in modifiers)
            pending = []
            distributed = True
            continue
        if pending and prefix and pending[0].endswith("奖"):
            # complete awards, then full items (国家科学技术一等奖、二等奖和省科学技术一等奖): those stand alone
            fields.extend(prefix + modifier for modifier in pending)
            fields.append(item)
            pending = []
            distributed = standalone = True
            continue
        if pending:
            leading = _modifier_prefix(item, pending[-1])
            if not leading:
                return None
            head = item[len(leading) :]
            if head in _TITLE_WORDS and all(_GRADE_RE.fullmatch(m) for m in [*pending, leading]):
                head = ""  # AAA级、AAAA级称号 → AAA级, AAAA级 (but 国家级、省级荣誉称号 keeps its head)
            modifiers = _with_level_suffix([*pending, leading])
            fields.extend(prefix + modifier + head for modifier in modifiers)
            pending = []
            distributed = True
        else:
            fields.append(item if standalone else prefix + item)
    return fields if distributed else None


_QUOTED_RE = re.compile(r"“([^“”]+)”")
_QUOTED_REST_RE = re.compile(
    r"^[、，,和及或与等的\s]*(?:品牌|荣誉|企业)?(?:称号|荣誉|品牌|认定|认证)?[、，,和及或与等的\s]*$"
)
_MEDAL_RE = re.compile(r"([金银铜])(奖|牌)")
_GRADE_LIST_RE = re.compile(
    r"(?P<grades>[一二三四五六七八九十](?:[、和及或与][一二三四五六七八九十])+)(?P<suffix>等奖|等|星级|级|类)$"
)


def _grade_list(span: str) -> list[str] | None:
    """Return the fields of a span that ends with a list of grades (省级创业大赛一、二、三等奖), else None.

    The words before the grades may enumerate themselves (国家级、省级创业大赛一、二、三等奖 → six fields).
    """
    match = _GRADE_LIST_RE.search(span)
    if match is None:
        return None
    grades = re.split(r"[、和及或与]", match.group("grades"))
    body = span[: match.start()]
    bodies = expand(body) if body else [""]
    return [head + grade + match.group("suffix") for head in bodies for grade in grades]


def _quoted_items(span: str) -> list[str] | None:
    """Return the quoted names of a span that is a list of them (新认定为“A”“B”称号 → A, B), else None."""
    items = _QUOTED_RE.findall(span)
    if len(items) < 2:
        return None
    first = span.index("“")
    rest = _QUOTED_RE.sub("、", span[first:])
    if not _QUOTED_REST_RE.match(rest) or (first and not PREFIX_RE.fullmatch(span[:first])):
        return None
    return items


def expand(span: str) -> list[str]:
    """Return the fields a span stands for (itself, or the members of its enumeration), without repeats."""
    span = span.strip()
    if not span:
        return []
    quoted = _quoted_items(span)
    if quoted:
        return list(dict.fromkeys(quoted))
    graded = _grade_list(span)
    if graded:
        return list(dict.fromkeys(graded))
    ranged = _RANGE_RE.match(span)
    if ranged:
        low, high, unit = ranged.groups()
        return [low + unit, high + unit]
    chunks = _split_chunks(span)
    if len(chunks) < 2 or any(not chunk for chunk in chunks):
        return [span]
    first = chunks[0]
    first_modifier = _modifier_suffix(first)
    if first_modifier:
        distributed = _distribute(first[: -len(first_modifier)], [first_modifier, *chunks[1:]])
        if distributed:
            return list(dict.fromkeys(distributed))
    prefix = _leading_prefix(first)
    items = [first[len(prefix) :], *chunks[1:]]
    last = items[-1]
    longest = max(len(item) for item in items[:-1])
    if longest <= 4 and len(last) >= longest + 2:
        cut = _token_cut(last, len(items[-2]))
        if cut:
            head = last[cut:]
            fields = [prefix + item + head for item in items[:-1]] + [prefix + last]
            return list(dict.fromkeys(fields))
    return list(dict.fromkeys(prefix + item for item in items))
