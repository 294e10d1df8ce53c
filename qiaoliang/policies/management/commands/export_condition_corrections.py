"""Write staff's reviews of proposed conditions as training rows for `train_policy_extractor --extra-entries`.

    python manage.py export_condition_corrections --out corrections.csv [--since 2026-01-01]

Accepted, corrected and added conditions become rows (sid, sentence, entry_type, var, relation, field); rejected
proposals are counted but teach by their absence only when their sentence has no kept row.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from qiaoliang.policies.models import ConditionCorrection
from qiaoliang.policies.services.rulebook import corrections_as_entries

COLUMNS = ["sid", "sentence", "entry_type", "var", "relation", "field"]


class Command(BaseCommand):
    help = "Write staff's reviews of proposed conditions as extra training entries for the extractor (CSV)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", required=True, help="the CSV file to write")
        parser.add_argument("--since", default="", help="only reviews from this day (YYYY-MM-DD)")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = ConditionCorrection.objects.select_related("clause").order_by("clause_id", "pk")
        if options["since"]:
            try:
                since = datetime.date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError(_("%(value)s is not a date; write it as YYYY-MM-DD.")
                                   % {"value": options["since"]}) from exc  # fmt: skip
            rows = rows.filter(created_at__date__gte=since)
        entries = corrections_as_entries(rows.iterator(chunk_size=2000))
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(_("Folder not found (文件夹不存在): %(path)s") % {"path": out.parent})
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(entries)
        self.stdout.write(f"{len(entries)} entries written to {out}")
