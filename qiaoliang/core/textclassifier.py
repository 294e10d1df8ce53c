"""Classify short Chinese texts by label: TF-IDF over Chinese characters and words, then Complement Naive Bayes.

One engine for every app that sorts texts into labels: appeals (诉求) by category and department
(`appeals.routing`, `train_appeal_classifier`), policy clauses (惠企政策条款) by type (`policies.clauses`).
A document is a list of text cells (a subject line and a body, or a clause and its context).

Pipeline (docs/appeals-classifier.md gives the method, the evaluation and the choices behind it):

1. Each text cell is normalised (NFKC full-width folding, OpenCC Traditional → Simplified, lower
   case, spaces collapsed, every run of digits folded to ``0``) and truncated to ``max_chars``.
2. Features come in blocks, each TF-IDF weighted (sublinear tf, smoothed idf) and L2-normalised per
   row: character 1–4-grams of the joined text (inside runs of letters and digits, so punctuation
   breaks them), rjieba words of the joined text (block weight 0.5) and, when there are two or more
   text columns, the character n-grams of the first one alone (the subject line of a message says
   most of what it is about). Terms must occur in ``min_df`` training documents. The defaults of
   `ClassifierConfig` are the best of bench/appeal_classifier_sweep.py by cross-validated macro-F1.
3. Complement Naive Bayes (Rennie et al. 2003) gives each label a weight per feature; a document's
   score for a label is the dot product. Scores become probabilities through a softmax with a
   temperature fitted on out-of-fold scores of the training set (inner stratified folds), so the
   confidence is calibrated rather than Naive Bayes' near-certainty.

Everything is numpy: no scikit-learn at training or prediction time. A model is saved as one
``.npz`` file (a zip of plain numpy arrays, read with ``allow_pickle=False``, so no pickled objects)
holding the format name and version, the labels, the text columns, the configuration, the
vocabularies, the training metadata and a SHA-256 checksum over all of it. A file that is not such a
model, or whose checksum does not match, is refused with `ModelFileError`.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import rjieba
from django.utils.translation import gettext as _

from qiaoliang.core import npzfile
from qiaoliang.core.text import to_simplified

# The format name is written into every model file and checked on reading: models already stored in databases
# (appeals.RoutingModel) and on disk carry this name, so it stays although the module moved to core.
FORMAT_NAME = "qiaoliang.appeals.classifier"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 512 * 1024 * 1024
_ARRAY_NAMES = ("meta", "weights", "intercept", "idf_chars", "idf_words", "idf_first")
_BLOCKS = ("chars", "words", "first")

_SPACE_RE = re.compile(r"\s+")
_DIGITS_RE = re.compile(r"\d+")
_RUN_RE = re.compile(r"[^\W_]+")
_PREDICT_CHUNK = 500


class ModelFileError(ValueError):
    """A model file that cannot be used; the message is for the user."""


@dataclass(frozen=True)
class ClassifierConfig:
    """The choices of the feature extraction and the model; the defaults are the shipped configuration."""

    char_ngram_min: int = 1
    char_ngram_max: int = 4
    use_words: bool = True
    word_weight: float = 0.5
    first_column_weight: float = 1.0
    fold_digits: bool = True
    min_df: int = 2
    max_features: int = 300_000
    max_chars: int = 3_000
    alpha: float = 0.01
    calibration_folds: int = 5

    def replace(self, **changes: Any) -> ClassifierConfig:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


# --- text to terms --------------------------------------------------------------------------------------------


def normalize_cell(value: str, *, max_chars: int, fold_digits: bool = True) -> str:
    """Return the canonical form of one text cell (full-width, Traditional and case folded, truncated)."""
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", value[: max_chars * 2])
    text = to_simplified(text).lower()
    if fold_digits:
        text = _DIGITS_RE.sub("0", text)
    return _SPACE_RE.sub(" ", text).strip()[:max_chars]


def char_ngrams(text: str, low: int, high: int) -> list[str]:
    """Return the character n-grams (low ≤ n ≤ high) inside each run of letters and digits."""
    grams: list[str] = []
    for run in _RUN_RE.findall(text):
        length = len(run)
        for n in range(low, high + 1):
            grams.extend(run[i : i + n] for i in range(length - n + 1))
    return grams


_JIEBA_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _jieba() -> Any:
    return rjieba.Jieba()  # a private instance: words other code adds to rjieba's default one stay out


def words(text: str) -> list[str]:
    """Return the rjieba words of a normalised text that have a letter or digit."""
    if not text:
        return []
    with _JIEBA_LOCK:  # rjieba instances are not documented as thread-safe
        tokens = _jieba().cut(text)
    return [token for token in tokens if _RUN_RE.search(token)]


@dataclass
class Analyzed:
    """The terms of each document, per feature block."""

    chars: list[list[str]]
    words: list[list[str]]
    first: list[list[str]]

    def __len__(self) -> int:
        return len(self.chars)

    def subset(self, rows: Sequence[int] | np.ndarray) -> Analyzed:
        """Return the analysed documents at the given positions."""
        return Analyzed(
            chars=[self.chars[i] for i in rows],
            words=[self.words[i] for i in rows],
            first=[self.first[i] for i in rows],
        )


def analyze(documents: Sequence[Sequence[str]], config: ClassifierConfig) -> Analyzed:
    """Return the terms of each block for documents given as lists of text cells."""
    chars, word_lists, first = [], [], []
    low, high = config.char_ngram_min, config.char_ngram_max
    # One string object per distinct term: thousands of documents repeat the same n-grams, and a copy per
    # occurrence would take gigabytes on a large training file.
    pool: dict[str, str] = {}
    share = pool.setdefault
    for cells in documents:
        normalized = [
            normalize_cell(cell, max_chars=config.max_chars, fold_digits=config.fold_digits) for cell in cells
        ]
        joined = " ".join(part for part in normalized if part)[: config.max_chars]
        chars.append([share(term, term) for term in char_ngrams(joined, low, high)])
        word_lists.append([share(term, term) for term in words(joined)] if config.use_words else [])
        has_first = config.first_column_weight > 0 and len(normalized) > 1
        first.append([share(term, term) for term in char_ngrams(normalized[0], low, high)] if has_first else [])
    return Analyzed(chars=chars, words=word_lists, first=first)


# --- sparse rows and TF-IDF blocks ----------------------------------------------------------------------------


@dataclass
class SparseRows:
    """A compressed sparse row matrix: row i holds columns indices[indptr[i]:indptr[i+1]] with those values."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_columns: int

    @property
    def n_rows(self) -> int:
        """Return the number of rows."""
        return len(self.indptr) - 1

    def row_ids(self) -> np.ndarray:
        """Return the row of each stored value."""
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Return self @ weights.T for dense weights of shape (k, n_columns), in row chunks."""
        out = np.zeros((self.n_rows, weights.shape[0]), dtype=np.float64)
        transposed = np.ascontiguousarray(weights.T)
        for start in range(0, self.n_rows, _PREDICT_CHUNK):
            stop = min(start + _PREDICT_CHUNK, self.n_rows)
            low, high = int(self.indptr[start]), int(self.indptr[stop])
            if low == high:
                continue
            rows = np.repeat(np.arange(stop - start), np.diff(self.indptr[start : stop + 1]))
            products = transposed[self.indices[low:high]] * self.data[low:high, None]
            for k in range(weights.shape[0]):
                out[start:stop, k] = np.bincount(rows, weights=products[:, k], minlength=stop - start)
        return out

    def take(self, rows: np.ndarray) -> SparseRows:
        """Return the given rows (positions) as a new matrix."""
        starts, lengths = self.indptr[rows], np.diff(self.indptr)[rows]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        positions = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return SparseRows(indptr, self.indices[positions], self.data[positions], self.n_columns)

    def column_sums(self, rows: np.ndarray) -> np.ndarray:
        """Return the sum of each column over the rows selected by a boolean mask."""
        selected = rows[self.row_ids()]
        return np.bincount(self.indices[selected], weights=self.data[selected], minlength=self.n_columns)


@dataclass
class Block:
    """One TF-IDF block: a vocabulary (term → column), its idf weights and the block's weight."""

    terms: list[str]
    idf: np.ndarray
    weight: float
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {term: i for i, term in enumerate(self.terms)}

    @classmethod
    def fit(cls, documents: list[list[str]], *, weight: float, min_df: int, max_features: int) -> Block:
        """Learn the vocabulary (terms in at least min_df documents, at most max_features) and the idf."""
        document_frequency: Counter[str] = Counter()
        for terms in documents:
            document_frequency.update(set(terms))
        kept = [(term, df) for term, df in document_frequency.items() if df >= min_df]
        if len(kept) > max_features:
            kept.sort(key=lambda item: (-item[1], item[0]))
            kept = kept[:max_features]
        kept.sort()
        n = len(documents)
        idf = np.array([math.log((1 + n) / (1 + df)) + 1.0 for _term, df in kept], dtype=np.float32)
        return cls(terms=[term for term, _df in kept], idf=idf, weight=weight)

    def transform(self, documents: list[list[str]]) -> SparseRows:
        """Return the L2-normalised, weighted, sublinear TF-IDF rows of the documents."""
        indptr = [0]
        indices: list[int] = []
        counts: list[int] = []
        index = self.index
        for terms in documents:
            counted = Counter([index[term] for term in terms if term in index])
            indices.extend(counted.keys())
            counts.extend(counted.values())
            indptr.append(len(indices))
        columns = np.asarray(indices, dtype=np.int32)
        data = (1.0 + np.log(np.asarray(counts, dtype=np.float32))) * self.idf[columns]
        rows = SparseRows(np.asarray(indptr, dtype=np.int64), columns, data.astype(np.float32), len(self.terms))
        norms = np.sqrt(np.bincount(rows.row_ids(), weights=rows.data.astype(np.float64) ** 2, minlength=rows.n_rows))
        norms[norms == 0] = 1.0
        rows.data = (rows.data * (self.weight / norms[rows.row_ids()])).astype(np.float32)
        return rows


@dataclass
class Featurizer:
    """The feature blocks of a model (absent blocks are None)."""

    config: ClassifierConfig
    blocks: dict[str, Block | None]

    @classmethod
    def fit(cls, analyzed: Analyzed, config: ClassifierConfig) -> Featurizer:
        """Learn every block's vocabulary and idf from analysed training documents.

        With fewer than 25 documents per unit of min_df every term is kept (a tiny training set would
        otherwise lose most of its vocabulary).
        """
        min_df = config.min_df if len(analyzed) >= 25 * config.min_df else 1
        options = {"min_df": min_df, "max_features": config.max_features}
        blocks: dict[str, Block | None] = {"chars": Block.fit(analyzed.chars, weight=1.0, **options)}
        blocks["words"] = Block.fit(analyzed.words, weight=config.word_weight, **options) if config.use_words else None
        has_first = config.first_column_weight > 0 and any(analyzed.first)
        blocks["first"] = Block.fit(analyzed.first, weight=config.first_column_weight, **options) if has_first else None
        return cls(config=config, blocks=blocks)

    def widths(self) -> dict[str, int]:
        """Return the number of features of each block (0 when absent)."""
        return {name: len(block.terms) if block is not None else 0 for name, block in self.blocks.items()}

    def transform(self, analyzed: Analyzed) -> dict[str, SparseRows]:
        """Return the rows of each present block."""
        return {
            name: block.transform(getattr(analyzed, name)) for name, block in self.blocks.items() if block is not None
        }


def _split(weights: np.ndarray, widths: dict[str, int]) -> dict[str, np.ndarray]:
    parts, start = {}, 0
    for name in _BLOCKS:
        parts[name] = weights[:, start : start + widths[name]]
        start += widths[name]
    return parts


def _scores(features: dict[str, SparseRows], weights: np.ndarray, widths: dict[str, int]) -> np.ndarray:
    parts = _split(weights, widths)
    total = np.zeros((next(iter(features.values())).n_rows, weights.shape[0]))
    for name, rows in features.items():
        total += rows.dot(parts[name])
    return total


def _complement_weights(
    features: dict[str, SparseRows], codes: np.ndarray, n_labels: int, alpha: float, included: np.ndarray | None = None
) -> np.ndarray:
    """Return Complement Naive Bayes weights (labels × features): −log P(feature | not label), smoothed.

    `included` (a boolean mask of rows) restricts the counts to some rows.
    """
    mask = np.ones(len(codes), dtype=bool) if included is None else included
    sums = []
    for name in _BLOCKS:
        if name in features:
            rows = features[name]
            sums.append(np.stack([rows.column_sums((codes == k) & mask) for k in range(n_labels)]))
    per_label = np.concatenate(sums, axis=1)
    total = per_label.sum(axis=0, keepdims=True)
    complement = total - per_label + alpha
    weights = -np.log(complement / complement.sum(axis=1, keepdims=True))
    # A feature no counted row has (possible when `included` leaves rows out) is treated like a term outside
    # the vocabulary, as it would be at prediction time: smoothing alone would give it a label-dependent weight.
    weights[:, total[0] == 0] = 0.0
    return np.asarray(weights, dtype=np.float64)


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Return row-wise softmax probabilities of scores divided by the temperature."""
    scaled = scores / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def fit_temperature(scores: np.ndarray, codes: np.ndarray) -> float:
    """Return the temperature that minimises the cross-entropy of softmax(scores / T) (a log-spaced search).

    The targets are smoothed as in Platt scaling (1 − 1/(n + 2) for the true label, the rest shared by the
    others), so that a training set whose out-of-fold scores are all right does not drive T to zero and the
    confidence to a certainty the data cannot show.
    """
    n, k = scores.shape
    smoothing = 1.0 / (n + 2)
    targets = np.full((n, k), smoothing / max(k - 1, 1))
    targets[np.arange(n), codes] = 1.0 - smoothing

    def loss(log_t: float) -> float:
        proba = softmax(scores, math.exp(log_t))
        return float(-np.mean(np.sum(targets * np.log(np.clip(proba, 1e-12, 1.0)), axis=1)))

    grid = np.linspace(-8.0, 8.0, 65)
    best = float(grid[int(np.argmin([loss(x) for x in grid]))])
    low, high = best - 0.25, best + 0.25
    for _step in range(30):  # golden-section refinement inside the best grid cell
        a, b = high - 0.618 * (high - low), low + 0.618 * (high - low)
        if loss(a) < loss(b):
            high = b
        else:
            low = a
    return math.exp((low + high) / 2)


def stratified_folds(codes: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Return a fold number per row: each label's rows shuffled and dealt round-robin, folds of even size."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(np.flatnonzero(codes == k)) for k in np.unique(codes)])
    assignment = np.empty(len(codes), dtype=np.int64)
    assignment[order] = np.arange(len(codes)) % folds
    return assignment


# --- the classifier -------------------------------------------------------------------------------------------


@dataclass
class TextClassifier:
    """A fitted classifier: feature blocks, one weight row per label, and what it was trained on."""

    featurizer: Featurizer
    labels: list[str]
    weights: np.ndarray
    intercept: np.ndarray
    temperature: float
    text_columns: list[str] = field(default_factory=list)
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> ClassifierConfig:
        """Return the configuration the model was trained with."""
        return self.featurizer.config

    def decision(self, analyzed: Analyzed) -> np.ndarray:
        """Return the (n, labels) scores of analysed documents."""
        features = self.featurizer.transform(analyzed)
        return _scores(features, self.weights, self.featurizer.widths()) + self.intercept

    def predict_proba_analyzed(self, analyzed: Analyzed) -> np.ndarray:
        """Return the (n, labels) probabilities of documents already analysed with this model's config."""
        if not len(analyzed):
            return np.zeros((0, len(self.labels)))
        return softmax(self.decision(analyzed), self.temperature)

    def predict_proba(self, documents: Sequence[Sequence[str]]) -> np.ndarray:
        """Return the (n, labels) probabilities of documents (lists of text cells), columns as in `labels`."""
        return self.predict_proba_analyzed(analyze(documents, self.config))

    def predict(self, documents: Sequence[Sequence[str]]) -> list[tuple[str, float]]:
        """Return (label, confidence) for each document; the confidence is the label's probability."""
        proba = self.predict_proba(documents)
        best = proba.argmax(axis=1)
        return [(self.labels[int(i)], float(proba[row, i])) for row, i in enumerate(best)]


AppealClassifier = TextClassifier  # the name the appeals app knows the model by


def _out_of_fold_scores(
    features: dict[str, SparseRows], widths: dict[str, int], codes: np.ndarray, n_labels: int, config: ClassifierConfig
) -> np.ndarray:
    """Return each training document's scores from label weights counted without it (inner stratified folds).

    Features are computed once: per fold only the label weights are counted again, and the features a model
    of the kept rows would not have (below min_df among them) get no weight. The idf stays that of the whole
    training set. This keeps calibration cheap on a large training file; on the dev file it calibrates as
    well as refitting everything per fold (cross-validated log-loss 0.643 against 0.640).
    """
    folds = min(config.calibration_folds, len(codes))
    assignment = stratified_folds(codes, folds, seed=0)
    scores = np.zeros((len(codes), n_labels))
    for fold in range(folds):
        kept = assignment != fold
        held_out = np.flatnonzero(~kept)
        weights = _complement_weights(features, codes, n_labels, config.alpha, included=kept)
        min_df = config.min_df if int(kept.sum()) >= 25 * config.min_df else 1
        frequencies = []
        for name in _BLOCKS:
            if name in features:
                rows = features[name]
                selected = kept[rows.row_ids()]
                frequencies.append(np.bincount(rows.indices[selected], minlength=rows.n_columns))
        weights[:, np.concatenate(frequencies) < min_df] = 0.0  # the vocabulary a model of the kept rows has
        scores[held_out] = _scores({name: rows.take(held_out) for name, rows in features.items()}, weights, widths)
    return scores


def fit(
    documents: Sequence[Sequence[str]],
    labels: Sequence[str],
    config: ClassifierConfig | None = None,
    *,
    text_columns: Sequence[str] = (),
    training: dict[str, Any] | None = None,
) -> TextClassifier:
    """Train a classifier on documents (lists of text cells) and their labels (at least two distinct)."""
    config = config or ClassifierConfig()
    return fit_analyzed(analyze(documents, config), labels, config, text_columns=text_columns, training=training)


def fit_analyzed(
    analyzed: Analyzed,
    labels: Sequence[str],
    config: ClassifierConfig,
    *,
    text_columns: Sequence[str] = (),
    training: dict[str, Any] | None = None,
) -> TextClassifier:
    """Train a classifier on documents analysed with the same config (see `fit`)."""
    if len(analyzed) != len(labels):
        raise ValueError("documents and labels differ in length")
    label_set = sorted(set(labels))
    if len(label_set) < 2:
        raise ValueError("at least two labels are needed")
    code = {label: i for i, label in enumerate(label_set)}
    codes = np.array([code[label] for label in labels], dtype=np.int64)
    featurizer = Featurizer.fit(analyzed, config)
    features = featurizer.transform(analyzed)
    weights = _complement_weights(features, codes, len(label_set), config.alpha)
    temperature = 1.0
    if config.calibration_folds >= 2 and len(codes) >= 2 * len(label_set):
        scores = _out_of_fold_scores(features, featurizer.widths(), codes, len(label_set), config)
        temperature = fit_temperature(scores, codes)
    # Naive Bayes scores ignore the label frequencies; a vanishing prior term only breaks ties (an empty
    # text goes to the most frequent label, with a confidence near 1 / number of labels).
    prior = np.bincount(codes, minlength=len(label_set)) / len(codes)
    intercept = 1e-6 * np.log(prior)
    return TextClassifier(
        featurizer=featurizer,
        labels=label_set,
        weights=weights.astype(np.float32),
        intercept=intercept,
        temperature=temperature,
        text_columns=list(text_columns),
        training=dict(training or {}),
    )


# --- model files ----------------------------------------------------------------------------------------------


def save(classifier: TextClassifier, path: Path | str) -> None:
    """Write the model to path atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    blocks = classifier.featurizer.blocks
    meta = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "labels": classifier.labels,
        "text_columns": classifier.text_columns,
        "temperature": classifier.temperature,
        "config": dataclasses.asdict(classifier.config),
        "vocabularies": {name: (block.terms if block is not None else None) for name, block in blocks.items()},
        "training": classifier.training,
    }
    arrays: dict[str, np.ndarray] = {
        "meta": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        "weights": classifier.weights.astype(np.float32),
        "intercept": classifier.intercept.astype(np.float64),
    }
    for name in _BLOCKS:
        block = blocks.get(name)
        arrays[f"idf_{name}"] = block.idf.astype(np.float32) if block is not None else np.zeros(0, dtype=np.float32)
    npzfile.write(path, npzfile.with_checksum(arrays, _ARRAY_NAMES))


def _refuse(path: Path) -> ModelFileError:
    # The message keeps its original wording: it is a translated msgid and the appeals commands show it.
    return ModelFileError(_("Not an appeal classifier model file: %(path)s") % {"path": path})


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Return the arrays of a model file after checking its size and its zip entries."""
    return npzfile.read(
        path,
        _ARRAY_NAMES,
        max_bytes=MAX_MODEL_BYTES,
        refuse=lambda: _refuse(path),
        not_found=lambda: ModelFileError(_("Model file not found: %(path)s") % {"path": path}),
    )


def load(path: Path | str) -> TextClassifier:
    """Read a model written by `save`; raise ModelFileError for any other file or a changed one."""
    path = Path(path)
    arrays = _read_arrays(path)
    meta = npzfile.checked_meta(path, arrays, _ARRAY_NAMES, format_name=FORMAT_NAME, format_version=FORMAT_VERSION,
                                refuse=lambda: _refuse(path), error=ModelFileError)  # fmt: skip
    try:
        known = {option.name for option in dataclasses.fields(ClassifierConfig)}
        config = ClassifierConfig(**{key: value for key, value in meta["config"].items() if key in known})
        block_weights = {"chars": 1.0, "words": config.word_weight, "first": config.first_column_weight}
        blocks: dict[str, Block | None] = {}
        for name in _BLOCKS:
            terms = meta["vocabularies"][name]
            idf = arrays[f"idf_{name}"]
            if terms is None:
                blocks[name] = None
                continue
            if not isinstance(terms, list) or idf.dtype != np.float32 or idf.shape != (len(terms),):
                raise _refuse(path)
            blocks[name] = Block(terms=[str(term) for term in terms], idf=idf, weight=float(block_weights[name]))
        featurizer = Featurizer(config=config, blocks=blocks)
        labels = [str(label) for label in meta["labels"]]
        weights, intercept = arrays["weights"], arrays["intercept"]
        width = sum(featurizer.widths().values())
        if len(labels) < 2 or weights.shape != (len(labels), width) or intercept.shape != (len(labels),):
            raise _refuse(path)
        temperature = float(meta["temperature"])
        if not math.isfinite(temperature) or temperature <= 0:
            raise _refuse(path)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise _refuse(path) from error
    return TextClassifier(
        featurizer=featurizer,
        labels=labels,
        weights=weights.astype(np.float32),
        intercept=intercept.astype(np.float64),
        temperature=temperature,
        text_columns=[str(column) for column in meta.get("text_columns") or []],
        training=dict(meta.get("training") or {}),
    )


def training_metadata(*, source: Path, rows: int, labels: Sequence[str], seconds: float) -> dict[str, Any]:
    """Return what a model records about its training: when, on what file, the label counts, the versions."""
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return {
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "source_file": source.name,
        "source_sha256": digest.hexdigest(),
        "rows": rows,
        "label_counts": dict(sorted(Counter(labels).items())),
        "seconds": round(seconds, 2),
        "versions": {"numpy": np.__version__, "rjieba": _version("rjieba"), "opencc": _version("opencc")},
    }


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
