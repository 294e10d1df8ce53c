"""One Chinese tokeniser for indexing and for queries.

Pipeline: strip front matter and pinyin-in-brackets debris → `qiaoliang.core.text.normalize_text`
(HTML, NFKC full-width folding, OpenCC Traditional → Simplified, lower case) → rjieba search mode
(so 融资租赁 also yields 融资 and 租赁) with a domain dictionary (KAG products, GB/T 4754 names) → drop
punctuation, stopwords (function words, classifiers, posting boilerplate) and bare numbers → split
Latin/digit runs (sbr1502 → sbr1502, sbr). No synonym table: aliases are left to the embedding. A private
rjieba instance is used so the domain words never leak into other code.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

import rjieba

from qiaoliang.core.text import normalize_text

DATA_DIR = Path(__file__).resolve().parent / "data"

_FRONT_MATTER_RE = re.compile(r"\A\s*(?:---|\+\+\+)\s*\n.*?\n(?:---|\+\+\+)\s*(?:\n|\Z)", re.DOTALL)
_PINYIN_SYLLABLE = r"[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,6}[1-5]?"
# 口(kǒu)罩(zhào), 口（kǒu）罩 or 维保（wéi bǎo）: pinyin syllables in brackets right after a Chinese character.
_PINYIN_DEBRIS_RE = re.compile(
    r"(?<=[\u4e00-\u9fff])\s?[(（]\s?" + _PINYIN_SYLLABLE + r"(?:\s+" + _PINYIN_SYLLABLE + r")*\s?[)）]"
)
# 消 防 设 施: single Chinese characters spaced out (three or more) are one run of text.
_SPACED_CJK_RE = re.compile(r"(?<![\u4e00-\u9fff])(?:[\u4e00-\u9fff] ){2,}[\u4e00-\u9fff](?![\u4e00-\u9fff])")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_WORD_RE = re.compile(r"[\u4e00-\u9fffa-z0-9]")
_ALNUM_RE = re.compile(r"^[a-z0-9][a-z0-9.+\-]*$")
_ALNUM_PARTS_RE = re.compile(r"[a-z]+|[0-9]+")
_MIXED_RE = re.compile(r"[a-z][a-z0-9]*[0-9][a-z0-9]*|[a-z]{2,}(?=[\u4e00-\u9fff])")


def _read_lines(name: str) -> list[str]:
    path = DATA_DIR / name
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def clean_text(value: str | None) -> str:
    """Remove copy-paste debris (front matter, pinyin after characters) and normalise."""
    if not value:
        return ""
    text = _FRONT_MATTER_RE.sub("", value)
    text = _PINYIN_DEBRIS_RE.sub("", text)
    text = normalize_text(text)
    # NFKC turned full-width brackets into ASCII ones: strip debris again in the normalised form.
    text = _PINYIN_DEBRIS_RE.sub("", text)
    return _SPACED_CJK_RE.sub(lambda match: match.group(0).replace(" ", ""), text)


class Tokenizer:
    """Cut normalised Chinese text into search terms (thread-safe, deterministic)."""

    def __init__(self, *, user_words: list[str] | None = None) -> None:
        self._jieba = rjieba.Jieba()
        self._lock = threading.Lock()
        self.stopwords = frozenset(_read_lines("stopwords.txt"))
        words = _read_lines("user_dict.txt") + list(user_words or [])
        for word in words:
            if len(word) >= 2:
                self._jieba.add_word(word, 2000, "n")

    def _cut(self, text: str) -> list[str]:
        with self._lock:  # rjieba instances are not documented as thread-safe
            return self._jieba.cut_for_search(text)

    def _has_word(self, word: str) -> bool:
        with self._lock:
            return bool(self._jieba.has_word(word))

    def tokenize(self, value: str | None) -> list[str]:
        """Return the terms of a text, in order, with repeats (term frequency matters)."""
        return self.tokenize_clean(clean_text(value))

    def tokenize_clean(self, text: str) -> list[str]:
        """Tokenise a text already passed through `clean_text`."""
        if not text:
            return []
        terms: list[str] = []
        for raw in self._cut(text):
            token = raw.strip()
            if not token or not _WORD_RE.search(token) or token in self.stopwords:
                continue
            if _CJK_RE.search(token):
                found = [token]
                if _MIXED_RE.search(token):  # kn95口罩 → also kn95 and 口罩
                    found.extend(part for part in _MIXED_RE.findall(token) if len(part) >= 2 and not part.isdigit())
                if len(token) >= 5:  # search mode only yields 2- and 3-character parts; add 4-character ones
                    found.extend(token[i : i + 4] for i in range(len(token) - 3) if self._has_word(token[i : i + 4]))
            elif _ALNUM_RE.match(token) and not token.isdigit():
                # Bare numbers are quantities and prices; digits inside codes (sbr1502, n95) are kept.
                found = [token] if len(token) >= 2 else []
                parts = _ALNUM_PARTS_RE.findall(token)
                if len(parts) > 1:
                    found.extend(p for p in parts if len(p) >= 2 and not p.isdigit())
            else:
                continue
            terms.extend(found)
        return terms

    def query_terms(self, value: str | None) -> list[str]:
        """Return the distinct terms of a query text, in first-seen order."""
        return list(dict.fromkeys(self.tokenize(value)))


@lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    """Return the process-wide tokeniser (the dictionary loads once)."""
    return Tokenizer()


def tokenize(value: str | None) -> list[str]:
    """Tokenise with the default tokeniser."""
    return default_tokenizer().tokenize(value)
