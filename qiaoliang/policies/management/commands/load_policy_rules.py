"""Load the annotated Zhejiang policies and their 1,094 dev rules into an organisation's library, or check them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from qiaoliang.orgs.models import Organization
from qiaoliang.policies import dev_rules, library_loader
from qiaoliang.policies.services.decisions import threshold_book


class Command(BaseCommand):
    help = "Load the dev policies and rules of data/zj into a library (or --check: report what loads and why not)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="organisation code (default: the first federation)")
        parser.add_argument("--check", action="store_true", help="only report; write nothing")
        parser.add_argument("--draft", action="store_true", help="load as drafts instead of publishing")
        parser.add_argument("--report", help="write the refused rules and their reasons to this Markdown file")

    def handle(self, *args: Any, **options: Any) -> None:
        book = threshold_book()
        if options["check"]:
            loaded = dev_rules.load_all(book)
            summary = dev_rules.summary(loaded)
            refused = [r for r in loaded if not r.expression]
        else:
            qs = (
                Organization.objects.filter(code=options["organization"])
                if options["organization"]
                else (Organization.objects.filter(kind="federation").order_by("path"))
            )
            organization = qs.first()
            if organization is None:
                raise CommandError(_("No such organisation."))
            with transaction.atomic():
                report = library_loader.load(organization=organization, publish=not options["draft"])
            summary, refused = report.summary, report.refused
            self.stdout.write(f"policies {report.policies} · items {report.items} · rules {report.rules} · "
                              f"test cases {report.test_cases}")  # fmt: skip
        self.stdout.write(
            f"rules {summary['rules']} · loaded {summary['loaded']} (fully computed {summary['fully_typed']}, "
            f"with declarations {summary['with_declarations']}) · refused {summary['refused']}"
        )
        self.stdout.write(
            f"conditions computed {summary['conditions_typed']} · declared {summary['conditions_declared']}"
        )
        for reason, count in sorted(summary["reasons"].items(), key=lambda kv: -kv[1]):
            self.stdout.write(f"  refused: {count} × {reason}")
        if options["report"]:
            lines = ["| policy | item | logic | reason |", "| --- | --- | --- | --- |"]
            lines += [f"| {r.uid} | {r.name} | `{r.logic}` | {r.reason} |" for r in refused]
            with open(options["report"], "w", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
