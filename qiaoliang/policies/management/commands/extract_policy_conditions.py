"""Propose the eligibility conditions of policy sentences: one JSON object per row of a CSV file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.policies import extraction
from qiaoliang.policies.extraction import csvfile

CHUNK_ROWS = 1_000


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # no database or models: runs whatever the rest of the project's state
    help = (
        "Propose the eligibility conditions of the sentences of a CSV file with the columns sid and sentence "
        "(UTF-8, other columns ignored). With --json, print one JSON object per row, in file order: "
        '{"sid": "...", "conditions": [{"entry_type": "...", "var": "...", "relation": "...", "field": "..."}]}.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file (columns sid and sentence)")
        parser.add_argument("--json", action="store_true", help="print JSON lines (nothing else on standard output)")
        parser.add_argument(
            "--model", default="", help="an extractor file written by train_policy_extractor (default: the shipped one)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            rows = csvfile.read_columns(Path(options["file"]), ["sid", "sentence"])
        except csvfile.CsvFileError as error:
            raise CommandError(str(error)) from error
        try:
            extractor = extraction.load(options["model"]) if options["model"] else extraction.default_extractor()
        except extraction.ModelFileError as error:
            raise CommandError(str(error)) from error
        if not options["json"]:
            self.stdout.write("\t".join([_("sid"), _("field"), _("entry type"), _("relation"), _("variable")]))
        for low in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[low : low + CHUNK_ROWS]
            found = extractor.extract_many([row["sentence"] for row in chunk])
            lines = []
            for row, conditions in zip(chunk, found, strict=True):
                if options["json"]:
                    record = {"sid": row["sid"], "conditions": [condition.as_dict() for condition in conditions]}
                    lines.append(json.dumps(record, ensure_ascii=False))
                else:
                    lines += [
                        "\t".join([row["sid"], c.field, c.entry_type, c.relation, c.var]) for c in conditions
                    ] or [f"{row['sid']}\t-"]
            self.stdout.write("\n".join(lines))
