"""The condition extractor: tag spans, expand enumerations, clean the fields, classify each field.

1. Character taggers (`tagger`, averaged structured perceptrons over `features`, three seeds averaged) mark the
   core of each field: quantities (5000万元) and other fields (国家高新技术企业), without the verbs in front of
   them (获得, 新认定为), which annotators include in some policies and leave out in others. Spans whose tags are
   not likely enough (mean marginal below ``min_confidence``) are dropped.
2. The verbs in front of a core span are not written by default (``prefix_verbs``): with it, they are written
   when most training fields after the same verbs included them (获得 mostly yes, 被认定为 no).
3. A quantity span is cut to its number and unit; an open quote or bracket is closed and a fully quoted field
   loses its quotes; a span that enumerates (国家级、省级企业技术中心) becomes one field per member (`expansion`);
   what cannot be a field (a bare 国家级, a bare number, an unbalanced bracket) is dropped (`clean_field`).
4. Each field gets an entry type, a variable and a relation (`attributes`).
5. A sentence seen in training with confirmed conditions (same text) gets those instead (``memory``).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qiaoliang.policies.extraction import data, expansion, features
from qiaoliang.policies.extraction import tagger as tagging
from qiaoliang.policies.extraction.attributes import AttributeModel, fit_attributes

TAGS = ("O", "B-N", "I-N", "B-T", "I-T")
_QUANTITY_START_RE = re.compile(r"^\d")
_PAIRS = (("“", "”"), ("（", "）"), ("(", ")"), ("《", "》"), ("「", "」"))
_QUANTITY_RE = re.compile(
    r"\d+(?:\.\d+)?(?:[-—–~～至到－]\d+(?:\.\d+)?)?(?:万亿|千万|百万|万|亿|千)?"
    r"(?:美元|欧元|港元|元|股|人|名|户|家|个月|个|项|件|平方米|亩|吨|台|套|年|月|天|%|％|‰|倍)?(?:/亩|/平方米)?"
)
_BARE_LEVEL_RE = re.compile(
    r"(?:国家|国际|全国|省部|省|市|县|区|[\u4e00-\u9fff]{1,4}?[省市县区])级(?:及?以上)?|国家|省|市|县|区"
)
_DECODE_BATCH = 64
_TRAILING_NOISE = "，,。；;：:、 \u3000"


@dataclass(frozen=True)
class ProposedCondition:
    """One eligibility condition proposed for a sentence.

    ``start`` and ``end`` are the character offsets of ``field`` in the sentence when it is written there as
    is (None for a member of an enumeration, 国家级企业技术中心 of 国家级、省级企业技术中心). ``confidence`` is
    between 0 and 1: how sure the tagger is of the span, times how sure the classifier is of the entry type.
    """

    entry_type: str
    var: str
    relation: str
    field: str
    start: int | None = None
    end: int | None = None
    confidence: float = 0.0

    @classmethod
    def at(
        cls, entry_type: str, var: str, relation: str, value: str, offset: int, confidence: float
    ) -> ProposedCondition:
        """Return a condition whose field is written at text[offset:] (offset -1: not written as is)."""
        return cls(
            entry_type=entry_type,
            var=var,
            relation=relation,
            field=value,
            start=offset if offset != -1 else None,
            end=offset + len(value) if offset != -1 else None,
            confidence=confidence,
        )

    def as_dict(self) -> dict[str, str]:
        """Return the four annotated columns."""
        return {"entry_type": self.entry_type, "var": self.var, "relation": self.relation, "field": self.field}


@dataclass(frozen=True)
class ExtractorConfig:
    """The choices of the extractor; the defaults are the shipped configuration."""

    epochs: int = 8
    batch_size: int = 4
    min_count: int = 1
    seed: int = 0
    use_lexicon: bool = False
    core_spans: bool = True
    expand: bool = True
    word_boundaries: bool = True  # spans begin and end where rjieba words do
    span_bias: float = 0.25  # added to the B-/I- emission scores, in units of the typical score spread
    min_confidence: float = 0.35  # spans whose mean tag marginal is lower are dropped
    temperature: float = 1.0  # of the span marginals, in units of the typical score spread
    ensemble: int = 3  # taggers trained with seeds seed, seed + 1 …, their weights averaged
    quantity_bias: float = 0.5  # the span bias of quantity tags (B-N, I-N); negative: span_bias
    prefix_verbs: bool = False  # write the verbs before a span when most training fields did (False: never)
    clean_fields: bool = True  # drop fields that cannot be one (bare modifiers, unbalanced brackets …)
    memory: bool = True  # a sentence confirmed before (same text) gets its confirmed conditions
    extend_heads: int = 3  # a span cut before head nouns of training fields (孵化器, 研究院) takes up to this many

    def replace(self, **changes: Any) -> ExtractorConfig:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


# --- training data --------------------------------------------------------------------------------------------


def repair_attachments(sentences: list[data.Sentence]) -> list[data.Sentence]:
    """Move an entry to a neighbouring sentence of the same policy when only that one holds its field.

    A few policies have their entries one sentence off; taught as they are, the tagger would learn that a
    sentence without the field is a condition. The evaluation always uses the entries as annotated.
    """
    repaired = [dataclasses.replace(sentence, entries=list(sentence.entries)) for sentence in sentences]
    for i, sentence in enumerate(sentences):
        for entry in sentence.entries:
            spans, _literal = data.align(entry.field, sentence.text)
            if spans:
                continue
            for offset in (-1, 1, -2, 2):
                j = i + offset
                if 0 <= j < len(sentences) and sentences[j].uid == sentence.uid and entry.field in sentences[j].text:
                    repaired[i].entries.remove(entry)
                    if entry not in repaired[j].entries:
                        repaired[j].entries.append(entry)
                    break
    return repaired


def gold_tags(sentence: data.Sentence, *, core: bool) -> list[int]:
    """Return the tag number of each character of a training sentence."""
    tags = [0] * len(sentence.text)
    spans = data.core_spans(sentence) if core else data.gold_spans(sentence)
    for start, end in spans:
        kind = "N" if _QUANTITY_START_RE.match(sentence.text[start:end]) else "T"
        tags[start] = TAGS.index("B-" + kind)
        for k in range(start + 1, end):
            tags[k] = TAGS.index("I-" + kind)
    return tags


_NOT_HEADS = frozenset({"以上", "以下", "增幅", "扶持", "注册", "创建", "要求", "规定", "挂牌", "上市"})


def word_bounds(text: str) -> dict[int, str]:
    """Return the rjieba words of a text by the position they start at."""
    bounds, position = {}, 0
    for word, _pos in features.tagged_words(text):
        bounds[position] = word
        position += len(word)
    return bounds


_MEMORY_MIN_LENGTH = 15
_SPACE_RE = re.compile(r"\s+")


def memory_key(text: str) -> str:
    """Return the text a sentence is remembered under: without white space ('' for a heading-sized one)."""
    key = _SPACE_RE.sub("", text)
    return key if len(key) >= _MEMORY_MIN_LENGTH else ""


def condition_memory(sentences: Iterable[data.Sentence]) -> dict[str, list[tuple[str, str, str, str]]]:
    """Return the confirmed conditions of the training sentences that have any, by `memory_key`.

    A policy re-issued by another office, or a sentence copied from one policy into another, is then proposed
    what staff (or the annotators) confirmed for it, instead of the tagger's guess. Sentences without
    conditions are not remembered: in the annotations an unannotated sentence is as often skipped as
    checked. Identical sentences of several policies get the union of their conditions.
    """
    memory: dict[str, dict[tuple[str, str, str, str], None]] = {}
    for sentence in sentences:
        key = memory_key(sentence.text)
        if not key or not sentence.entries:
            continue
        known = memory.setdefault(key, {})
        for entry in sentence.entries:
            known[(entry.entry_type, entry.var, entry.relation, entry.field)] = None
    return {key: list(entries) for key, entries in memory.items()}


def head_words(sentences: Iterable[data.Sentence], min_count: int = 2) -> frozenset[str]:
    """Return the last rjieba words of the training fields (孵化器, 研究院, 企业) seen min_count times or more.

    Quantities, levels and grades are not heads.
    """
    counts: Counter[str] = Counter()
    for sentence in sentences:
        for entry in {entry.field for entry in sentence.entries}:
            words = [word for word, _pos in features.tagged_words(entry)]
            if len(words) < 2:
                continue
            last = words[-1]
            if len(last) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in last) or expansion.is_modifier(last):
                continue
            if last in _NOT_HEADS or last.endswith(("元", "股")):
                continue
            counts[last] += 1
    return frozenset(word for word, count in counts.items() if count >= min_count)


def prefix_key(prefix: str) -> str:
    """Return the verb a prefix is counted under: its last verb (获得 of 首次获得), or the prefix itself."""
    match = re.search(data.VERB + r"(?:为|的)?$", prefix)
    return match.group(0) if match else prefix


def prefix_statistics(sentences: Iterable[data.Sentence]) -> dict[str, list[int]]:
    """Count, per prefix, per verb and overall ('*'), the training fields that include it and those that follow it."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for sentence in sentences:
        for entry in sentence.entries:
            spans, literal = data.align(entry.field, sentence.text)
            if not literal:
                continue
            prefix, _rest = data.split_prefix(entry.field)
            if prefix:
                for key in {prefix, prefix_key(prefix), "*"}:
                    counts[key][0] += 1
                continue
            before = data.prefix_before(sentence.text, spans[0][0])
            if before:
                for key in {before, prefix_key(before), "*"}:
                    counts[key][1] += 1
    return dict(counts)


def attribute_examples(sentences: Iterable[data.Sentence]) -> list[tuple[str, int, int, str, str, str, str]]:
    """Return the (text, start, end, field, entry_type, var, relation) of every aligned training entry."""
    examples = []
    for sentence in sentences:
        for entry in sentence.entries:
            spans, _literal = data.align(entry.field, sentence.text)
            if spans:
                start, end = spans[0]
                examples.append((sentence.text, start, end, entry.field, entry.entry_type, entry.var, entry.relation))
    return examples


class Lexicon:
    """The literal training fields, for the gazetteer feature (off in the shipped configuration)."""

    def __init__(self, by_field: Mapping[str, set[str]]) -> None:
        self.by_field = {name: set(uids) for name, uids in by_field.items()}
        self.names = frozenset(self.by_field)
        self.lengths = features.lexicon_lengths(self.names)

    @classmethod
    def fit(cls, sentences: Iterable[data.Sentence]) -> Lexicon:
        """Collect the fields of two or more characters written literally in their sentence."""
        by_field: dict[str, set[str]] = defaultdict(set)
        for sentence in sentences:
            for entry in sentence.entries:
                if len(entry.field) >= 2 and entry.field in sentence.text:
                    by_field[entry.field].add(sentence.uid)
        return cls(by_field)

    def marks(self, text: str, *, leave_out: str | None = None) -> list[str]:
        """Return the gazetteer feature of each character; leave_out drops the fields seen only in that policy."""
        if leave_out is None:
            return features.lexicon_features(text, self.names, self.lengths)
        names = frozenset(name for name, uids in self.by_field.items() if uids - {leave_out})
        return features.lexicon_features(text, names, features.lexicon_lengths(names))


def _with_lexicon(rows: list[list[str]], marks: list[str]) -> list[list[str]]:
    return [[*row, mark] if mark else row for row, mark in zip(rows, marks, strict=False)]


# --- the extractor --------------------------------------------------------------------------------------------


@dataclass
class Extractor:
    """A trained condition extractor."""

    config: ExtractorConfig
    tagger: tagging.Tagger
    attributes: AttributeModel
    prefixes: dict[str, list[int]]
    score_scale: float
    lexicon: Lexicon | None = None
    training: dict[str, Any] = field(default_factory=dict)
    heads: frozenset[str] = frozenset()  # the last words of training fields seen twice or more
    memory: dict[str, list[tuple[str, str, str, str]]] = field(default_factory=dict)  # see `condition_memory`

    def include_prefix(self, prefix: str) -> bool:
        """Return whether fields written after these verbs include them, as most training fields did.

        The counts of the whole prefix (首次获得) are used when it was seen three times or more, else those of its
        last verb (获得), else those of all prefixes.
        """
        for key in (prefix, prefix_key(prefix), "*"):
            included, excluded = self.prefixes.get(key, (0, 0))
            if included + excluded >= (3 if key == prefix and key != prefix_key(prefix) else 1):
                return included > excluded
        return False

    def _encode(self, text: str) -> tagging.EncodedSentence:
        rows = features.sentence_features(text)
        if self.lexicon is not None:
            rows = _with_lexicon(rows, self.lexicon.marks(text))
        return self.tagger.encode(rows, features.word_starts(text) if self.config.word_boundaries else None)

    def spans(self, texts: Sequence[str]) -> list[list[tuple[int, int, str, float]]]:
        """Return per text the tagged core spans as (start, end, kind, confidence)."""
        result: list[list[tuple[int, int, str, float]]] = []
        mask_t, mask_s = tagging.allowed_transitions(self.tagger.tags)
        inside = tagging.inside_word_transitions(self.tagger.tags) if self.config.word_boundaries else None
        quantity_bias = self.config.span_bias if self.config.quantity_bias < 0 else self.config.quantity_bias
        bias = np.array(
            [
                0.0
                if tag == "O"
                else (quantity_bias if tag.endswith("-N") else self.config.span_bias) * self.score_scale
                for tag in self.tagger.tags
            ]
        )
        temperature = max(1e-6, self.config.temperature * self.score_scale)
        for low in range(0, len(texts), _DECODE_BATCH):
            chunk = texts[low : low + _DECODE_BATCH]
            encoded = [self._encode(text) for text in chunk]
            starts = [sentence.starts for sentence in encoded]
            emissions = [scores + bias for scores in self.tagger.emissions(encoded)]
            paths = tagging.viterbi(
                emissions, self.tagger.transition + mask_t, self.tagger.start + mask_s, starts, inside
            )
            for scores, path, marks in zip(emissions, paths, starts, strict=True):
                found = _path_spans(path, self.tagger.tags)
                if not found:
                    result.append([])
                    continue
                marginals = tagging.forward_backward(
                    scores / temperature,
                    (self.tagger.transition + mask_t) / temperature,
                    (self.tagger.start + mask_s) / temperature,
                    marks,
                    inside,
                )
                spans = []
                for start, end, kind in found:
                    chosen = [marginals[k, path[k]] for k in range(start, end)]
                    confidence = float(np.mean(chosen)) if chosen else 0.0
                    if confidence >= self.config.min_confidence:
                        spans.append((start, end, kind, confidence))
                result.append(spans)
        return result

    def fields(self, text: str, spans: Sequence[tuple[int, int, str, float]]) -> list[tuple[str, int, int, float]]:
        """Return (field, span start, span end, confidence) for the tagged spans of a text."""
        result: list[tuple[str, int, int, float]] = []
        words: dict[int, str] | None = None  # the text's rjieba words by start, read once when a span needs them
        for start, end, kind, confidence in spans:
            if kind == "N":  # a quantity is the number and its unit (not 在 before it nor 以上 after it)
                quantity = _QUANTITY_RE.search(text, start, end)
                if quantity is None or is_support_amount(text, quantity.start(), quantity.end()):
                    continue
                start, end = quantity.start(), quantity.end()
            else:
                if self.config.extend_heads and self.heads:
                    words = word_bounds(text) if words is None else words
                    end = self.extend_to_head(end, words)
                if self.config.core_spans and self.config.prefix_verbs:
                    prefix = data.prefix_before(text, start)
                    if prefix and self.include_prefix(prefix):
                        start -= len(prefix)
            start, end = balance_brackets(text, start, end)
            value = text[start:end].strip(_TRAILING_NOISE)
            if value.endswith("的"):  # 国家级、省级的 (no annotated field ends with 的 before a noun)
                value = value[:-1]
            if not value:
                continue
            members = expansion.expand(value) if self.config.expand else [value]
            if self.config.clean_fields:
                members = [cleaned for cleaned in (clean_field(member) for member in members) if cleaned]
            result.extend((member, start, end, confidence) for member in members)
        return result

    def extend_to_head(self, end: int, words: Mapping[int, str]) -> int:
        """Return the end of a span, moved over the head nouns that follow it when it does not end with one.

        The tagger sometimes stops before the head of an unseen name (国家级科技|孵化器, 省级重点|企业|研究院); the
        heads are the last words of the training fields. ``words`` are the text's words by start (`word_bounds`).
        """
        if end not in words or any(start + len(word) == end and word in self.heads for start, word in words.items()):
            return end  # the span ends inside a word, at the text's end, or with a head already
        moved = end
        for _step in range(self.config.extend_heads):
            following = words.get(moved)
            if following is None or following not in self.heads:
                break
            moved += len(following)
        return moved

    def extract_many(self, texts: Sequence[str]) -> list[list[ProposedCondition]]:
        """Return the proposed conditions of each text, in order."""
        texts = [str(text or "") for text in texts]
        remembered = [self.remembered(text) for text in texts]
        unknown = [text for text, known in zip(texts, remembered, strict=True) if known is None]
        tagged = iter(self.spans(unknown))
        result = []
        for text, known in zip(texts, remembered, strict=True):
            if known is not None:
                result.append(known)
                continue
            spans = next(tagged)
            conditions: dict[str, ProposedCondition] = {}
            for value, start, end, span_confidence in self.fields(text, spans):
                if value in conditions:
                    continue
                entry_type, var, relation, type_confidence = self.attributes.predict(text, start, end, value)
                conditions[value] = ProposedCondition.at(
                    entry_type,
                    var,
                    relation,
                    value,
                    text.find(value, start, end),
                    round(span_confidence * type_confidence, 4),
                )
            result.append(list(conditions.values()))
        return result

    def remembered(self, text: str) -> list[ProposedCondition] | None:
        """Return the confirmed conditions of a sentence seen in training with the same text, else None."""
        if not self.config.memory or not self.memory:
            return None
        entries = self.memory.get(memory_key(text))
        if entries is None:
            return None
        return [
            ProposedCondition.at(entry_type, var, relation, value, text.find(value), 1.0)
            for entry_type, var, relation, value in entries
        ]

    def extract(self, sentence: str) -> list[ProposedCondition]:
        """Return the conditions a sentence states (an empty list when it states none)."""
        return self.extract_many([sentence])[0]


_CLAUSE_SPLIT_RE = re.compile(r"[，,。；;：:]")
_CAP_RE = re.compile(r"最高|最多|上限|封顶")
_GRANT_BEFORE_RE = re.compile(r"(?:奖励|补助|资助|补贴|奖补|给予|一次性)[^，。；]{0,2}$")
_GRANT_AFTER_RE = re.compile(r"^的?(?:奖励|补助|资助|补贴|奖补)")


def is_support_amount(text: str, start: int, end: int) -> bool:
    """Return whether the quantity at text[start:end] is what the policy gives, not what it asks.

    最高50万元, 给予20万元, 10万元奖励 are support amounts; 年销售收入5000万元以上 is a condition. In the
    tuning policies' cross-validation the tagger proposed 21 such amounts, none annotated as a condition.
    """
    before = _CLAUSE_SPLIT_RE.split(text[max(0, start - 8) : start])[-1]
    after = text[end : end + 4]
    return bool(_CAP_RE.search(before) or _GRANT_BEFORE_RE.search(before) or _GRANT_AFTER_RE.match(after))


def clean_field(value: str) -> str:
    """Return a field as annotators write one, or '' when it cannot be one.

    A leading 为 (left of 认定为), a leading 等 or 其他 (left of …等国际认证, 其它国家级优秀作品) and a trailing 等
    go; a bare level (国家级, 省级以上), a bare number, a single character and a field with an unbalanced bracket
    are not fields.
    """
    if len(value) > 2 and value.startswith("为"):
        value = value[1:]
    if len(value) > 4 and value.startswith(("其它", "其他")):
        value = value[2:]
    if len(value) > 3 and value.startswith("等") and value[1] not in "级同次":  # 等级, 等同, 等次 are words
        value = value[1:]
    if len(value) > 2 and value.endswith("等"):
        value = value.removesuffix("等等").removesuffix("等")
    core = data.split_prefix(value)[1]
    if len(value) < 2 or _BARE_LEVEL_RE.fullmatch(core) or re.fullmatch(r"[\d.]+", value):
        return ""
    for opening, closing in _PAIRS:
        if value.count(opening) != value.count(closing):
            return ""
    return value


def balance_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """Return the span widened to the quote or bracket it leaves open, or narrowed when it is all quoted.

    浙江制造”品牌认证 → “浙江制造”品牌认证; “浙江出口名牌” → 浙江出口名牌 (annotators drop the quotes of a
    field that is all quoted).
    """
    for opening, closing in _PAIRS:
        value = text[start:end]
        opened, closed = value.count(opening), value.count(closing)
        if closed > opened and start > 0 and text[start - 1] == opening:
            start -= 1
        elif opened > closed and end < len(text) and text[end] == closing:
            end += 1
        value = text[start:end]
        if (
            len(value) > 2
            and value.startswith(opening)
            and value.endswith(closing)
            and value.count(opening) == 1
            and value.count(closing) == 1
        ):
            start, end = start + 1, end - 1
    return start, end


def _path_spans(path: Sequence[int], tags: Sequence[str]) -> list[tuple[int, int, str]]:
    spans = []
    k = 0
    while k < len(path):
        tag = tags[path[k]]
        if tag.startswith("B-"):
            end = k + 1
            while end < len(path) and tags[path[end]] == "I-" + tag[2:]:
                end += 1
            spans.append((k, end, tag[2:]))
            k = end
        else:
            k += 1
    return spans


def _score_scale(model: tagging.Tagger, encoded: Sequence[tagging.EncodedSentence]) -> float:
    """Return the typical spread of emission scores (the median gap between a character's best two tags)."""
    sample = [sentence for sentence in encoded[:: max(1, len(encoded) // 400)] if sentence.length]
    if not sample:
        return 1.0
    scores = np.concatenate(model.emissions(sample))
    top = np.sort(scores, axis=1)
    gap = float(np.median(top[:, -1] - top[:, -2]))
    return gap if gap > 0 else 1.0


def train_sentences(
    sentences: list[data.Sentence],
    config: ExtractorConfig | None = None,
    *,
    feature_cache: Mapping[str, list[list[str]]] | None = None,
    training: dict[str, Any] | None = None,
) -> Extractor:
    """Train an extractor on sentences with their entries (see `train`)."""
    config = config or ExtractorConfig()
    taught = repair_attachments(sentences)
    lexicon = Lexicon.fit(taught) if config.use_lexicon else None
    rows = []
    for sentence in taught:
        cached = feature_cache.get(sentence.text) if feature_cache is not None else None
        row = cached if cached is not None else features.sentence_features(sentence.text)
        if lexicon is not None:
            row = _with_lexicon(row, lexicon.marks(sentence.text, leave_out=sentence.uid))
        rows.append(row)
    model, score_scale = _fit_tagger(taught, rows, config)
    extractor = Extractor(
        config=config,
        tagger=model,
        attributes=fit_attributes(attribute_examples(taught), seed=config.seed),
        prefixes=prefix_statistics(taught),
        score_scale=score_scale,
        lexicon=lexicon,
        training=dict(training or {}),
        heads=head_words(taught),
        memory=condition_memory(sentences),
    )
    return extractor


def _fit_tagger(
    taught: Sequence[data.Sentence], rows: Sequence[list[list[str]]], config: ExtractorConfig
) -> tuple[tagging.Tagger, float]:
    """Return the tagger trained on sentences (with their feature rows) and its typical score spread."""
    index = tagging.FeatureIndex.fit(rows, config.min_count)
    tags = [gold_tags(sentence, core=config.core_spans)[: len(row)] for sentence, row in zip(taught, rows, strict=True)]
    encoded = []
    for sentence, row, sequence in zip(taught, rows, tags, strict=True):
        starts = None
        if config.word_boundaries:  # the word starts, and the gold boundaries so that the gold is a possible path
            starts = features.word_starts(sentence.text)
            for k, tag in enumerate(sequence):
                if (tag != 0 and TAGS[tag].startswith("B-")) or (k and (tag == 0) != (sequence[k - 1] == 0)):
                    starts[k] = True
        encoded.append(index.encode(row, starts))
    models = [
        tagging.train(
            encoded,
            tags,
            TAGS,
            index,
            epochs=config.epochs,
            batch_size=config.batch_size,
            seed=config.seed + k,
        )
        for k in range(max(1, config.ensemble))
    ]
    model = tagging.Tagger(
        tags=list(TAGS),
        features=index,
        emission=np.mean([member.emission for member in models], axis=0),
        transition=np.mean([member.transition for member in models], axis=0),
        start=np.mean([member.start for member in models], axis=0),
    )
    model = tagging.prune(model)
    return model, _score_scale(model, [model.encode(row) for row in rows])
