"""Industries as people write them: GB/T 4754-2017 codes of any level, class names and common words.

`IndustryResolver.resolve` accepts a section letter (I), a 2-, 3- or 4-digit code (62, 621, 6210; a class
code typed into a number cell loses its leading zero and gets it back), a class name (旅行社及相关服务) or a
word people use for it (旅行社 → 7291, 餐饮 → 62 餐饮业, 银行 → 662 货币银行服务). A word that fits classes
in different branches is refused with the candidates listed, never guessed.

Words are read in this order, the first that finds something decides:
1. the name itself; then the name with a usual ending added (餐饮 → 餐饮业, 律师 → 律师服务);
2. the words of `data/industry_words.csv` (common words whose class name does not contain them: 酒店 → 住宿业);
3. the class names that start with the word, then those that contain it.
Where several classes answer and they all lie in one branch, the branch's top class answers (软件 → 65 软件和信息
技术服务业 over 651 软件开发); where a chain of classes carries the same name (其他采矿业 12/120/1200), the
most specific one.
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from qiaoliang.core.text import compact_text

DATA_DIR = Path(__file__).resolve().parent / "data"
# Endings a word is written without (餐饮 → 餐饮业). Not 制造: 家具 is made, sold and rented, so it stays a question.
_ENDINGS = ("业", "服务", "服务业", "及相关服务", "行业")
_PUNCTUATION_RE = re.compile(r"[、，,;；()（）\[\]【】\s·.。/]+")
# A code written with its section letter (L7291) and/or its name (7291 旅行社及相关服务), as exports write it.
_CODE_AND_NAME_RE = re.compile(r"^([A-T])?(\d{2,4})(.*)$")
_MAX_CANDIDATES_SHOWN = 6


@dataclass(frozen=True)
class IndustryClass:
    code: str
    name: str
    level: int
    parent: str | None
    section: str

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class IndustryMatch:
    """What a value resolved to; `error` set (and `candidates` when ambiguous) when it could not be resolved."""

    text: str
    industry: IndustryClass | None = None
    how: str = ""  # "code", "name" or "word"
    error: str = ""
    candidates: tuple[IndustryClass, ...] = ()

    @property
    def code(self) -> str | None:
        return self.industry.code if self.industry else None

    def describe(self) -> str:
        """Return what the preview says for a word ('旅行社 → 7291 旅行社及相关服务'), else ''."""
        if self.industry is None or self.how != "word":  # a code or a class name written out says itself
            return ""
        return _("%(text)s → %(code)s %(name)s") % {
            "text": self.text,
            "code": self.industry.code,
            "name": self.industry.name,
        }


def _words() -> dict[str, str]:
    path = DATA_DIR / "industry_words.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return {_name_key(row["word"]): row["code"] for row in csv.DictReader(handle)}


class IndustryResolver:
    """Resolve industry codes, names and words against the GB/T 4754-2017 table."""

    def __init__(self, classes: list[IndustryClass], words: dict[str, str] | None = None) -> None:
        self.by_code = {item.code: item for item in classes}
        self.by_name: dict[str, list[IndustryClass]] = {}
        for item in classes:
            self.by_name.setdefault(_name_key(item.name), []).append(item)
        self.words = {word: code for word, code in (words or {}).items() if code in self.by_code}
        self._memo: dict[str, IndustryMatch] = {}  # a roster repeats its words

    def _ancestors(self, item: IndustryClass) -> list[str]:
        codes = []
        current: IndustryClass | None = item
        while current is not None:
            codes.append(current.code)
            current = self.by_code.get(current.parent) if current.parent else None
        return codes

    def _one_branch(self, items: list[IndustryClass]) -> IndustryClass | None:
        """Return the class every item lies under (the top one), or the most specific of a same-name chain."""
        if len(items) == 1:
            return items[0]
        top = min(items, key=lambda item: (item.level, item.code))
        if all(top.code in self._ancestors(item) for item in items):
            if len({item.name for item in items}) == 1:
                return max(items, key=lambda item: item.level)
            return top
        return None

    def _ambiguous(self, text: str, items: list[IndustryClass]) -> IndustryMatch:
        shown = sorted(items, key=lambda item: item.code)
        listed = "、".join(str(item) for item in shown[:_MAX_CANDIDATES_SHOWN])
        if len(shown) > _MAX_CANDIDATES_SHOWN:
            listed += " " + _("and %(count)d more") % {"count": len(shown) - _MAX_CANDIDATES_SHOWN}
        return IndustryMatch(
            text,
            candidates=tuple(shown),
            error=_("%(text)s fits several industries: %(candidates)s. Write the code of the one meant.")
            % {"text": text, "candidates": listed},
        )

    def resolve(self, value: Any) -> IndustryMatch:
        """Resolve a cell or field value; an empty value gives an empty match."""
        if value is None:
            return IndustryMatch("")
        number_cell = isinstance(value, int | float) and not isinstance(value, bool)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        norm = compact_text(text).upper()
        if not norm:
            return IndustryMatch("")
        written = _CODE_AND_NAME_RE.match(norm)
        if written and not (norm.isascii() and norm.isalnum() and not written.group(1)):
            coded = self._code_with_name(text, written.group(1) or "", written.group(2), written.group(3))
            if coded is not None:
                return coded
        if norm.isascii() and norm.isalnum():
            if norm in self.by_code:
                return IndustryMatch(text, industry=self.by_code[norm], how="code")
            padded = norm.zfill(len(norm) + 1) if norm.isdigit() else ""
            if number_cell and padded in self.by_code:
                return IndustryMatch(text, industry=self.by_code[padded], how="code")
            return IndustryMatch(text, error=_("%(code)s is not a GB/T 4754-2017 industry code.") % {"code": text})
        word = _name_key(text)
        known = self._memo.get(word)
        if known is None:
            known = self._resolve_word(text, word)
            if len(self._memo) < 10_000:
                self._memo[word] = known
        return known if known.text == text else IndustryMatch(text, known.industry, known.how, known.error.replace(
            known.text, text, 1), known.candidates)  # fmt: skip

    def _code_with_name(self, text: str, letter: str, digits: str, name: str) -> IndustryMatch | None:
        """Read L7291 or 7291 旅行社及相关服务: the code decides; a letter or name that contradicts it is an error."""
        item = self.by_code.get(digits)
        if item is None:
            return None
        name_key = _name_key(name)
        if (letter and letter != item.section) or (name_key and name_key != _name_key(item.name)):
            return IndustryMatch(
                text,
                error=_("%(text)s: the code %(code)s is %(name)s; write the code or the name alone.")
                % {"text": text, "code": item.code, "name": item.name},
            )
        return IndustryMatch(text, industry=item, how="code")

    def _resolve_word(self, text: str, word: str) -> IndustryMatch:
        for found, how in self._lookups(word):
            if not found:
                continue
            chosen = self._one_branch(found)
            if chosen is None:
                return self._ambiguous(text, found)
            return IndustryMatch(text, industry=chosen, how=how)
        message = _("%(text)s is no GB/T 4754-2017 industry name we know; write the code (such as 7291) or the "
                    "class name.")  # fmt: skip
        return IndustryMatch(text, error=message % {"text": text})

    def _lookups(self, word: str) -> Iterator[tuple[list[IndustryClass], str]]:
        yield self.by_name.get(word, []), "name"
        for ending in _ENDINGS:
            yield self.by_name.get(word + ending, []), "word"
        if word in self.words:
            yield [self.by_code[self.words[word]]], "word"
        if len(word) >= 2:  # every class whose name holds the word: one branch answers, several are a question
            yield [item for name, items in self.by_name.items() if word in name for item in items], "word"


def _name_key(text: str) -> str:
    """Return a name as compared: 农、林、牧、渔业 and 农林牧渔业 are one."""
    return _PUNCTUATION_RE.sub("", compact_text(text))


_lock = threading.Lock()
_cached: tuple[int, IndustryResolver] | None = None


def resolver() -> IndustryResolver:
    """Return the resolver over the Industry table (rebuilt when its size changes)."""
    global _cached
    from qiaoliang.core.models import Industry

    count = Industry.objects.count()
    with _lock:
        if _cached is not None and _cached[0] == count:
            return _cached[1]
    classes = [IndustryClass(*row) for row in Industry.objects.values_list("code", "name", "level", "parent_id",
                                                                           "section")]  # fmt: skip
    built = IndustryResolver(classes, _words())
    with _lock:
        _cached = (count, built)
    return built
