"""Every hostile workbook is refused by the resource-sheet import (parse and `import_listings`) within seconds; the
memory ceiling is measured on the shared reader in the orgs tests."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from qiaoliang.core.models import AuditLog
from qiaoliang.core.tests import hostile_files
from qiaoliang.exchange import importers as listing_importers

pytestmark = pytest.mark.django_db
SECONDS = 15.0  # generous on a loaded machine: the old reader took 72 s and then ran out of memory


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.mark.parametrize("hostile", hostile_files.xlsx_files(), ids=lambda f: f.ident)
def test_the_resource_sheet_import_refuses_hostile_workbooks(world: Any, hostile: Any) -> None:
    started = time.monotonic()
    parsed = listing_importers.parse_sheet(io.BytesIO(hostile.content), hostile.name)
    assert time.monotonic() - started < SECONDS
    if not hostile.accepted:
        assert parsed.file_error, hostile.description
        assert parsed.rows == []


def test_import_listings_refuses_a_sheet_of_empty_rows_without_an_audit_entry(world: Any, tmp_path: Any) -> None:
    empty = hostile_files.find("roster_empty_rows.xlsx")
    path = tmp_path / "listings.xlsx"
    path.write_bytes(empty.content)
    with pytest.raises(CommandError, match="more than 50000 rows"):
        call_command("import_listings", str(path))
    assert not AuditLog.objects.filter(action="exchange.listings.imported").exists()
