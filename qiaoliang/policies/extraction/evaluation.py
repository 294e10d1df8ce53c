"""Measure the extractor on held-out policies: grouped cross-validation and the frozen test.

The unit is a sentence: its gold fields and its predicted fields are compared as sets (a field annotated
twice in one sentence counts once). Figures are micro-averaged over all sentences of the held-out policies,
those without any condition included (a field proposed there is a false positive):

- pairs: exact (sid, field);
- triples: exact (sid, entry_type, field);
- lenient pairs: (sid, field) with the leading verbs and time words of both sides removed (获得国家高新技术
  企业 = 国家高新技术企业), because annotators wrote them in some policies and not in others; shown for
  information, the pairs are the headline figure;
- per entry type: the triples of that gold (recall) or predicted (precision) entry type.

Cross-validation is grouped by policy (uid): every sentence of a policy is in the same fold, so a test
policy is never seen in training, as a new policy would not be. A fifth of the policies (chosen with a fixed
seed, `data.frozen_test_policies`) is kept out of the cross-validation as the final test.

The baseline is a gazetteer: every training field of two or more characters found in a test sentence is
proposed, with the entry type it had most often in training.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from qiaoliang.policies.extraction import data
from qiaoliang.policies.extraction.model import Extractor, ExtractorConfig, train_sentences

Prediction = list[tuple[str, str]]  # (entry_type, field) pairs of one sentence


@dataclass
class Counts:
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, gold: set[object], predicted: set[object]) -> None:
        """Count one sentence."""
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        """Return tp / (tp + fp), 0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Return tp / (tp + fn), 0 when there was nothing to find."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    """The figures of one method on one set of held-out sentences."""

    name: str
    sentences: int = 0
    gold_pairs: int = 0
    pairs: Counts = field(default_factory=Counts)
    triples: Counts = field(default_factory=Counts)
    lenient: Counts = field(default_factory=Counts)
    detection: Counts = field(default_factory=Counts)  # sentences with at least one condition
    per_type: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    seconds: float = 0.0

    def add(self, sentence: data.Sentence, predicted: Prediction) -> None:
        """Count one held-out sentence."""
        gold_pairs = {entry.field for entry in sentence.entries}
        gold_triples = {(entry.entry_type, entry.field) for entry in sentence.entries}
        predicted_pairs = {value for _type, value in predicted}
        predicted_triples = set(predicted)
        self.sentences += 1
        self.gold_pairs += len(gold_pairs)
        self.pairs.add(set(gold_pairs), set(predicted_pairs))
        self.triples.add(set(gold_triples), set(predicted_triples))
        self.lenient.add({lenient_form(v) for v in gold_pairs}, {lenient_form(v) for v in predicted_pairs})
        self.detection.add({0} if gold_pairs else set(), {0} if predicted_pairs else set())
        for entry_type in {t for t, _v in gold_triples} | {t for t, _v in predicted_triples}:
            self.per_type[entry_type].add(
                {triple for triple in gold_triples if triple[0] == entry_type},
                {triple for triple in predicted_triples if triple[0] == entry_type},
            )


def lenient_form(value: str) -> str:
    """Return a field without its leading verbs and time words."""
    return data.split_prefix(value)[1]


def gazetteer(training: Iterable[data.Sentence]) -> Callable[[Sequence[str]], list[Prediction]]:
    """Return the baseline: training fields (2+ characters) found in a sentence, with their usual entry type."""
    types: dict[str, Counter[str]] = defaultdict(Counter)
    for sentence in training:
        for entry in sentence.entries:
            if len(entry.field) >= 2:
                types[entry.field][entry.entry_type] += 1
    usual = {value: counts.most_common(1)[0][0] for value, counts in types.items()}

    def predict(texts: Sequence[str]) -> list[Prediction]:
        return [[(entry_type, value) for value, entry_type in usual.items() if value in text] for text in texts]

    return predict


def extractor_method(extractor: Extractor) -> Callable[[Sequence[str]], list[Prediction]]:
    """Return a trained extractor as a method of `evaluate`."""

    def predict(texts: Sequence[str]) -> list[Prediction]:
        return [[(c.entry_type, c.field) for c in conditions] for conditions in extractor.extract_many(texts)]

    return predict


@dataclass
class Report:
    """Cross-validation over the tuning policies and the frozen test."""

    config: ExtractorConfig
    folds: int
    seed: int
    tuning_policies: int
    test_policies: int
    cv: dict[str, Scores] = field(default_factory=dict)
    test: dict[str, Scores] = field(default_factory=dict)
    train_seconds: float = 0.0
    predict_ms_per_sentence: float = 0.0


def _score(name: str, sentences: Sequence[data.Sentence], predicted: list[Prediction], into: dict[str, Scores]) -> None:
    scores = into.setdefault(name, Scores(name))
    for sentence, prediction in zip(sentences, predicted, strict=True):
        scores.add(sentence, prediction)


def evaluate(
    sentences: Sequence[data.Sentence],
    config: ExtractorConfig | None = None,
    *,
    folds: int = 5,
    seed: int = 0,
    frozen_test: bool = True,
    progress: Callable[[str], None] | None = None,
    feature_cache: Mapping[str, list[list[str]]] | None = None,
) -> Report:
    """Cross-validate on the tuning policies (grouped), then train on all of them and score the frozen test."""
    config = config or ExtractorConfig()
    test_uids = data.frozen_test_policies(sentence.uid for sentence in sentences) if frozen_test else frozenset()
    tuning = [sentence for sentence in sentences if sentence.uid not in test_uids]
    test = [sentence for sentence in sentences if sentence.uid in test_uids]
    report = Report(
        config=config,
        folds=folds,
        seed=seed,
        tuning_policies=len({s.uid for s in tuning}),
        test_policies=len(test_uids),
    )
    assignment = data.grouped_folds((sentence.uid for sentence in tuning), folds, seed)
    fit_seconds, predict_seconds, predicted_sentences = 0.0, 0.0, 0
    for fold in range(folds):
        training = [sentence for sentence in tuning if assignment[sentence.uid] != fold]
        held_out = [sentence for sentence in tuning if assignment[sentence.uid] == fold]
        if not held_out:
            continue
        started = time.perf_counter()
        extractor = train_sentences(training, config, feature_cache=feature_cache)
        fit_seconds += time.perf_counter() - started
        started = time.perf_counter()
        predictions = extractor_method(extractor)([sentence.text for sentence in held_out])
        predict_seconds += time.perf_counter() - started
        predicted_sentences += len(held_out)
        _score("extractor", held_out, predictions, report.cv)
        _score("gazetteer", held_out, gazetteer(training)([sentence.text for sentence in held_out]), report.cv)
        if progress:
            progress(f"fold {fold + 1}/{folds}: {len(held_out)} sentences")
    report.train_seconds = fit_seconds / max(1, folds)
    report.predict_ms_per_sentence = 1000 * predict_seconds / max(1, predicted_sentences)
    if test:
        extractor = train_sentences(tuning, config, feature_cache=feature_cache)
        texts = [sentence.text for sentence in test]
        _score("extractor", test, extractor_method(extractor)(texts), report.test)
        _score("gazetteer", test, gazetteer(tuning)(texts), report.test)
        if progress:
            progress(f"frozen test: {len(test)} sentences")
    return report


def _row(label: str, counts: Counts, extra: str = "") -> str:
    return f"| {label} | {counts.precision:.3f} | {counts.recall:.3f} | {counts.f1:.3f} | {extra} |"


def render(report: Report) -> str:
    """Return the figures as Markdown tables."""
    lines = []
    parts = [
        ("Grouped cross-validation", report.cv, report.tuning_policies),
        ("Frozen test", report.test, report.test_policies),
    ]
    for title, scores, policies in parts:
        if not scores:
            continue
        first = next(iter(scores.values()))
        lines += [
            "",
            f"### {title}: {policies} policies, {first.sentences} sentences, "
            f"{first.gold_pairs} gold (sentence, field) pairs",
            "",
            "| method, measure | precision | recall | F1 | tp / fp / fn |",
            "| --- | --- | --- | --- | --- |",
        ]
        for name, result in scores.items():
            for label, counts in (
                ("(sentence, field)", result.pairs),
                ("(sentence, entry_type, field)", result.triples),
                ("(sentence, field), leading verbs ignored", result.lenient),
                ("sentences with a condition", result.detection),
            ):
                lines.append(_row(f"{name}: {label}", counts, f"{counts.tp} / {counts.fp} / {counts.fn}"))
        extractor = scores.get("extractor")
        if extractor is not None:
            lines += [
                "",
                f"{title}, extractor, (sentence, entry_type, field) per entry type:",
                "",
                "| entry type | precision | recall | F1 | gold |",
                "| --- | --- | --- | --- | --- |",
            ]
            ordered = sorted(extractor.per_type.items(), key=lambda item: -(item[1].tp + item[1].fn))
            for entry_type, counts in ordered:
                lines.append(_row(entry_type or "(none)", counts, str(counts.tp + counts.fn)))
    lines += [
        "",
        f"Training time per fold {report.train_seconds:.1f} s; "
        f"prediction {report.predict_ms_per_sentence:.2f} ms per sentence.",
    ]
    return "\n".join(lines).strip() + "\n"
