"""Train the appeal classifier on a labelled CSV file and write the model file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.appeals import textfiles
from qiaoliang.core import textclassifier as classifier


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no database or models: runs whatever the rest of the project's state
    help = "Train the appeal classifier on a labelled CSV file (UTF-8 or GBK) and write the model file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the labelled CSV file")
        parser.add_argument("--text-columns", required=True, help="text column(s), comma-separated: 留言主题,留言详情")
        parser.add_argument("--label-column", required=True, help="the label column, e.g. 一级分类")
        parser.add_argument("--out", required=True, help="where to write the model (.npz)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            text_columns = textfiles.parse_column_list(options["text_columns"])
            rows = textfiles.read_labelled(path, text_columns=text_columns, label_column=options["label_column"])
        except textfiles.TextFileError as error:
            raise CommandError(str(error)) from error
        if rows.left_out:
            self.stderr.write(textfiles.left_out_note(rows.left_out))
        if rows.truncated_cells:
            self.stderr.write(textfiles.truncation_note(rows.truncated_cells))
        started = time.perf_counter()
        model = classifier.fit(rows.documents, rows.labels, text_columns=text_columns)
        seconds = time.perf_counter() - started
        model.training = classifier.training_metadata(
            source=path, rows=len(rows.documents), labels=rows.labels, seconds=seconds
        )
        model.training.update(label_column=textfiles.clean_header(options["label_column"]), encoding=rows.encoding)
        try:
            classifier.save(model, options["out"])
        except OSError as error:
            raise CommandError(
                _("Cannot write the model to %(path)s: %(error)s") % {"path": options["out"], "error": error}
            ) from error
        self.stdout.write(
            _("Trained on %(rows)d rows, %(labels)d labels, in %(seconds).1f s; model written to %(path)s.")
            % {"rows": len(rows.documents), "labels": len(model.labels), "seconds": seconds, "path": options["out"]}
        )
