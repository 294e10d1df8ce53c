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


def name_keys(value: str) -> tuple[str, str, str]:
    """Return (search form, full pinyin, initials) of a name with one pinyin pass.

    The initials are the first letter of each full-pinyin item (pypinyin's FIRST_LETTER style is defined
    that way); Latin letters and digits come through one by one.
    """
    text = compact_text(value)
    items = lazy_pinyin(text, errors=_each_character)  # type: ignore[arg-type]
    return text, "".join(items).lower(), "".join(item[:1] for item in items).lower()


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
