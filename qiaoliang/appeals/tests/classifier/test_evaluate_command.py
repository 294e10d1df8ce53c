"""`manage.py evaluate_appeal_classifier`: cross-validated figures printed and written as Markdown."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError
from django.utils import translation

Run = Callable[..., tuple[str, str]]


@pytest.fixture(autouse=True)
def _english() -> object:
    with translation.override("en"):
        yield


def test_the_report_holds_macro_f1_and_per_label_figures(tmp_path: Path, training_file: Path, run: Run) -> None:
    report = tmp_path / "report.md"
    out, err = run("evaluate_appeal_classifier", str(training_file), "--text-columns", "留言主题,留言详情",
                   "--label-column", "一级分类", "--folds", "2", "--seeds", "1", "--output", str(report))  # fmt: skip
    assert re.search(r"^macro-F1 (0\.\d{3}|1\.000) ± \d\.\d{3}   accuracy", out, re.MULTILINE)
    assert "Report written to" in err
    text = report.read_text(encoding="utf-8")
    assert "- protocol: stratified 2-fold cross-validation, seeds 0" in text
    assert re.search(r"^\| macro-F1 \| \d\.\d{3} ± \d\.\d{3} \| \d\.\d{3} \|$", text, re.MULTILINE)
    assert re.search(r"^\| 交通运输 \| 8 \| \d\.\d{3} \| \d\.\d{3} \| \d\.\d{3} \|$", text, re.MULTILINE)
    assert re.search(r"^\| 教育文体 \| 8 \|", text, re.MULTILINE)


def test_folds_out_of_range_are_refused(training_file: Path, run: Run) -> None:
    with pytest.raises(CommandError, match="--folds must be between 2 and 20"):
        run("evaluate_appeal_classifier", str(training_file), "--text-columns", "留言主题",
            "--label-column", "一级分类", "--folds", "1", "--no-report")  # fmt: skip
