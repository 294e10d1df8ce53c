"""Measure the policy-document reading against the annotated Zhejiang policies: clause types, clause splitting,
metadata. Prints the figures; --output also writes them as Markdown."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.policies import clauses


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure Python: runs whatever the state of the database
    help = (
        "Cross-validate the clause-type classifier with whole policies held out (macro-F1, accuracy, per-label "
        "precision/recall/F1), and measure clause splitting and metadata guessing against the annotations."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sentences", default=str(clauses.SENTENCES_FILE), help="annotated sentences (CSV)")
        parser.add_argument("--entities", default=str(clauses.ENTITIES_FILE), help="annotated entities (CSV)")
        parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
        parser.add_argument("--seeds", type=int, default=3, help="repetitions with seeds 0, 1, … (default 3)")
        parser.add_argument("--misses", type=int, default=0, help="list up to this many metadata misses per field")
        parser.add_argument("--output", default="", help="also write the figures to this Markdown file")

    def handle(self, *args: Any, **options: Any) -> None:
        folds, seeds = options["folds"], options["seeds"]
        if not 2 <= folds <= 20:
            raise CommandError(_("--folds must be between 2 and 20."))
        if not 1 <= seeds <= 10:
            raise CommandError(_("--seeds must be between 1 and 10."))
        for option in ("sentences", "entities"):
            if not Path(options[option]).is_file():
                raise CommandError(_("File not found: %(path)s") % {"path": options[option]})
        sentences = clauses.load_sentences(Path(options["sentences"]))
        lines: list[str] = []
        started = time.perf_counter()
        result = clauses.cross_validate(sentences, folds=folds, seeds=list(range(seeds)))
        lines += [
            "## Clause types",
            "",
            f"{result.sentences} sentences of {result.documents} policies, {folds} folds grouped by policy × "
            f"{seeds} seeds; labels with fewer than {clauses.MIN_EXAMPLES} sentences merged into "
            f"`{clauses.OTHER}`; {time.perf_counter() - started:.0f} s, fitting {result.fit_seconds:.2f} s per fold.",
            "",
            f"- macro-F1 **{result.macro_f1:.3f}** (± {result.macro_f1_std:.3f} over seeds), "
            f"accuracy **{result.accuracy:.3f}** (± {result.accuracy_std:.3f})",
            "",
            "| label | sentences | precision | recall | F1 |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {row.label} | {row.support} | {row.precision:.2f} | {row.recall:.2f} | {row.f1:.2f} |"
            for row in result.per_label
        ]
        lines += ["", "Most frequent confusions (annotated → predicted, per seed):", ""]
        lines += [f"- {truth} → {predicted}: {count}" for truth, predicted, count in result.confusions]
        lines += ["", "## Clause splitting", ""]
        for separator, name in (("", "line breaks lost (sentences joined)"), ("\n", "one sentence per line")):
            agreement = clauses.split_agreement(sentences, separator=separator)
            lines.append(
                f"- {name}: {agreement.recovered} of {agreement.sentences} annotated sentences recovered exactly "
                f"(**{agreement.recall:.3f}**); {agreement.clauses} clauses, precision {agreement.precision:.3f}"
            )
        lines += ["", "## Metadata (documents annotated with the entity; sentences joined)", ""]
        lines += ["| entity | field | documents | exact | lenient |", "| --- | --- | ---: | ---: | ---: |"]
        fields = clauses.metadata_agreement(sentences, Path(options["entities"]))
        for item in fields:
            exact, lenient = (item.exact / item.documents, item.lenient / item.documents) if item.documents else (0, 0)
            lines.append(f"| {item.entity} | {item.field} | {item.documents} | {exact:.2f} | {lenient:.2f} |")
        if options["misses"]:
            for item in fields:
                for uid, annotated, guessed in item.misses[: options["misses"]]:
                    lines.append(f"- {item.field} {uid}: annotated {annotated!r}, guessed {guessed!r}")
        text = "\n".join(lines)
        self.stdout.write(text)
        if options["output"]:
            Path(options["output"]).write_text(f"# Policy documents: clause types, splitting, metadata\n\n{text}\n")
