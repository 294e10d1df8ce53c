"""Character features of a policy sentence for the span tagger.

Each character gets string features: the characters and character classes around it, the rjieba word it
belongs to (with its part of speech, its position in the word and the neighbouring words), where it stands
in its clause (after 对, before the 的 that closes a condition, in a clause that grants money), what
surrounds a number it is part of (以上, 以下, 达到 …), and whether it lies in a field seen in training or in a
division name. The gazetteer features are computed apart (`lexicon_features`) because they depend on the
training data.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import rjieba

from qiaoliang.core.text import region_names

_JIEBA_LOCK = threading.Lock()
_CLAUSE_END = frozenset("，,；;。：:！？!?\n")
_REWARD_RE = re.compile(r"奖励|补助|资助|给予|补贴|扶持|奖补|支持|贴息|减免|享受")
_NUMBER_RE = re.compile(
    r"\d+(?:\.\d+)?(?:[-—–~～至到]\d+(?:\.\d+)?)?\s*(?:万亿|千万|百万|万|亿|千)?\s*"
    r"(?:元|美元|欧元|港元|股|人|名|户|家|个|项|件|平方米|亩|吨|台|套|年|月|天|%|％|‰|倍)?"
)
_TRIGGERS = (
    "对", "获得", "获", "认定", "列入", "评为", "达到", "达", "超过", "在", "注册", "新", "首次", "通过", "属于",
    "从事", "具有", "符合", "以上", "以下", "不低于", "不少于", "不超过", "不高于", "低于", "高于", "为",
)  # fmt: skip
_MAX_SENTENCE = 2_000


@lru_cache(maxsize=1)
def _jieba() -> Any:
    return rjieba.Jieba()


def tagged_words(text: str) -> list[tuple[str, str]]:
    """Return the rjieba (word, part of speech) pairs of a text."""
    if not text:
        return []
    with _JIEBA_LOCK:
        return list(_jieba().tag(text))


def word_starts(text: str) -> list[bool]:
    """Return per character whether an rjieba word begins there (spans begin and end at word boundaries)."""
    text = text[:_MAX_SENTENCE]
    marks = [False] * len(text)
    position = 0
    for word, _pos in tagged_words(text):
        if position < len(marks):
            marks[position] = True
        position += len(word)
    return marks


def fold_char(ch: str) -> str:
    """Return a character as a feature sees it: full-width folded, digits as 0, Latin letters upper-case."""
    folded = unicodedata.normalize("NFKC", ch)
    if not folded:
        return ch
    folded = folded[0]
    if folded.isdigit():
        return "0"
    return folded.upper()


def char_class(ch: str) -> str:
    """Return a one-letter class: H (Han), D (digit), L (Latin), P (punctuation), S (space) or O."""
    if "\u4e00" <= ch <= "\u9fff":
        return "H"
    if ch.isdigit():
        return "D"
    if ch.isascii() and ch.isalpha():
        return "L"
    if ch.isspace():
        return "S"
    if unicodedata.category(ch).startswith("P"):
        return "P"
    return "O"


def _bucket(distance: int) -> str:
    if distance < 0:
        return "-"
    if distance <= 1:
        return str(distance)
    if distance <= 3:
        return "2"
    if distance <= 7:
        return "4"
    if distance <= 15:
        return "8"
    return "16"


@lru_cache(maxsize=1)
def _region_lengths() -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = {}
    for name in region_names():
        if len(name) >= 2:
            lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def match_positions(text: str, names: frozenset[str] | set[str], lengths: dict[str, tuple[int, ...]]) -> list[str]:
    """Return per character B/I/E/S of the longest, leftmost non-overlapping matches of names, '' outside."""
    marks = [""] * len(text)
    i = 0
    while i < len(text):
        found = 0
        for length in lengths.get(text[i], ()):
            if i + length <= len(text) and text[i : i + length] in names:
                found = length
                break
        if found:
            if found == 1:
                marks[i] = "S"
            else:
                marks[i] = "B"
                for k in range(i + 1, i + found - 1):
                    marks[k] = "I"
                marks[i + found - 1] = "E"
            i += found
        else:
            i += 1
    return marks


def sentence_features(text: str) -> list[list[str]]:
    """Return the features of each character of a sentence (text beyond 2,000 characters gets none)."""
    text = text[:_MAX_SENTENCE]
    n = len(text)
    if not n:
        return []
    chars = [fold_char(ch) for ch in text]
    classes = [char_class(ch) for ch in text]
    padded = ["^", "^", *chars, "$", "$"]
    cpadded = ["^", "^", *classes, "$", "$"]

    # words
    word_of = [0] * n
    words: list[tuple[str, str, int, int]] = []
    position = 0
    for word, pos in tagged_words(text):
        start, end = position, position + len(word)
        for k in range(start, min(end, n)):
            word_of[k] = len(words)
        words.append((word, pos, start, end))
        position = end

    # clauses
    clause_start = [0] * n
    clause_end = [n] * n
    start = 0
    for k in range(n + 1):
        if k == n or text[k] in _CLAUSE_END:
            for m in range(start, k):
                clause_start[m], clause_end[m] = start, k
            start = k + 1
    sentence_reward = "1" if _REWARD_RE.search(text) else "0"
    clause_info: dict[int, tuple[str, str, str]] = {}

    # numbers
    number_info: dict[int, tuple[str, str, str]] = {}
    for match in _NUMBER_RE.finditer(text):
        if match.end() - match.start() < 1 or not text[match.start()].isdigit():
            continue
        after = text[match.end() : match.end() + 3]
        before_word = ""
        before_index = word_of[match.start()] - 1
        if before_index >= 0:
            before_word = words[before_index][0]
        unit = re.sub(r"[\d.\s]", "", match.group(0))[:3]
        for k in range(match.start(), match.end()):
            number_info[k] = (after[:2], before_word, unit)

    regions = match_positions(text, region_names(), _region_lengths())

    features: list[list[str]] = []
    for i in range(n):
        p = i + 2
        c0, cm1, cp1, cm2, cp2 = padded[p], padded[p - 1], padded[p + 1], padded[p - 2], padded[p + 2]
        w_index = word_of[i]
        word, pos, w_start, w_end = words[w_index]
        previous_word = words[w_index - 1][0] if w_index > 0 else "^"
        next_word = words[w_index + 1][0] if w_index + 1 < len(words) else "$"
        previous_pos = words[w_index - 1][1] if w_index > 0 else "^"
        if w_end - w_start == 1:
            in_word = "S"
        elif i == w_start:
            in_word = "B"
        elif i == w_end - 1:
            in_word = "E"
        else:
            in_word = "M"
        cs, ce = clause_start[i], clause_end[i]
        if cs not in clause_info:
            clause = text[cs:ce]
            following = text[ce + 1 : ce + 30]
            clause_info[cs] = (
                "1" if _REWARD_RE.search(clause) else "0",
                clause[:1] if clause[:1] in "对凡经在从" else "-",
                "1" if _REWARD_RE.search(following) else "0",
            )
        clause_reward, clause_first, next_reward = clause_info[cs]
        de_ahead = text.find("的", i + 1, ce)
        de_distance = de_ahead - i if de_ahead != -1 else -1
        trigger = "-"
        trigger_distance = -1
        for word_index in range(w_index - 1, max(-1, w_index - 12), -1):
            candidate, _pos, candidate_start, _end = words[word_index]
            if candidate_start < cs:
                break
            if candidate in _TRIGGERS:
                trigger, trigger_distance = candidate, i - candidate_start
                break
        row = [
            "b",
            "c0=" + c0,
            "c-1=" + cm1,
            "c+1=" + cp1,
            "c-2=" + cm2,
            "c+2=" + cp2,
            "c-1c0=" + cm1 + c0,
            "c0c+1=" + c0 + cp1,
            "c-2c-1=" + cm2 + cm1,
            "c+1c+2=" + cp1 + cp2,
            "c-1c0c+1=" + cm1 + c0 + cp1,
            "t=" + cpadded[p - 1] + cpadded[p] + cpadded[p + 1],
            "w=" + word,
            "wp=" + in_word + word,
            "pos=" + in_word + pos,
            "w-1=" + previous_word,
            "w+1=" + next_word,
            "pos-1=" + previous_pos,
            "wstart-1=" + (previous_word if in_word in "BS" else "~"),
            "wend+1=" + (next_word if in_word in "ES" else "~"),
            "cr=" + clause_reward + clause_first + next_reward + sentence_reward,
            "de=" + _bucket(de_distance),
            "cs=" + _bucket(i - cs),
            "ce=" + _bucket(ce - i - 1),
            "tr=" + trigger + _bucket(trigger_distance),
            "tr=" + trigger,
        ]
        number = number_info.get(i)
        if number is not None:
            after, before_word, unit = number
            row += ["n", "n+=" + after, "n-=" + before_word, "nu=" + unit, "nu+=" + unit + after]
        if regions[i]:
            row.append("rg=" + regions[i])
        features.append(row)
    return features


def lexicon_lengths(names: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """Return, per first character, the lengths of the names starting with it, longest first."""
    lengths: dict[str, set[int]] = {}
    for name in names:
        if name:
            lengths.setdefault(name[0], set()).add(len(name))
    return {first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()}


def lexicon_features(text: str, names: set[str] | frozenset[str], lengths: dict[str, tuple[int, ...]]) -> list[str]:
    """Return per character the gazetteer feature ('' when the character is in no known field)."""
    marks = match_positions(text[:_MAX_SENTENCE], names, lengths)
    return ["lx=" + mark if mark else "" for mark in marks]


def feature_rows(texts: Sequence[str]) -> list[list[list[str]]]:
    """Return the features of many sentences."""
    return [sentence_features(text) for text in texts]
