"""`manage.py import_members FILE.xlsx [--org CODE] [--dry-run]`."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from conftest import World
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs.models import Enterprise, Membership, Person
from qiaoliang.orgs.tests.test_roster_import import USCC_A, USCC_B, good_rows, make_workbook, row_with


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def write(tmp_path: Path, rows: list[list[Any]], name: str = "members.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(make_workbook(rows))
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_members", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> tuple[int, int, int]:
    return Enterprise.objects.count(), Membership.objects.count(), Person.objects.count()


def test_imports_into_the_federation_by_default_and_prints_a_summary(world: World, tmp_path: Path) -> None:
    out, err = run(write(tmp_path, good_rows()))
    assert err == ""
    assert out.splitlines() == [
        "2 rows for 北京市工商业联合会: 2 new enterprises, 0 existing, 2 new memberships, 0 unchanged, 2 new contacts.",
        "Regions read by: current code 2",
        "Imported.",
    ]
    assert set(Membership.objects.filter(organization=world.federation).values_list("enterprise__uscc", flat=True)) == {
        USCC_A, USCC_B,
    }  # fmt: skip
    entry = AuditLog.objects.get(action="orgs.roster.imported")
    assert (entry.actor, entry.organization_id, entry.data["source"], entry.data["file"]) == (
        None, world.federation.pk, "cli", "members.xlsx",
    )  # fmt: skip


def test_org_option_chooses_the_organisation_and_a_second_run_changes_nothing(world: World, tmp_path: Path) -> None:
    path = write(tmp_path, good_rows())
    run(path, "--org", "C2")
    before = counts()
    out, _err = run(path, "--org", "C2")
    assert out.splitlines()[0] == (
        "2 rows for 北京温州商会: 0 new enterprises, 2 existing, 0 new memberships, 2 unchanged, 0 new contacts."
    )
    assert counts() == before
    assert Membership.objects.filter(organization=world.chamber2, enterprise__uscc=USCC_A, level="council").exists()


def test_bad_rows_print_each_row_column_and_reason_exit_non_zero_and_write_nothing(
    world: World, tmp_path: Path
) -> None:
    rows = [
        row_with(行业代码="9999", 联系人手机="1"),
        good_rows()[1],
        row_with(企业名称="重复的企业", 联系人手机="13711112222"),
    ]
    before = counts()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("import_members", write(tmp_path, rows), stdout=out, stderr=err)
    assert caught.value.returncode == 1
    assert str(caught.value) == "3 errors in members.xlsx; nothing was imported."
    assert err.getvalue().splitlines() == [
        "Row 2 [行业代码] 9999 is not a GB/T 4754-2017 industry code.",
        "Row 2 [联系人手机] 1 is not a mainland mobile number.",
        f"Row 4 [统一社会信用代码] The unified social credit code {USCC_A} also appears in row 2.",
    ]
    assert out.getvalue() == ""
    assert counts() == before
    assert not AuditLog.objects.filter(action="orgs.roster.imported").exists()


def test_already_a_member_with_another_level_fails_the_whole_file(world: World, tmp_path: Path) -> None:
    rows = [good_rows()[1], row_with(统一社会信用代码=world.e1.uscc, 会员级别="理事单位", 联系人手机="")]
    err = io.StringIO()
    before = counts()
    with pytest.raises(CommandError):
        call_command("import_members", write(tmp_path, rows), "--org", "C1", stdout=io.StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [
        f"Row 3 [会员级别] {world.e1.uscc} is already a member of 朝阳区餐饮商会 "
        "(level President unit, joined 2020-01-01).",
    ]
    assert counts() == before


def test_dry_run_reports_what_would_be_created_and_writes_nothing(world: World, tmp_path: Path) -> None:
    before = counts()
    out, _err = run(write(tmp_path, good_rows()), "--dry-run", "--org", "C1")
    assert out.splitlines() == [
        "2 rows for 朝阳区餐饮商会: 2 new enterprises, 0 existing, 2 new memberships, 0 unchanged, 2 new contacts.",
        "Regions read by: current code 2",
        "Dry run: nothing was written.",
    ]
    assert counts() == before
    assert not AuditLog.objects.filter(action="orgs.roster.imported").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "members.csv",
            b"a,b\n",
            "Only Excel .xlsx files can be imported; save the roster as an Excel workbook (.xlsx).",
        ),
        ("members.xlsx", b"PK\x03\x04 broken", "The file is not an Excel .xlsx workbook or it is damaged."),
    ],
)
def test_a_file_that_is_not_a_good_workbook_is_a_clear_error(
    world: World, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError, match="^" + re.escape(message) + "$"):
        run(str(path))


def test_missing_file_and_unknown_organisation_are_clear_errors(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        run(str(tmp_path / "nope.xlsx"))
    with pytest.raises(CommandError, match=r"^There is no organisation with code NOPE\.$"):
        run(write(tmp_path, good_rows()), "--org", "NOPE")


def test_without_a_single_root_federation_the_org_option_is_required(db: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"^Name the organisation to import into with --org CODE\.$"):
        run(write(tmp_path, good_rows()))
