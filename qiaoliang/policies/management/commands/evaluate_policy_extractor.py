"""Evaluate the policy condition extractor on held-out policies: grouped cross-validation and the frozen test."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.policies.extraction import data, evaluation


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = (
        "Grouped (by policy) k-fold cross-validation of the condition extractor over the tuning 80 % of the dev "
        "policies, then the frozen test (the other 20 %, chosen with a fixed seed): precision, recall and F1 of "
        "(sentence, field) pairs and (sentence, entry_type, field) triples, per entry type, and the gazetteer "
        "baseline. Prints Markdown tables."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the assignment of policies to folds")
        parser.add_argument(
            "--no-test", action="store_true", help="cross-validation only (leave the frozen test untouched)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        folds = options["folds"]
        if not 2 <= folds <= 20:
            raise CommandError(_("--folds must be between 2 and 20."))
        started = time.perf_counter()
        report = evaluation.evaluate(
            data.load_dev(),
            folds=folds,
            seed=options["seed"],
            frozen_test=not options["no_test"],
            progress=lambda message: self.stderr.write(message),
        )
        self.stdout.write(evaluation.render(report))
        self.stderr.write(_("Run time %(seconds).0f s.") % {"seconds": time.perf_counter() - started})
