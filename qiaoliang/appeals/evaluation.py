"""Cross-validate the appeal classifier: stratified k-fold, repeated with several seeds.

For each seed the rows are split into k stratified folds; a model trained on k − 1 folds predicts
the held-out fold. Figures: macro-F1 and accuracy per fold (mean ± sample standard deviation over
all folds of all seeds), per-label precision, recall and F1 of the pooled out-of-fold predictions
(mean over seeds), the confusion matrix summed over seeds, and how well the confidence tells right
from wrong (accuracy and coverage above thresholds, log-loss).
"""

from __future__ import annotations

import statistics
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from qiaoliang.core import textclassifier as classifier
from qiaoliang.core.textclassifier import ClassifierConfig

CONFIDENCE_THRESHOLDS = (0.5, 0.7, 0.9)


@dataclass
class LabelScores:
    """Precision, recall and F1 of one label (means over seeds) and its number of rows."""

    label: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass
class Evaluation:
    """The cross-validated figures of one configuration."""

    config: ClassifierConfig
    folds: int
    seeds: list[int]
    rows: int
    fold_macro_f1: list[float] = field(default_factory=list)
    fold_accuracy: list[float] = field(default_factory=list)
    seed_macro_f1: list[float] = field(default_factory=list)
    seed_accuracy: list[float] = field(default_factory=list)
    per_label: list[LabelScores] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)
    log_loss: float = 0.0
    confidence: list[tuple[float, float, float]] = field(default_factory=list)  # threshold, coverage, accuracy
    mean_confidence: float = 0.0
    pooled_accuracy: float = 0.0
    fit_seconds: float = 0.0  # mean per fold
    predict_ms_per_row: float = 0.0

    @staticmethod
    def _mean_sd(values: list[float]) -> tuple[float, float]:
        if not values:
            return 0.0, 0.0
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0

    @property
    def macro_f1(self) -> tuple[float, float]:
        """Return (mean, sd) of macro-F1 over all folds of all seeds."""
        return self._mean_sd(self.fold_macro_f1)

    @property
    def accuracy(self) -> tuple[float, float]:
        """Return (mean, sd) of accuracy over all folds of all seeds."""
        return self._mean_sd(self.fold_accuracy)


def _scores(truth: np.ndarray, predicted: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per-label precision, recall, F1 (0 where undefined) for integer-coded labels."""
    precision, recall, f1 = np.zeros(n_labels), np.zeros(n_labels), np.zeros(n_labels)
    for k in range(n_labels):
        true_positive = np.sum((predicted == k) & (truth == k))
        predicted_k, actual_k = np.sum(predicted == k), np.sum(truth == k)
        precision[k] = true_positive / predicted_k if predicted_k else 0.0
        recall[k] = true_positive / actual_k if actual_k else 0.0
        total = precision[k] + recall[k]
        f1[k] = 2 * precision[k] * recall[k] / total if total else 0.0
    return precision, recall, f1


def _macro_f1(truth: np.ndarray, predicted: np.ndarray, n_labels: int) -> float:
    present = np.union1d(np.unique(truth), np.unique(predicted))
    return float(np.mean(_scores(truth, predicted, n_labels)[2][present]))


def cross_validate(
    documents: Sequence[Sequence[str]],
    labels: Sequence[str],
    config: ClassifierConfig | None = None,
    *,
    folds: int = 5,
    seeds: Sequence[int] = (0, 1, 2),
    analyzed: classifier.Analyzed | None = None,
) -> Evaluation:
    """Return the stratified k-fold figures of a configuration, repeated for each seed.

    `analyzed` may pass the documents already analysed with the same config (a sweep reuses them).
    """
    config = config or ClassifierConfig()
    if analyzed is None:
        analyzed = classifier.analyze(documents, config)
    label_set = sorted(set(labels))
    code = {label: i for i, label in enumerate(label_set)}
    truth = np.array([code[label] for label in labels])
    n_labels = len(label_set)
    evaluation = Evaluation(config=config, folds=folds, seeds=list(seeds), rows=len(labels), labels=label_set)
    confusion = np.zeros((n_labels, n_labels), dtype=np.int64)
    per_seed_prf = []
    log_losses, confidences, correct = [], [], []
    fit_seconds, predict_seconds = [], 0.0
    for seed in seeds:
        assignment = classifier.stratified_folds(truth, folds, seed)
        predicted = np.zeros(len(labels), dtype=np.int64)
        for fold in range(folds):
            train, test = np.flatnonzero(assignment != fold), np.flatnonzero(assignment == fold)
            started = time.perf_counter()
            model = classifier.fit_analyzed(analyzed.subset(train), [labels[int(i)] for i in train], config)
            fit_seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            proba = model.predict_proba_analyzed(analyzed.subset(test))
            predict_seconds += time.perf_counter() - started
            columns = [code[label] for label in model.labels]
            full = np.zeros((len(test), n_labels))
            full[:, columns] = proba
            predicted[test] = full.argmax(axis=1)
            evaluation.fold_macro_f1.append(_macro_f1(truth[test], predicted[test], n_labels))
            evaluation.fold_accuracy.append(float(np.mean(truth[test] == predicted[test])))
            log_losses.extend(-np.log(np.clip(full[np.arange(len(test)), truth[test]], 1e-12, 1.0)))
            confidences.extend(full.max(axis=1))
            correct.extend(predicted[test] == truth[test])
        evaluation.seed_macro_f1.append(_macro_f1(truth, predicted, n_labels))
        evaluation.seed_accuracy.append(float(np.mean(truth == predicted)))
        per_seed_prf.append(_scores(truth, predicted, n_labels))
        np.add.at(confusion, (truth, predicted), 1)
    support = np.bincount(truth, minlength=n_labels)
    for k, label in enumerate(label_set):
        evaluation.per_label.append(
            LabelScores(
                label=label,
                support=int(support[k]),
                precision=float(np.mean([prf[0][k] for prf in per_seed_prf])),
                recall=float(np.mean([prf[1][k] for prf in per_seed_prf])),
                f1=float(np.mean([prf[2][k] for prf in per_seed_prf])),
            )
        )
    evaluation.confusion = confusion.tolist()
    evaluation.log_loss = float(np.mean(log_losses))
    confidence_array, correct_array = np.array(confidences), np.array(correct, dtype=bool)
    evaluation.mean_confidence = float(np.mean(confidence_array))
    evaluation.pooled_accuracy = float(np.mean(correct_array))
    for threshold in CONFIDENCE_THRESHOLDS:
        chosen = confidence_array >= threshold
        coverage = float(np.mean(chosen))
        accuracy = float(np.mean(correct_array[chosen])) if chosen.any() else 0.0
        evaluation.confidence.append((threshold, coverage, accuracy))
    evaluation.fit_seconds = statistics.fmean(fit_seconds)
    evaluation.predict_ms_per_row = 1000 * predict_seconds / (len(labels) * len(seeds))
    return evaluation


def render_markdown(evaluation: Evaluation, *, title: str, source: str, command: str, notes: str = "") -> str:
    """Return the evaluation as a markdown report."""
    mean_f1, sd_f1 = evaluation.macro_f1
    mean_acc, sd_acc = evaluation.accuracy
    seeds = ", ".join(map(str, evaluation.seeds))
    lines = [
        f"# {title}",
        "",
        f"- data: `{source}` ({evaluation.rows} rows, {len(evaluation.labels)} labels)",
        f"- protocol: stratified {evaluation.folds}-fold cross-validation, seeds {seeds}",
        f"- configuration: `{evaluation.config}`",
        f"- command: `{command}`",
        "",
        "| metric | mean ± sd over folds | per seed (pooled out-of-fold) |",
        "| --- | --- | --- |",
        f"| macro-F1 | {mean_f1:.3f} ± {sd_f1:.3f} | {', '.join(f'{v:.3f}' for v in evaluation.seed_macro_f1)} |",
        f"| accuracy | {mean_acc:.3f} ± {sd_acc:.3f} | {', '.join(f'{v:.3f}' for v in evaluation.seed_accuracy)} |",
        f"| log-loss | {evaluation.log_loss:.3f} | |",
        "",
        "Per label (pooled out-of-fold predictions, mean over seeds):",
        "",
        "| label | rows | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for scores in evaluation.per_label:
        lines.append(
            f"| {scores.label} | {scores.support} | {scores.precision:.3f} | {scores.recall:.3f} | {scores.f1:.3f} |"
        )
    lines += [
        "",
        f"Confidence (all out-of-fold predictions of all seeds): mean {evaluation.mean_confidence:.3f} for an "
        f"accuracy of {evaluation.pooled_accuracy:.3f}.",
        "",
    ]
    lines += ["| confidence ≥ | share of rows | accuracy of those |", "| ---: | ---: | ---: |"]
    for threshold, coverage, accuracy in evaluation.confidence:
        lines.append(f"| {threshold:.1f} | {coverage:.3f} | {accuracy:.3f} |")
    lines += ["", "Confusion matrix summed over seeds (rows: true label, columns: predicted):", ""]
    lines.append("| true \\ predicted | " + " | ".join(evaluation.labels) + " |")
    lines.append("| --- |" + " ---: |" * len(evaluation.labels))
    for label, row in zip(evaluation.labels, evaluation.confusion, strict=True):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    lines += [
        "",
        f"Timing (text analysed once before the folds, so without normalisation, n-grams and rjieba): model "
        f"fitting {evaluation.fit_seconds:.2f} s per fold on average, calibration folds included; prediction "
        f"{evaluation.predict_ms_per_row:.2f} ms per row. End-to-end times are those of the train and classify "
        "commands (docs/appeals-classifier.md).",
    ]
    if notes:
        lines += ["", notes]
    return "\n".join(lines) + "\n"


def _display_width(text: str) -> int:
    """Return the terminal width of a text (East Asian wide characters take two columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_table(evaluation: Evaluation) -> str:
    """Return a plain-text summary for the terminal."""
    mean_f1, sd_f1 = evaluation.macro_f1
    mean_acc, sd_acc = evaluation.accuracy
    width = max([len("label"), *(_display_width(s.label) for s in evaluation.per_label)])
    lines = [
        f"rows {evaluation.rows}, {evaluation.folds} folds x {len(evaluation.seeds)} seeds",
        f"macro-F1 {mean_f1:.3f} ± {sd_f1:.3f}   accuracy {mean_acc:.3f} ± {sd_acc:.3f}   "
        f"log-loss {evaluation.log_loss:.3f}",
        "",
        f"{'label':<{width}}  {'rows':>5}  {'prec':>6}  {'recall':>6}  {'F1':>6}",
    ]
    for s in evaluation.per_label:
        padding = " " * (width - _display_width(s.label))
        lines.append(f"{s.label}{padding}  {s.support:>5}  {s.precision:>6.3f}  {s.recall:>6.3f}  {s.f1:>6.3f}")
    lines.append("")
    lines.append(f"mean confidence {evaluation.mean_confidence:.3f}, accuracy {evaluation.pooled_accuracy:.3f}")
    for threshold, coverage, accuracy in evaluation.confidence:
        lines.append(f"confidence >= {threshold:.1f}: {coverage:.1%} of rows, accuracy {accuracy:.3f}")
    lines.append(
        f"fitting {evaluation.fit_seconds:.2f} s per fold; prediction {evaluation.predict_ms_per_row:.2f} ms per row "
        "(text analysed beforehand)"
    )
    return "\n".join(lines)
