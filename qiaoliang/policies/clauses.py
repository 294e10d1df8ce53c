"""Clause types (条款类型) of policy documents, learnt from the annotated Zhejiang policies.

`classify_clauses(texts)` gives each clause (a `documents.Clause`'s text) a type from the label set of
`data/zj/policy_sentences_dev.csv` — 政策内容-资金支持, 政策内容-税收优惠, 政策内容-金融支持, 政策内容-人才培养,
申请审核程序, 监管评估-监督管理 … — or `OTHER` for a clause without one (the annotations' empty type: headers,
addressees, signatures, closing provisions). Labels with fewer than `MIN_EXAMPLES` annotated sentences
(政策内容-法规管制 28, 资金管理-资金来源 20, 政策内容-政策宣传 18, 政策内容-技术支持 15, 政策内容-海外合作 10,
政策内容-政府采购 3) are merged into `OTHER`: cross-validation finds them at F1 near zero, and an unreliable rare
type is worse than none.

The engine is `core.textclassifier` (TF-IDF over characters and words, Complement Naive Bayes, calibrated
confidence), trained on the clause's text alone. `default_clause_classifier()` trains it on the dev sentences at
first use (about 4 s, then kept for the process); no model file is shipped, so the model always matches the data.

The evaluation (`manage.py evaluate_clause_classifier`) is grouped by policy: whole documents are held out, so
the figures say how the types of a new policy's clauses are found, not of sentences from policies already seen.
The same command measures `documents.split_clauses` and `documents.guess_metadata` against the annotations.
"""

from __future__ import annotations

import csv
import datetime
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qiaoliang.core import textclassifier
from qiaoliang.policies import documents

DATA_DIR = Path(__file__).resolve().parent / "data" / "zj"
SENTENCES_FILE = DATA_DIR / "policy_sentences_dev.csv"
ENTITIES_FILE = DATA_DIR / "policy_entities.csv"
OTHER = "other"
MIN_EXAMPLES = 30
# alpha and word weight chosen by the grouped cross-validation below (macro-F1 0.385 against 0.376 with the
# appeals' defaults, within the noise of the choice; see evaluate_clause_classifier).
CONFIG = textclassifier.ClassifierConfig(alpha=0.1, word_weight=1.0)


@dataclass(frozen=True)
class AnnotatedSentence:
    """One annotated sentence: its policy (uid), its id (uid_n), its text and its type ('' for none)."""

    uid: str
    sid: str
    text: str
    label: str


def load_sentences(path: Path = SENTENCES_FILE) -> list[AnnotatedSentence]:
    """Return the annotated sentences of a CSV file with columns uid, sid, sentence, sentence_type."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            AnnotatedSentence(row["uid"], row["sid"], row["sentence"], (row.get("sentence_type") or "").strip())
            for row in csv.DictReader(handle)
        ]


def training_labels(labels: Sequence[str], min_examples: int = MIN_EXAMPLES) -> list[str]:
    """Return the labels the classifier learns: empty ones and those rarer than min_examples become OTHER."""
    counts = Counter(label for label in labels if label)
    return [label if label and counts[label] >= min_examples else OTHER for label in labels]


def train_clause_classifier(
    sentences: Sequence[AnnotatedSentence] | None = None,
    *,
    config: textclassifier.ClassifierConfig = CONFIG,
    min_examples: int = MIN_EXAMPLES,
) -> textclassifier.TextClassifier:
    """Train the clause-type classifier on annotated sentences (by default the dev file)."""
    started = time.perf_counter()
    sentences = list(sentences) if sentences is not None else load_sentences()
    labels = training_labels([sentence.label for sentence in sentences], min_examples)
    model = textclassifier.fit([[sentence.text] for sentence in sentences], labels, config, text_columns=["clause"])
    model.training = {
        "source_file": SENTENCES_FILE.name,
        "rows": len(sentences),
        "label_counts": dict(sorted(Counter(labels).items())),
        "seconds": round(time.perf_counter() - started, 2),
        "trained_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }
    return model


_lock = threading.Lock()
_default: list[textclassifier.TextClassifier] = []


def default_clause_classifier() -> textclassifier.TextClassifier:
    """Return the classifier trained on the dev sentences, training it at the first call (a few seconds)."""
    if not _default:
        with _lock:
            if not _default:
                _default.append(train_clause_classifier())
    return _default[0]


def classify_clauses(
    texts: Sequence[str], *, classifier: textclassifier.TextClassifier | None = None
) -> list[tuple[str, float]]:
    """Return (type, confidence) for each clause text; the type is OTHER for a clause without one.

    The confidence is the calibrated probability of the type (about 0.9 and above is usually right; below
    0.5 the type is a guess). An empty text gets OTHER.
    """
    if not texts:
        return []
    model = classifier or default_clause_classifier()
    results = model.predict([[text] for text in texts])
    return [
        (label, confidence) if text.strip() else (OTHER, confidence)
        for text, (label, confidence) in zip(texts, results, strict=True)
    ]


# --- grouped cross-validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelScore:
    """One label's figures, averaged over the seeds."""

    label: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass
class CrossValidation:
    """Grouped (by policy) cross-validation of the clause classifier."""

    folds: int
    seeds: list[int]
    documents: int
    sentences: int
    macro_f1: float
    macro_f1_std: float
    accuracy: float
    accuracy_std: float
    per_label: list[LabelScore]
    fit_seconds: float
    confusions: list[tuple[str, str, int]] = field(default_factory=list)


def group_folds(groups: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Return a fold number per row such that each group (policy) is in one fold, the folds of similar size.

    Groups are shuffled with the seed, then dealt largest first to the fold with the fewest rows so far.
    """
    rng = np.random.default_rng(seed)
    sizes = Counter(groups)
    order = list(sizes)
    rng.shuffle(order)
    order.sort(key=lambda group: -sizes[group])  # stable: groups of equal size keep the shuffled order
    loads = [0] * folds
    assigned: dict[str, int] = {}
    for group in order:
        fold = int(np.argmin(loads))
        assigned[group] = fold
        loads[fold] += sizes[group]
    return np.array([assigned[group] for group in groups], dtype=np.int64)


def _scores(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> dict[str, tuple[float, float, float]]:
    out = {}
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = (precision, recall, f1)
    return out


def cross_validate(
    sentences: Sequence[AnnotatedSentence] | None = None,
    *,
    folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2),
    config: textclassifier.ClassifierConfig = CONFIG,
    min_examples: int = MIN_EXAMPLES,
) -> CrossValidation:
    """Cross-validate the classifier with whole policies held out: macro-F1, accuracy and per-label figures.

    Texts are analysed once; each fold fits the model without calibration (the temperature scales the
    confidence, not which label wins, so the figures are those of the calibrated model).
    """
    sentences = list(sentences) if sentences is not None else load_sentences()
    labels = training_labels([sentence.label for sentence in sentences], min_examples)
    label_set = sorted(set(labels))
    groups = [sentence.uid for sentence in sentences]
    analyzed = textclassifier.analyze([[sentence.text] for sentence in sentences], config)
    uncalibrated = config.replace(calibration_folds=0)
    macro, accuracy, fit_seconds = [], [], 0.0
    per_label: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    for seed in seeds:
        assignment = group_folds(groups, folds, seed)
        predicted = [""] * len(sentences)
        for fold in range(folds):
            train = np.flatnonzero(assignment != fold)
            test = np.flatnonzero(assignment == fold)
            started = time.perf_counter()
            model = textclassifier.fit_analyzed(analyzed.subset(train), [labels[i] for i in train], uncalibrated)
            fit_seconds += time.perf_counter() - started
            best = model.predict_proba_analyzed(analyzed.subset(test)).argmax(axis=1)
            for row, column in zip(test, best, strict=True):
                predicted[int(row)] = model.labels[int(column)]
        scores = _scores(labels, predicted, label_set)
        for label, values in scores.items():
            per_label[label].append(values)
        macro.append(float(np.mean([f1 for _p, _r, f1 in scores.values()])))
        accuracy.append(float(np.mean([t == p for t, p in zip(labels, predicted, strict=True)])))
        confusion.update((t, p) for t, p in zip(labels, predicted, strict=True) if t != p)
    support = Counter(labels)
    rows = [
        LabelScore(
            label, support[label], *(float(np.mean([values[i] for values in per_label[label]])) for i in range(3))
        )
        for label in label_set
    ]
    rows.sort(key=lambda row: -row.support)
    return CrossValidation(
        folds=folds,
        seeds=list(seeds),
        documents=len(set(groups)),
        sentences=len(sentences),
        macro_f1=float(np.mean(macro)),
        macro_f1_std=float(np.std(macro)),
        accuracy=float(np.mean(accuracy)),
        accuracy_std=float(np.std(accuracy)),
        per_label=rows,
        fit_seconds=fit_seconds / (len(seeds) * folds),
        confusions=[(t, p, n // len(seeds)) for (t, p), n in confusion.most_common(8)],
    )


# --- clause splitting and metadata against the annotations ---------------------------------------------------


@dataclass(frozen=True)
class SplitAgreement:
    """How many annotated sentences `split_clauses` recovers exactly from documents rebuilt from them."""

    documents: int
    sentences: int
    clauses: int
    recovered: int

    @property
    def recall(self) -> float:
        """Return the fraction of annotated sentences found as clauses."""
        return self.recovered / self.sentences if self.sentences else 0.0

    @property
    def precision(self) -> float:
        """Return the fraction of clauses that are annotated sentences."""
        return self.recovered / self.clauses if self.clauses else 0.0


def _by_document(sentences: Sequence[AnnotatedSentence]) -> dict[str, list[AnnotatedSentence]]:
    documents_: dict[str, list[AnnotatedSentence]] = {}
    for sentence in sentences:
        documents_.setdefault(sentence.uid, []).append(sentence)
    return documents_


def split_agreement(sentences: Sequence[AnnotatedSentence] | None = None, *, separator: str = "") -> SplitAgreement:
    """Rebuild each document by joining its sentences with separator ('' loses the line breaks), split it
    again and count the sentences recovered exactly (as multisets per document, after the same cleaning)."""
    sentences = list(sentences) if sentences is not None else load_sentences()
    total = recovered = clauses = 0
    grouped = _by_document(sentences)
    for rows in grouped.values():
        gold = Counter(
            cleaned for row in rows if (cleaned := documents.read_text(row.text).text if row.text.strip() else "")
        )
        text = documents.read_text(separator.join(row.text for row in rows))
        found = Counter(clause.text for clause in documents.split_clauses(text))
        total += sum(gold.values())
        clauses += sum(found.values())
        recovered += sum((gold & found).values())
    return SplitAgreement(documents=len(grouped), sentences=total, clauses=clauses, recovered=recovered)


METADATA_FIELDS = {
    "政策名称": "title",
    "制定部门": "issuer",
    "政策文号": "document_number",
    "发布时间": "issue_date",
    "执行期限": "validity",
    "发布地区": "region",
}


@dataclass(frozen=True)
class FieldAgreement:
    """How often a guessed metadata field agrees with the annotated entity (documents that have one)."""

    entity: str
    field: str
    documents: int
    exact: int
    lenient: int
    misses: list[tuple[str, str, str]]  # (uid, annotated, guessed)


_NORMALISE_RE = re.compile(r"[\s、，,《》<>〈〉“”\"·]")
_BRACKETS = str.maketrans("[]［］【】()", "〔〕〔〕〔〕（）")


def _normalise(value: str) -> str:
    return _NORMALISE_RE.sub("", documents.read_text(value).text if value.strip() else "").translate(_BRACKETS)


def _canonical_number(value: str) -> str:
    return documents.parse_document_number(value) or _normalise(value)


def _annotated_date(value: str) -> datetime.date | int | None:
    """Return an annotated 发布时间: a spreadsheet day number (42934), an ISO date, a written date or a year."""
    value = value.strip()
    if re.fullmatch(r"\d{5}", value):
        return datetime.date(1899, 12, 30) + datetime.timedelta(days=int(value))
    if match := re.match(r"(\d{4})-(\d{2})-(\d{2})", value):
        return datetime.date(*(int(part) for part in match.groups()))
    if parsed := documents.parse_date(value):
        return parsed
    if match := re.fullmatch(r"(\d{4})年?", value):
        return int(match.group(1))
    return None


def metadata_agreement(
    sentences: Sequence[AnnotatedSentence] | None = None,
    entities_path: Path = ENTITIES_FILE,
    *,
    separator: str = "",
) -> list[FieldAgreement]:
    """Compare `guess_metadata` on the rebuilt documents with the annotated entities, field by field.

    Exact: equal after removing spaces, 、，《》 and quotes and unifying brackets (a document number in canonical
    form, a date as a date; an annotated year alone matches that year). Lenient: one contains the other (the
    annotations write titles with or without 《》 and the issuer, numbers sometimes without their prefix).
    """
    sentences = list(sentences) if sentences is not None else load_sentences()
    grouped = _by_document(sentences)
    annotated: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with Path(entities_path).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            uid = row["sid"].split("_")[0]
            if uid in grouped and row["entity_type"] in METADATA_FIELDS:
                annotated[uid][row["entity_type"]].append(row["entity"])
    results = []
    guesses = {
        uid: documents.guess_metadata(documents.read_text(separator.join(row.text for row in grouped[uid])))
        for uid in annotated
    }
    for entity, name in METADATA_FIELDS.items():
        count = exact = lenient = 0
        misses: list[tuple[str, str, str]] = []
        for uid, fields in annotated.items():
            if entity not in fields:
                continue
            count += 1
            guess = getattr(guesses[uid], name)
            if name == "issue_date":
                hit = False
                for value in fields[entity]:
                    expected = _annotated_date(value)
                    hit |= (
                        (guess is not None and guess.year == expected)
                        if isinstance(expected, int)
                        else guess == expected
                    )
                exact += hit
                lenient += hit
            else:
                normalise = _canonical_number if name == "document_number" else _normalise
                guessed = normalise(str(guess or ""))
                values = [normalise(value) for value in fields[entity] if normalise(value)]
                hit = bool(guessed) and guessed in values
                if name == "document_number":
                    near = bool(guessed) and any(guessed.endswith(value) for value in values)
                else:
                    near = bool(guessed) and any(value in guessed or guessed in value for value in values)
                exact += hit
                lenient += near or hit
            if not (hit if name == "issue_date" else near or hit):
                misses.append((uid, " | ".join(fields[entity]), str(guess or "")))
        results.append(FieldAgreement(entity, name, count, exact, lenient, misses))
    return results
