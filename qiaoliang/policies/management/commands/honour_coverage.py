"""How well the honours vocabulary covers the honour conditions of the annotated Zhejiang policies.

Reads `policy_eligibility_entries_dev.csv` (or another file with the same columns): the conditions on var 荣誉,
and those on 企业类型 / 支持对象类型 / 企业 / 支持对象 whose value is an honour (高新技术企业, 科技企业孵化器). Each
written value goes through `split_honours` and counts as

- **mapped** when at least one honour it names is a vocabulary row or a kind at any level (企业研究院 → any
  level of research_inst),
- **level not in the vocabulary** when the kind is known but no row holds the level written (国家级重点企业研究院),
- **generic** when it names only a level or a grade (省级, 国家级荣誉称号, 一等奖: the sentence says which honour),
- **unmapped** otherwise (projects, patents, standards, statistics: listed with counts).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.policies.honours import ANY, HonourMatch, split_honours

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "data" / "zj" / "policy_eligibility_entries_dev.csv"
HONOUR_VAR = "荣誉"
TYPE_VARS = ("企业类型", "支持对象类型", "企业", "支持对象")
MAPPED, OTHER_LEVEL, GENERIC, UNMAPPED = "mapped", "level_not_in_vocabulary", "generic", "unmapped"


def classify(matches: list[HonourMatch]) -> str:
    """Return how a written value was read: mapped, level not in the vocabulary, generic or unmapped."""
    if not matches:
        return UNMAPPED
    specific = [match for match in matches if not match.generic]
    if not specific:
        return GENERIC
    if any(match.in_vocabulary or match.level == ANY for match in specific):
        return MAPPED
    return OTHER_LEVEL


@dataclass
class Coverage:
    """The figures over one file."""

    rows: int = 0
    strings: Counter[str] = field(default_factory=Counter)  # written value → rows
    status: dict[str, str] = field(default_factory=dict)  # written value → classify()
    exact: dict[str, bool] = field(default_factory=dict)  # written value → every honour read exactly
    codes: Counter[str] = field(default_factory=Counter)  # vocabulary code → rows
    keys: Counter[str] = field(default_factory=Counter)  # requirement key → rows
    type_rows: int = 0
    type_strings: Counter[str] = field(default_factory=Counter)
    type_status: dict[str, str] = field(default_factory=dict)

    def count(self, status: str) -> int:
        """Return the distinct written values with this status."""
        return sum(1 for value in self.strings if self.status[value] == status)

    def row_count(self, status: str) -> int:
        """Return the rows whose value has this status."""
        return sum(rows for value, rows in self.strings.items() if self.status[value] == status)

    @property
    def mapped_share(self) -> float:
        """Return the share of distinct written values mapped to the vocabulary (0–1)."""
        return self.count(MAPPED) / len(self.strings) if self.strings else 0.0

    def unmapped(self) -> list[tuple[str, int]]:
        return sorted(
            ((value, rows) for value, rows in self.strings.items() if self.status[value] == UNMAPPED),
            key=lambda item: (-item[1], item[0]),
        )


def measure_coverage(path: Path = DEFAULT_FILE) -> Coverage:
    """Read the entries file and return the coverage figures."""
    coverage = Coverage()
    with path.open(encoding="utf-8", newline="") as handle:
        entries = list(csv.DictReader(handle))
    if entries and not {"var", "field"} <= set(entries[0]):
        raise ValueError(_("%(path)s has no var and field columns.") % {"path": path})
    readings: dict[str, list[HonourMatch]] = {}
    for entry in entries:
        var, value = (entry.get("var") or "").strip(), (entry.get("field") or "").strip()
        if not value or (var != HONOUR_VAR and var not in TYPE_VARS):
            continue
        if value not in readings:
            readings[value] = split_honours(value)
        matches = readings[value]
        if var == HONOUR_VAR:
            coverage.rows += 1
            coverage.strings[value] += 1
            coverage.status[value] = classify(matches)
            coverage.exact[value] = bool(matches) and all(match.exact for match in matches)
            for match in matches:
                coverage.keys[match.key] += 1
                if match.in_vocabulary and not match.generic:
                    coverage.codes[match.code] += 1
        else:
            coverage.type_rows += 1
            coverage.type_strings[value] += 1
            coverage.type_status[value] = classify(matches)
            if coverage.type_status[value] == MAPPED:
                for match in matches:
                    coverage.keys[match.key] += 1
                    if match.in_vocabulary and not match.generic:
                        coverage.codes[match.code] += 1
    return coverage


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # reads files only
    help = (
        "Count how many honour conditions of the annotated policies (var 荣誉, and honours under 企业类型 and "
        "支持对象类型) map to the honours vocabulary, and list the values that do not."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", default=str(DEFAULT_FILE), help="the eligibility entries CSV file")
        parser.add_argument("--show-mapped", action="store_true", help="also list each mapped value and its codes")
        parser.add_argument("--top", type=int, default=25, help="how many of the most frequent codes to list")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("%(path)s is not a file.") % {"path": path})
        try:
            coverage = measure_coverage(path)
        except ValueError as error:
            raise CommandError(str(error)) from error
        distinct = len(coverage.strings)
        write = self.stdout.write
        write(_("Honour conditions (var 荣誉): %(rows)d rows, %(distinct)d distinct values.")
              % {"rows": coverage.rows, "distinct": distinct})  # fmt: skip
        labels = {
            MAPPED: _("mapped to the vocabulary"),
            OTHER_LEVEL: _("kind known, level not in the vocabulary"),
            GENERIC: _("a level or grade only (the sentence names the honour)"),
            UNMAPPED: _("not mapped"),
        }
        for status in (MAPPED, OTHER_LEVEL, GENERIC, UNMAPPED):
            count = coverage.count(status)
            write(_("  %(label)s: %(count)d values (%(share).1f%%), %(rows)d rows")
                  % {"label": labels[status], "count": count, "share": 100 * count / distinct if distinct else 0,
                     "rows": coverage.row_count(status)})  # fmt: skip
        exact = sum(1 for value in coverage.strings if coverage.status[value] == MAPPED and coverage.exact[value])
        write(_("  of the mapped values, read exactly: %(exact)d; read from part of the text: %(inexact)d")
              % {"exact": exact, "inexact": coverage.count(MAPPED) - exact})  # fmt: skip
        write(_("Distinct vocabulary codes: %(codes)d; distinct requirement keys (with level, 以上, grade): %(keys)d")
              % {"codes": len(coverage.codes), "keys": len(coverage.keys)})  # fmt: skip
        mapped_types = [value for value, status in coverage.type_status.items() if status == MAPPED]
        write(_("Enterprise and support types (企业类型, 支持对象类型, 企业, 支持对象): %(rows)d rows, "
                "%(distinct)d distinct values, %(honours)d of them honours.")
              % {"rows": coverage.type_rows, "distinct": len(coverage.type_strings),
                 "honours": len(mapped_types)})  # fmt: skip
        write("")
        write(_("Most frequent codes:"))
        for code, rows in coverage.codes.most_common(options["top"]):
            write(f"  {rows:4d}  {code}")
        write("")
        write(_("Not mapped (%(count)d values):") % {"count": coverage.count(UNMAPPED)})
        for value, rows in coverage.unmapped():
            write(f"  {rows:4d}  {value}")
        others = sorted(value for value, status in coverage.status.items() if status == OTHER_LEVEL)
        if others:
            write("")
            write(_("Kind known, level not in the vocabulary:"))
            for value in others:
                keys = ", ".join(match.key for match in split_honours(value))
                write(f"  {value}  →  {keys}")
        if options["show_mapped"]:
            write("")
            write(_("Mapped values:"))
            for value, rows in sorted(coverage.strings.items(), key=lambda item: (-item[1], item[0])):
                if coverage.status[value] in (MAPPED, GENERIC):
                    keys = ", ".join(match.key for match in split_honours(value))
                    mark = "" if coverage.exact[value] else " ~"
                    write(f"  {rows:4d}  {value}  →  {keys}{mark}")
        write("")
        write(_("Types that are not honours (%(count)d values):")
              % {"count": len(coverage.type_strings) - len(mapped_types)})  # fmt: skip
        for value, rows in sorted(coverage.type_strings.items(), key=lambda item: (-item[1], item[0])):
            if coverage.type_status[value] != MAPPED:
                write(f"  {rows:4d}  {value}")
