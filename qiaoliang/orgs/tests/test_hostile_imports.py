"""Every hostile file is refused by every import path with a clear reason, within seconds and in little memory.

The paths here: the member roster (parse, and the web upload) and the bounded reader's CSV side (the attendee
imports use it); the resource sheet's are in the exchange's tests. Each file is timed on every path, and read once more
in a forked child whose peak resident size is compared with the parent's (so the Rust reader's memory counts too).
The thresholds are the issue's: refused in seconds, under 300 MB each.
"""

from __future__ import annotations

import io
import os
import resource
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from qiaoliang.core import sheets
from qiaoliang.core.sheets import Column, SheetSpec, cell_text
from qiaoliang.core.tests import hostile_files
from qiaoliang.orgs import importers as roster_importers

pytestmark = pytest.mark.django_db
SECONDS = 15.0  # generous on a loaded machine: the old reader took 72 s and then ran out of memory
MEGABYTES = 300

XLSX = hostile_files.xlsx_files()
CSV = hostile_files.csv_files()


def _measure(parse: Callable[[], Any]) -> tuple[Any, float]:
    """Return the parse's result and its wall time."""
    started = time.monotonic()
    result = parse()
    return result, time.monotonic() - started


def _peak_growth_mb(parse: Callable[[], Any]) -> float:
    """Run a parse in a forked child and return how far its resident size rose above the parent's (all memory,
    the Rust reader's too, not only Python's)."""
    baseline = _current_rss_mb()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            parse()
        finally:
            os._exit(0)
    _pid, _status, usage = os.wait4(child, 0)
    return usage.ru_maxrss / 1024 - baseline


def _current_rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _attendee_spec() -> SheetSpec:
    return SheetSpec(
        columns=(Column("姓名", cell_text), Column("企业名称", cell_text), Column("手机号", cell_text)),
        max_rows=100_000, max_columns=26, max_cell_chars=500, allow_unknown_columns=True, what="attendee list",
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.mark.parametrize("hostile", XLSX, ids=lambda f: f.ident)
def test_the_roster_import_refuses_hostile_workbooks(world: Any, hostile: Any) -> None:
    parsed, seconds = _measure(lambda: roster_importers.parse_roster(io.BytesIO(hostile.content), hostile.name))
    assert seconds < SECONDS, seconds
    if hostile.accepted:  # a real workbook with the name and USCC columns: read, formula text kept as text
        assert parsed.file_error == "" and parsed.rows, parsed.file_error
        assert all(isinstance(row.name, str) for row in parsed.rows)
    else:
        assert parsed.file_error, hostile.description
        assert parsed.rows == []


@pytest.mark.parametrize("hostile", CSV, ids=lambda f: f.ident)
def test_the_csv_reader_refuses_hostile_files(db: Any, hostile: Any) -> None:
    result, seconds = _measure(lambda: sheets.read_sheet(io.BytesIO(hostile.content), _attendee_spec(), hostile.name))
    assert seconds < SECONDS, seconds
    if hostile.accepted:
        assert result.file_error == "" and result.rows, hostile.description
    else:
        assert result.file_error, hostile.description


@pytest.mark.skipif(not hasattr(os, "fork"), reason="measures a forked child")
@pytest.mark.parametrize("hostile", [*XLSX, *CSV], ids=lambda f: f.ident)
def test_no_file_makes_the_reader_grow_past_the_ceiling(world: Any, hostile: Any) -> None:
    spec = roster_importers.roster_spec()  # built in the parent: the child only reads the file
    megabytes = _peak_growth_mb(lambda: sheets.read_sheet(io.BytesIO(hostile.content), spec, hostile.name))
    assert megabytes < MEGABYTES, megabytes


def test_the_gbk_attendee_file_is_read_as_chinese(db: Any) -> None:
    gbk = next(f for f in CSV if f.threat == "gbk_encoding")
    result = sheets.read_sheet(io.BytesIO(gbk.content), _attendee_spec(), gbk.name)
    assert any("\u4e00" <= ch <= "\u9fff" for row in result.rows for value in row.raw.values() for ch in str(value))


def test_the_web_roster_upload_says_why_a_bomb_is_refused(
    client: Any, world: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    client.cookies["django_language"] = "en"
    client.force_login(world.secretary)
    bomb = hostile_files.find("roster_huge_column.xlsx")
    started = time.monotonic()
    response = client.post(reverse("orgs:roster_import"), {
        "organization": world.chamber1.pk, "file": SimpleUploadedFile(bomb.name, bomb.content),
    })  # fmt: skip
    assert time.monotonic() - started < SECONDS
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "The roster has more than 26 columns; keep only the template's columns."
    ]
