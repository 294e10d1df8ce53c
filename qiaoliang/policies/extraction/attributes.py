"""Entry type, variable and relation of an extracted field, from the field and the words around it.

Three small linear classifiers (averaged multiclass perceptrons over string features) share the features of
a field in its sentence: the characters and words of the field, its first and last words, whether it is a
quantity and its unit, the words and characters before it (对, 注册在, 年销售收入达到 …) and after it (以上,
（含）以上, 以下, 的企业 …) and a few words of its clause (注册, 从事, 行业, 领域). A quantity's variable is
the longest variable seen in training that is written in the clause before it (年销售收入, 实到注册资本), else
the words right before it; other fields take the classifier's variable.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qiaoliang.policies.extraction.features import fold_char, tagged_words

NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?")
_CLAUSE_END = "，,；;。：:！？!?"
_CLAUSE_WORDS = (
    "注册",
    "从事",
    "行业",
    "领域",
    "企业",
    "项目",
    "认定",
    "获得",
    "列入",
    "评为",
    "通过",
    "符合",
    "无",
    "未",
)
_VAR_STOP_WORDS = frozenset(
    {"在", "达到", "达", "超过", "不低于", "不少于", "不超过", "低于", "高于", "为", "的", "且"}
)
_VAR_FALLBACK = {"注册地": "注册地", "业务领域": "业务领域", "企业类型": "企业类型", "法人资格": "法人资格"}


def field_features(text: str, start: int, end: int, value: str) -> list[str]:
    """Return the features of a field value standing for text[start:end]."""
    before = text[max(0, start - 8) : start]
    after = text[end : end + 4]
    clause_start = max((text.rfind(mark, 0, start) for mark in _CLAUSE_END), default=-1) + 1
    clause_end = min((i for i in (text.find(mark, end) for mark in _CLAUSE_END) if i != -1), default=len(text))
    clause = text[clause_start:clause_end]
    words = [word for word, _pos in tagged_words(value)] or [value]
    before_words = [word for word, _pos in tagged_words(before)][-2:]
    numeric = NUMBER_RE.match(value)
    folded = "".join(fold_char(ch) for ch in value)
    result = ["b", "first=" + words[0], "last=" + words[-1], "len=" + str(min(len(value), 12) // 3)]
    result += ["w=" + word for word in words]
    result += ["c=" + ch for ch in set(folded)]
    result += ["cc=" + folded[i : i + 2] for i in range(len(folded) - 1)]
    result += ["end2=" + folded[-2:], "start2=" + folded[:2]]
    if numeric:
        unit = value[numeric.end() :]
        result += ["num", "unit=" + unit, "unit1=" + unit[-1:]]
    result += ["bw=" + word for word in before_words]
    result += ["bw1=" + (before_words[-1] if before_words else "^")]
    result += ["b1=" + before[-1:], "b2=" + before[-2:], "a1=" + after[:1], "a2=" + after[:2], "a3=" + after[:3]]
    result += ["cl=" + word for word in _CLAUSE_WORDS if word in clause]
    return result


@dataclass
class LinearClassifier:
    """An averaged multiclass perceptron over string features."""

    labels: list[str]
    features: list[str]
    weights: np.ndarray  # (features, labels)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {name: i for i, name in enumerate(self.features)}

    @classmethod
    def fit(
        cls, rows: Sequence[Sequence[str]], labels: Sequence[str], *, epochs: int = 10, seed: int = 0
    ) -> LinearClassifier:
        """Train on feature lists and their labels (at least one row)."""
        label_set = sorted(set(labels))
        counts: Counter[str] = Counter(name for row in rows for name in set(row))
        names = sorted(counts)
        index = {name: i for i, name in enumerate(names)}
        encoded = [np.asarray(sorted({index[name] for name in row}), dtype=np.int64) for row in rows]
        codes = [label_set.index(label) for label in labels]
        weights = np.zeros((len(names), len(label_set)))
        totals = np.zeros_like(weights)
        rng = np.random.default_rng(seed)
        step = 1
        # a tiny prior so that an empty feature set goes to the most frequent label
        prior = np.bincount(codes, minlength=len(label_set)) / max(1, len(codes))
        for _epoch in range(epochs):
            for i in rng.permutation(len(encoded)):
                ids, truth = encoded[int(i)], codes[int(i)]
                scores = weights[ids].sum(axis=0) + 1e-6 * prior
                guess = int(scores.argmax())
                if guess != truth:
                    weights[ids, truth] += 1
                    weights[ids, guess] -= 1
                    totals[ids, truth] += step
                    totals[ids, guess] -= step
                step += 1
        averaged = weights - totals / step
        averaged[index.get("b", 0)] += 1e-6 * prior
        return cls(labels=label_set, features=names, weights=averaged)

    def predict(self, row: Sequence[str]) -> tuple[str, float]:
        """Return the best label and a softmax-style confidence of it."""
        ids = [self.index[name] for name in set(row) if name in self.index]
        if not ids:
            return self.labels[0], 1.0 / len(self.labels)
        scores = self.weights[ids].sum(axis=0)
        best = int(scores.argmax())
        scaled = (scores - scores[best]) / max(1.0, float(np.abs(scores).max()) / 4)
        return self.labels[best], float(1.0 / np.exp(scaled).sum())


@dataclass
class AttributeModel:
    """The three classifiers and the variables seen in training (for quantities)."""

    entry_type: LinearClassifier
    var: LinearClassifier
    relation: LinearClassifier
    quantity_vars: list[str]

    def predict(self, text: str, start: int, end: int, value: str) -> tuple[str, str, str, float]:
        """Return (entry_type, var, relation, confidence) of a field value standing for text[start:end]."""
        row = field_features(text, start, end, value)
        entry_type, type_confidence = self.entry_type.predict(row)
        relation, _relation_confidence = self.relation.predict(row)
        var, _var_confidence = self.var.predict(row)
        if NUMBER_RE.match(value):
            var = self.quantity_var(text, start) or var
        elif relation in {"大于", "大于等于", "小于", "小于等于"}:
            relation = "是"
        return entry_type, var, relation, type_confidence

    def quantity_var(self, text: str, start: int) -> str:
        """Return the variable a quantity at start measures, from the clause before it (or '')."""
        clause_start = max((text.rfind(mark, 0, start) for mark in _CLAUSE_END), default=-1) + 1
        window = text[max(clause_start, start - 30) : start]
        known = [var for var in self.quantity_vars if var in window]
        if known:
            return max(known, key=lambda var: (len(var), window.rfind(var)))
        words = [word for word, _pos in tagged_words(window)]
        while words and (words[-1] in _VAR_STOP_WORDS or not words[-1].strip()):
            words.pop()
        phrase: list[str] = []
        while words and words[-1] not in _VAR_STOP_WORDS and words[-1] not in {"对", "凡", "、"} and len(phrase) < 3:
            phrase.insert(0, words.pop())
        return "".join(phrase)


def fit_attributes(
    examples: Sequence[tuple[str, int, int, str, str, str, str]], *, epochs: int = 10, seed: int = 0
) -> AttributeModel:
    """Train on (text, start, end, field, entry_type, var, relation) examples."""
    rows = [field_features(text, start, end, value) for text, start, end, value, *_rest in examples]
    entry_types = [example[4] or "经营要求" for example in examples]
    relations = [example[6] or "是" for example in examples]
    var_counts = Counter(example[5] for example in examples if example[5])
    vars_ = [
        example[5] if var_counts[example[5]] >= 2 else _VAR_FALLBACK.get(example[4], "荣誉") for example in examples
    ]
    quantity_vars = sorted({example[5] for example in examples if NUMBER_RE.match(example[3]) and len(example[5]) >= 2})
    if not rows:
        rows, entry_types, relations, vars_ = [["b"]], ["经营要求"], ["是"], ["荣誉"]
    return AttributeModel(
        entry_type=LinearClassifier.fit(rows, entry_types, epochs=epochs, seed=seed),
        var=LinearClassifier.fit(rows, vars_, epochs=epochs, seed=seed),
        relation=LinearClassifier.fit(rows, relations, epochs=epochs, seed=seed),
        quantity_vars=quantity_vars,
    )
