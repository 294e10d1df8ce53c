"""Fail when the zh-hans catalogue has an empty or fuzzy translation."""

from __future__ import annotations

import re
import sys
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main() -> int:
    """Print every msgid without a translation and return 1 if there is any."""
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = re.split(r"\n\n+", text)
    problems = []
    for entry in entries[1:]:  # the first entry is the header
        lines = [line for line in entry.splitlines() if not line.startswith("#~")]
        if not any(line.startswith("msgid") for line in lines):
            continue
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            problems.append(("fuzzy", entry))
            continue
        body = "\n".join(line for line in lines if not line.startswith("#"))
        for match in re.finditer(r'msgstr(?:\[\d\])? ((?:".*"\n?)+)', body + "\n"):
            value = "".join(re.findall(r'"(.*)"', match.group(1)))
            if not value:
                problems.append(("empty", entry))
                break
    for kind, entry in problems:
        msgid = entry.split("msgid", 1)[1].splitlines()[0]
        print(f"{kind} translation: msgid{msgid}")
    if problems:
        print(f"{len(problems)} zh-hans entries need a translation ({CATALOGUE})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
