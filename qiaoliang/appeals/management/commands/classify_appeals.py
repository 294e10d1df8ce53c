"""Classify the appeals of a CSV file with a trained model: one label and a confidence per data row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.appeals import textfiles
from qiaoliang.core import textclassifier as classifier

CHUNK_ROWS = 2_000


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no database or models: runs whatever the rest of the project's state
    help = (
        "Classify every data row of a CSV file with a model from train_appeal_classifier. With --json, print one "
        'JSON object per line: {"row": 1, "label": "...", "confidence": 0.93}, row 1 being the first data row.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file of appeals")
        parser.add_argument("--model", required=True, help="a model written by train_appeal_classifier")
        parser.add_argument(
            "--text-columns", default="", help="text column(s), comma-separated (default: the model's training columns)"
        )
        parser.add_argument("--json", action="store_true", help="print JSON lines (nothing else on standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            model = classifier.load(options["model"])
        except classifier.ModelFileError as error:
            raise CommandError(str(error)) from error
        try:
            if options["text_columns"]:
                text_columns = textfiles.parse_column_list(options["text_columns"])
            elif model.text_columns:
                text_columns = model.text_columns
            else:
                raise textfiles.TextFileError(_("Name the text columns with --text-columns."))
            table = textfiles.read_table(Path(options["file"]), text_columns=text_columns)
        except textfiles.TextFileError as error:
            raise CommandError(str(error)) from error
        if model.text_columns and len(text_columns) != len(model.text_columns):
            self.stderr.write(
                _("The model was trained on the text columns %(trained)s; the columns given are %(given)s.")
                % {"trained": ", ".join(model.text_columns), "given": ", ".join(text_columns)}
            )
        if table.truncated_cells:
            self.stderr.write(textfiles.truncation_note(table.truncated_cells))
        if not options["json"]:
            self.stdout.write("\t".join([_("row"), _("label"), _("confidence")]))
        for start in range(0, len(table.texts), CHUNK_ROWS):
            predictions = model.predict(table.texts[start : start + CHUNK_ROWS])
            lines = []
            for offset, (label, confidence) in enumerate(predictions):
                row = start + offset + 1
                if options["json"]:
                    record = {"row": row, "label": label, "confidence": round(confidence, 4)}
                    lines.append(json.dumps(record, ensure_ascii=False))
                else:
                    lines.append(f"{row}\t{label}\t{confidence:.2f}")
            self.stdout.write("\n".join(lines))
