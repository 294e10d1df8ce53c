"""Train the policy condition extractor on the shipped dev data (plus staff corrections) and write it to a file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.policies import extraction
from qiaoliang.policies.extraction import csvfile


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = (
        "Train the condition extractor on qiaoliang/policies/data/zj (the dev split) and write it to --out. "
        "--extra-entries adds rows with the columns sid, entry_type, var, relation, field (and, for sentences "
        "not in the dev data, sentence and optionally uid). Rebuild the shipped model with "
        "--out qiaoliang/policies/data/extractor.npz."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="the model file to write (.npz)")
        parser.add_argument("--extra-entries", default="", help="a CSV file of more entries (staff corrections)")

    def handle(self, *args: Any, **options: Any) -> None:
        extra_sentences: list[tuple[str, str, str]] = []
        extra_entries: list[dict[str, str]] = []
        if options["extra_entries"]:
            try:
                rows = csvfile.read_columns(
                    Path(options["extra_entries"]),
                    ["sid", "field"],
                    ["entry_type", "var", "relation", "sentence", "uid"],
                )
            except csvfile.CsvFileError as error:
                raise CommandError(str(error)) from error
            seen: set[str] = set()
            for row in rows:
                sid = row["sid"].strip()
                if row.get("sentence") and sid not in seen:
                    seen.add(sid)
                    uid = (row.get("uid") or "").strip() or sid.rsplit("_", 1)[0]
                    extra_sentences.append((sid, uid, row["sentence"]))
                extra_entries.append({**row, "sid": sid})
        started = time.perf_counter()
        extractor = extraction.train_on_dev(extra_sentences, extra_entries)
        out = Path(options["out"])
        extraction.save(extractor, out)
        self.stderr.write(
            _("Trained on %(sentences)d sentences and %(entries)d entries in %(seconds).1f s; written to %(path)s")
            % {
                "sentences": extractor.training.get("sentences", 0),
                "entries": extractor.training.get("entries", 0),
                "seconds": time.perf_counter() - started,
                "path": out,
            }
        )
        self.stdout.write(_("SHA-256 checksum: %(checksum)s") % {"checksum": extraction.checksum_of(out)})
