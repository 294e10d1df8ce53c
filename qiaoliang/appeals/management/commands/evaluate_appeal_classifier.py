"""Cross-validate the appeal classifier on a labelled CSV file; print the figures and write a Markdown report."""

from __future__ import annotations

import datetime
import shlex
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.appeals import evaluation, textfiles
from qiaoliang.core import textclassifier as classifier


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no database or models: runs whatever the rest of the project's state
    help = (
        "Stratified k-fold cross-validation of the appeal classifier, repeated with several seeds: macro-F1, "
        "accuracy, per-label precision/recall/F1, confidence. Writes bench/results/<date>-appeal-classifier.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the labelled CSV file")
        parser.add_argument("--text-columns", required=True, help="text column(s), comma-separated")
        parser.add_argument("--label-column", required=True, help="the label column")
        parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
        parser.add_argument("--seeds", type=int, default=3, help="number of repetitions with seeds 0, 1, … (default 3)")
        parser.add_argument(
            "--output", default="", help="the Markdown report (default bench/results/<date>-appeal-classifier.md)"
        )
        parser.add_argument("--no-report", action="store_true", help="print the figures only")

    def handle(self, *args: Any, **options: Any) -> None:
        folds, seeds = options["folds"], options["seeds"]
        if not 2 <= folds <= 20:
            raise CommandError(_("--folds must be between 2 and 20."))
        if not 1 <= seeds <= 10:
            raise CommandError(_("--seeds must be between 1 and 10."))
        path = Path(options["file"])
        try:
            text_columns = textfiles.parse_column_list(options["text_columns"])
            rows = textfiles.read_labelled(path, text_columns=text_columns, label_column=options["label_column"])
        except textfiles.TextFileError as error:
            raise CommandError(str(error)) from error
        if rows.left_out:
            self.stderr.write(textfiles.left_out_note(rows.left_out))
        counts = Counter(rows.labels)
        if min(counts.values()) < folds:
            self.stderr.write(
                _("Some labels have fewer rows than folds; some folds will not contain them: %(labels)s")
                % {"labels": ", ".join(f"{k} ({v})" for k, v in sorted(counts.items()) if v < folds)}
            )
        started = time.perf_counter()
        result = evaluation.cross_validate(
            rows.documents, rows.labels, classifier.ClassifierConfig(), folds=folds, seeds=list(range(seeds))
        )
        self.stdout.write(evaluation.render_table(result))
        if options["no_report"]:
            return
        today = datetime.date.today().isoformat()
        output = Path(
            options["output"] or Path(settings.BASE_DIR) / "bench" / "results" / f"{today}-appeal-classifier.md"
        )
        label_column = textfiles.clean_header(options["label_column"])
        command = shlex.join(
            ["python", "manage.py", "evaluate_appeal_classifier", str(path), "--text-columns", ",".join(text_columns),
             "--label-column", label_column, "--folds", str(folds), "--seeds", str(seeds)]
        )  # fmt: skip
        report = evaluation.render_markdown(
            result,
            title=f"Appeal classifier: cross-validation — {today}",
            source=path.name,
            command=command,
            notes=f"Run time {time.perf_counter() - started:.0f} s.",
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report, encoding="utf-8")
        self.stderr.write(_("Report written to %(path)s") % {"path": output})
