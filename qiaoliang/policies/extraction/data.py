"""The annotated policy sentences and their eligibility entries: reading, the frozen split, span alignment.

An entry's ``field`` is usually a literal span of its sentence. Many of the others are one member of an
enumeration written with a shared head (国家级、省级企业技术中心 → 国家级企业技术中心, 省级企业技术中心):
such a field is aligned to the sentence as up to three pieces in order, separated by gaps that hold a list
separator, and the tagger is taught the whole stretch from the first piece to the last.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "zj"
SENTENCES_FILE = DATA_DIR / "policy_sentences_dev.csv"
ENTRIES_FILE = DATA_DIR / "policy_eligibility_entries_dev.csv"

FROZEN_TEST_SEED = 0
FROZEN_TEST_FRACTION = 0.2
MAX_GAP = 24
MAX_PIECES = 3
_SEPARATOR_RE = re.compile(r"[、/和及或与]")
_CLAUSE_RE = re.compile(r"[，,。；;：:！？!?\n]")
_NUMERIC_FIELD_RE = re.compile(r"^(\d+(?:\.\d+)?)(.*)$")


@dataclass(frozen=True)
class Entry:
    """One eligibility condition as the annotators wrote it."""

    entry_type: str
    var: str
    relation: str
    field: str


@dataclass
class Sentence:
    """A policy sentence with its entries (empty when it states no condition)."""

    sid: str
    uid: str
    text: str
    entries: list[Entry] = field(default_factory=list)


def clean_label(value: object) -> str:
    """Return a label cell stripped of spaces (a few entry types were typed with a leading space)."""
    return str(value or "").strip()


def build_sentences(
    sentences: Iterable[tuple[str, str, str]], entries: Iterable[Mapping[str, object]]
) -> list[Sentence]:
    """Join entries to their sentences by sid; entries without a field or an unknown sid are left out."""
    result: dict[str, Sentence] = {}
    for sid, uid, text in sentences:
        result[str(sid)] = Sentence(sid=str(sid), uid=str(uid), text=str(text or ""))
    for row in entries:
        sentence = result.get(clean_label(row.get("sid")))
        value = str(row.get("field") or "").strip()
        if sentence is None or not value:
            continue
        entry = Entry(
            entry_type=clean_label(row.get("entry_type")),
            var=clean_label(row.get("var")),
            relation=clean_label(row.get("relation")),
            field=value,
        )
        if entry not in sentence.entries:
            sentence.entries.append(entry)
    return list(result.values())


def read_dev_rows(
    sentences_file: Path = SENTENCES_FILE, entries_file: Path = ENTRIES_FILE
) -> tuple[list[tuple[str, str, str]], list[dict[str, str]]]:
    """Return the shipped dev split: (sid, uid, sentence) triples and entry rows."""
    with sentences_file.open(encoding="utf-8-sig", newline="") as handle:
        sentence_rows = [(row["sid"], row["uid"], row["sentence"]) for row in csv.DictReader(handle)]
    with entries_file.open(encoding="utf-8-sig", newline="") as handle:
        entry_rows = [dict(row) for row in csv.DictReader(handle)]
    return sentence_rows, entry_rows


def load_dev() -> list[Sentence]:
    """Return the shipped dev sentences with their entries."""
    sentence_rows, entry_rows = read_dev_rows()
    return build_sentences(sentence_rows, entry_rows)


def _uid_key(uid: str) -> tuple[int, str]:
    return (int(uid), uid) if uid.isdigit() else (1 << 62, uid)


def frozen_test_policies(uids: Iterable[str]) -> frozenset[str]:
    """Return the policies (uids) set aside as the final test: 20 %, chosen with a fixed seed, grouped."""
    ordered = sorted(set(uids), key=_uid_key)
    order = np.random.default_rng(FROZEN_TEST_SEED).permutation(len(ordered))
    count = round(FROZEN_TEST_FRACTION * len(ordered))
    return frozenset(ordered[int(i)] for i in order[:count])


def grouped_folds(uids: Iterable[str], folds: int, seed: int) -> dict[str, int]:
    """Return a fold number per policy: the policies shuffled with the seed and dealt round-robin."""
    ordered = sorted(set(uids), key=_uid_key)
    order = np.random.default_rng(seed).permutation(len(ordered))
    return {ordered[int(i)]: position % folds for position, i in enumerate(order)}


# --- alignment of fields to the sentence ------------------------------------------------------------------------


def _align_pieces(value: str, text: str) -> tuple[int, int] | None:
    """Return the shortest (start, end) of text holding value as up to MAX_PIECES in-order pieces.

    Consecutive pieces are separated by a gap of at most MAX_GAP characters that holds a list separator.
    """
    best: tuple[int, int] | None = None

    def extend(i: int, j: int, pieces_left: int) -> int | None:
        # value[i:] must match starting exactly at text[j]; return the smallest end
        found: int | None = None
        k = 0
        while i + k < len(value) and j + k < len(text) and value[i + k] == text[j + k]:
            k += 1
            if i + k == len(value):
                return j + k
            if pieces_left > 1:
                gap_start = j + k
                for j2 in range(gap_start + 1, min(len(text), gap_start + MAX_GAP + 1)):
                    gap = text[gap_start:j2]
                    if _CLAUSE_RE.search(gap):
                        break
                    if text[j2] == value[i + k] and _SEPARATOR_RE.search(gap):
                        end = extend(i + k, j2, pieces_left - 1)
                        if end is not None and (found is None or end < found):
                            found = end
                            break
        return found

    for start in range(len(text)):
        if text[start] != value[0]:
            continue
        end = extend(0, start, MAX_PIECES)
        if end is not None and (best is None or end - start < best[1] - best[0]):
            best = (start, end)
    return best


def literal_spans(value: str, text: str) -> list[tuple[int, int]]:
    """Return the non-overlapping occurrences of value in text."""
    spans = []
    start = text.find(value)
    while start != -1:
        spans.append((start, start + len(value)))
        start = text.find(value, start + len(value))
    return spans


def align(value: str, text: str) -> tuple[list[tuple[int, int]], bool]:
    """Return the spans of text that express value and whether the field is literal (else a piece alignment)."""
    spans = literal_spans(value, text)
    if spans:
        return spans, True
    numeric = _NUMERIC_FIELD_RE.match(value)
    if numeric:  # 2亿元 written 2亿（含）: the number and the part of its unit that is there
        number, unit = numeric.groups()
        for cut in range(len(unit) - 1, -1, -1):
            found = [
                (start, end)
                for start, end in literal_spans(number + unit[:cut], text)
                if (start == 0 or (not text[start - 1].isdigit() and text[start - 1] != "."))
                and (end == len(text) or (not text[end].isdigit() and text[end] != "."))
            ]
            if found:
                return found, False
        return [], False
    pieces = _align_pieces(value, text) if len(value) >= 2 else None
    return ([pieces] if pieces else []), False


def gold_spans(sentence: Sentence) -> list[tuple[int, int]]:
    """Return the merged, sorted spans the tagger is taught for a sentence (overlapping spans are united)."""
    spans: list[tuple[int, int]] = []
    for entry in sentence.entries:
        found, _literal = align(entry.field, sentence.text)
        spans.extend(found)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --- the verbs in front of a field ------------------------------------------------------------------------------

# Annotators disagree on whether 获得 / 新认定为 / 被评为 / 列入 … belong to a field, policy by policy. The tagger is
# taught the field without them (a consistent target); whether to write them is decided afterwards.
_TIME = r"(?:当年度?|首次|新|已|经|被|再次|上年度?)"
VERB = (
    r"(?:获得|获批|荣获|获评|获|认定为|认定|评为|评定为|评上|列入|列为|入选|通过|取得|命名为|创建|成功创建|"
    r"新建|晋升为|升格为|核定为)"
)
PREFIX_RE = re.compile(rf"(?:{_TIME}*{VERB}(?:为|的)?|当年度?的?|首次)+")
_PREFIX_AT_END_RE = re.compile(rf"(?:{_TIME}*{VERB}(?:为|的)?|当年度?的?|首次)+$")


def split_prefix(value: str) -> tuple[str, str]:
    """Return (leading verbs and time words, the rest) of a field or span; the rest is never empty."""
    match = PREFIX_RE.match(value)
    if not match or match.end() >= len(value):
        return "", value
    return value[: match.end()], value[match.end() :]


def prefix_before(text: str, start: int) -> str:
    """Return the verbs and time words written right before position start (获得 of 对获得X), or ''."""
    window = text[max(0, start - 12) : start]
    match = _PREFIX_AT_END_RE.search(window)
    return match.group(0) if match else ""


def core_spans(sentence: Sentence) -> list[tuple[int, int]]:
    """Return the gold spans without their leading verbs and time words."""
    result = []
    for start, end in gold_spans(sentence):
        prefix, _rest = split_prefix(sentence.text[start:end])
        result.append((start + len(prefix), end))
    return result
