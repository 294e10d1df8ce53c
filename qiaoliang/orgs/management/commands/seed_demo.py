"""Load the demo federation: organisations, zones, members, posts and one account per role."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.orgs import demo


class Command(BaseCommand):
    help = "Build a deterministic demo city federation (running it again changes nothing; --reset rebuilds it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enterprises", type=int, default=5000, help="number of member enterprises (5000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed: the same seed gives the same data")
        parser.add_argument("--reset", action="store_true", help="delete the demo federation first, then rebuild it")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        verbose = options["verbosity"] > 1
        if options["reset"]:
            demo.reset_demo()
            self.stdout.write(_("Deleted the previous demo data."))

        def log(message: str) -> None:
            if verbose:
                self.stdout.write(f"  {time.monotonic() - started:6.1f}s {message}")

        result = demo.seed(enterprises=options["enterprises"], seed=options["seed"], log=log)
        if result.created:
            counts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
            self.stdout.write(
                self.style.SUCCESS(
                    _("Demo federation created in %(seconds).1f s: %(counts)s.")
                    % {"seconds": time.monotonic() - started, "counts": counts}
                )
            )
        else:
            self.stdout.write(_("The demo federation already exists; nothing was changed (use --reset to rebuild it)."))
        self.print_accounts(result.accounts)

    def print_accounts(self, accounts: list[demo.DemoAccount]) -> None:
        headers = [_("Username"), _("Mobile"), _("Role"), _("Scope"), _("Password")]
        rows = [[a.username, a.mobile or "—", a.role, a.scope, demo.DEMO_PASSWORD] for a in accounts]
        widths = [max(_width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

        def line(cells: list[str]) -> str:
            return "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths, strict=True))

        self.stdout.write("")
        self.stdout.write(_("Demo accounts (log in with the username or the mobile number):"))
        self.stdout.write(line(headers))
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in rows:
            self.stdout.write(line(row))


def _width(text: str) -> int:
    """Return the display width of a text: CJK characters take two columns."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)
