"""The roster import: parsing, every kind of bad row, all-or-nothing writes, and the web flow."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook

from conftest import World, make_uscc
from qiaoliang.core import sheets
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs import importers as roster
from qiaoliang.orgs.models import Enterprise, Membership, Person

USCC_A = make_uscc(101)
USCC_B = make_uscc(102)


def good_rows() -> list[list[Any]]:
    return [
        ["北京星河餐饮有限公司", USCC_A, "6210", "110105", "小", "民营", "李明", "13511112222", "理事单位",
         "2021-03-01"],
        ["北京月光酒店管理有限公司", USCC_B, "6110", "110105", "中", "国有", "赵雪", "13611112222", "会员单位",
         datetime.datetime(2022, 5, 6)],
    ]  # fmt: skip


def make_workbook(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    """Build an xlsx in memory the way a user's Excel would save it."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers if headers is not None else roster.HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def roster_file(rows: list[list[Any]], headers: list[str] | None = None, name: str = "members.xlsx") -> io.BytesIO:
    handle = io.BytesIO(make_workbook(rows, headers))
    handle.name = name
    return handle


def row_with(**changes: Any) -> list[Any]:
    """Return the first good row with some columns (by header) replaced."""
    row = list(good_rows()[0])
    for header, value in changes.items():
        row[roster.HEADERS.index(header)] = value
    return row


def errors_of(parsed: roster.RosterParse | roster.ImportResult) -> list[tuple[int, str, str]]:
    return [(error.row, error.column, error.message) for error in parsed.errors]


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- the template ----------------------------------------------------------------------------------


def test_template_has_the_eleven_headers_in_order_text_code_columns_and_a_guide_sheet(db: Any) -> None:
    workbook = load_workbook(io.BytesIO(roster.build_template()))
    sheet = workbook.worksheets[0]
    assert workbook.sheetnames == ["会员名册", "说明"]
    assert [cell.value for cell in sheet[1]] == [
        "企业名称", "统一社会信用代码", "行业代码", "行政区划代码", "企业规模", "所有制", "联系人", "联系人手机",
        "会员级别", "入会日期", "地址",
    ]  # fmt: skip
    assert sheet.max_row == 1
    for letter in "BCDH":
        assert sheet.column_dimensions[letter].number_format == "@"
    guide = " ".join(str(cell.value) for row in workbook["说明"].iter_rows() for cell in row if cell.value)
    for word in [
        "大、中、小、微",
        "国有、民营、外资、港澳台、集体、混合、其他",
        "会长单位、副会长单位、理事单位、会员单位",
        "YYYY-MM-DD",
    ]:
        assert word in guide


def test_the_empty_template_is_refused_as_holding_no_rows(db: Any) -> None:
    handle = io.BytesIO(roster.build_template())
    parsed = roster.parse_roster(handle, "template.xlsx")
    assert parsed.file_error == "The file holds no rows to import below its header row."
    assert parsed.errors == []
    assert parsed.rows == []


# --- parsing good rows -----------------------------------------------------------------------------


def test_good_rows_are_normalised(db: Any) -> None:
    parsed = roster.parse_roster(roster_file(good_rows()))
    assert parsed.is_valid
    first, second = parsed.rows
    assert (first.row, first.name, first.uscc, first.industry_code, first.region_code) == (
        2, "北京星河餐饮有限公司", USCC_A, "6210", "110105",
    )  # fmt: skip
    assert (first.size, first.ownership, first.level, first.joined_on) == (
        "small", "private", "council", datetime.date(2021, 3, 1),
    )  # fmt: skip
    assert (first.contact_name, first.contact_mobile) == ("李明", "13511112222")
    assert (second.row, second.size, second.ownership, second.level, second.joined_on) == (
        3, "medium", "state", "member", datetime.date(2022, 5, 6),
    )  # fmt: skip


def test_english_labels_and_values_are_accepted_for_size_ownership_and_level(db: Any) -> None:
    rows = [
        row_with(企业规模="Large", 所有制="hk_mo_tw", 会员级别="Vice-president unit"),
        row_with(**{"统一社会信用代码": USCC_B, "联系人手机": "", "企业规模": "micro", "所有制": "Foreign-invested",
                    "会员级别": "president"}),
    ]  # fmt: skip
    parsed = roster.parse_roster(roster_file(rows))
    assert parsed.is_valid
    assert [(r.size, r.ownership, r.level) for r in parsed.rows] == [
        ("large", "hk_mo_tw", "vice_president"),
        ("micro", "foreign", "president"),
    ]


def test_number_cells_and_optional_columns_are_read_as_codes(db: Any) -> None:
    rows = [
        row_with(
            行业代码=6210, 行政区划代码=110105, 联系人手机=13511112222, 会员级别=None, 入会日期=None, 企业规模=None
        )
    ]
    parsed = roster.parse_roster(roster_file(rows))
    assert parsed.is_valid
    row = parsed.rows[0]
    assert (row.industry_code, row.region_code, row.contact_mobile) == ("6210", "110105", "13511112222")
    assert (row.level, row.joined_on, row.size) == ("member", None, "")


def test_empty_rows_are_skipped_and_row_numbers_are_those_excel_shows(db: Any) -> None:
    rows = [good_rows()[0], [None] * 10, ["", "  ", None, None, None, None, None, None, None, None], good_rows()[1]]
    rows[3][roster.HEADERS.index("行业代码")] = "9999"
    parsed = roster.parse_roster(roster_file(rows))
    assert len(parsed.rows) == 1
    assert parsed.row_count == 2
    assert errors_of(parsed) == [(5, "行业代码", "9999 is not a GB/T 4754-2017 industry code.")]


def test_columns_may_come_in_another_order(db: Any) -> None:
    headers = list(reversed(roster.HEADERS[:10]))
    parsed = roster.parse_roster(roster_file([list(reversed(good_rows()[0]))], headers=headers))
    assert parsed.is_valid
    assert parsed.rows[0].uscc == USCC_A


# --- every kind of bad row -------------------------------------------------------------------------

NOT_XLSX = "Only Excel .xlsx files can be imported; save the roster as an Excel workbook (.xlsx)."
BAD_CHECK = USCC_A[:17] + ("0" if USCC_A[17] != "0" else "1")
FUTURE = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"统一社会信用代码": BAD_CHECK}, "统一社会信用代码",
         f"The check character of unified social credit code {BAD_CHECK} is wrong (expected {USCC_A[17]})."),
        ({"统一社会信用代码": 9.11101050000001e17}, "统一社会信用代码",
         "The unified social credit code was mangled by Excel (9.11101050000001e+17); format the column as text."),
        ({"统一社会信用代码": "9.11101E+17"}, "统一社会信用代码",
         "The unified social credit code was mangled by Excel (9.11101E+17); format the column as text."),
        ({"统一社会信用代码": "91110105MA01"}, "统一社会信用代码",
         "The unified social credit code must have 18 characters, not 12."),
        ({"统一社会信用代码": USCC_A[:2] + "I" + USCC_A[3:]}, "统一社会信用代码",
         f"{USCC_A[:2]}I{USCC_A[3:]} is not a valid unified social credit code "
         "(characters I, O, S, V, Z are never used)."),
        ({"统一社会信用代码": ""}, "统一社会信用代码", "The unified social credit code is empty."),
        ({"行业代码": "9999"}, "行业代码", "9999 is not a GB/T 4754-2017 industry code."),
        ({"行政区划代码": "999999"}, "行政区划代码",
         "999999 is not a GB/T 2260 region code (neither in the current table nor in an earlier revision)."),
        ({"行政区划代码": "11010"}, "行政区划代码", "11010 is not a six-digit GB/T 2260 region code."),
        ({"行政区划代码": "西湖区"}, "行政区划代码",
         "西湖区 is ambiguous: 330106 浙江省杭州市西湖区、360103 江西省南昌市西湖区. Write the city too "
         "(such as 杭州市西湖区) or the code."),
        ({"行业代码": "火箭餐饮"}, "行业代码",
         "火箭餐饮 is no GB/T 4754-2017 industry name we know; write the code (such as 7291) or the class name."),
        ({"企业规模": "巨型"}, "企业规模", "巨型 is not an accepted value; see the 说明 sheet of the template."),
        ({"所有制": "股份"}, "所有制", "股份 is not an accepted value; see the 说明 sheet of the template."),
        ({"会员级别": "名誉会长"}, "会员级别",
         "名誉会长 is not an accepted value; see the 说明 sheet of the template."),
        ({"联系人手机": "1234"}, "联系人手机", "1234 is not a mainland mobile number."),
        ({"联系人": ""}, "联系人", "The contact's name is needed with a mobile number."),
        ({"联系人": "张" * 41}, "联系人", "The name is longer than 40 characters."),
        ({"入会日期": "2020-13-45"}, "入会日期", "2020-13-45 is not a date; write it as YYYY-MM-DD."),
        ({"入会日期": 45000}, "入会日期", "45000 is not a date; write it as YYYY-MM-DD."),
        ({"入会日期": FUTURE}, "入会日期", f"The date {FUTURE} is in the future."),
        ({"企业名称": ""}, "企业名称", "The enterprise name is empty."),
        ({"企业名称": "企" * 121}, "企业名称", "The name is longer than 120 characters."),
    ],
)  # fmt: skip
def test_bad_cell_is_reported_with_row_column_and_reason_and_nothing_is_written(
    world: World, changes: dict[str, Any], column: str, message: str
) -> None:
    parsed = roster.parse_roster(roster_file([good_rows()[1], row_with(**changes)]))
    assert errors_of(parsed) == [(3, column, message)]
    before = (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count(), AuditLog.objects.count())

    result = roster.import_roster(actor=world.staff, organization=world.chamber1, parsed=parsed)

    assert errors_of(result) == [(3, column, message)]
    assert result.written is False
    after = (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count(), AuditLog.objects.count())
    assert after == before
    assert not Enterprise.objects.filter(uscc=USCC_B).exists()


def test_several_errors_in_one_row_are_all_reported_in_column_order(db: Any) -> None:
    parsed = roster.parse_roster(roster_file([row_with(企业名称="", 行业代码="X1", 联系人手机="12")]))
    assert errors_of(parsed) == [
        (2, "企业名称", "The enterprise name is empty."),
        (2, "行业代码", "X1 is not a GB/T 4754-2017 industry code."),
        (2, "联系人手机", "12 is not a mainland mobile number."),
    ]


def test_duplicate_uscc_within_the_file_names_both_rows(db: Any) -> None:
    rows = [good_rows()[0], good_rows()[1], row_with(企业名称="另一家公司", 联系人手机="13711112222")]
    parsed = roster.parse_roster(roster_file(rows))
    assert errors_of(parsed) == [
        (4, "统一社会信用代码", f"The unified social credit code {USCC_A} also appears in row 2."),
    ]


def test_duplicate_mobile_within_the_file_is_an_error(db: Any) -> None:
    rows = [good_rows()[0], row_with(统一社会信用代码=USCC_B)]
    parsed = roster.parse_roster(roster_file(rows))
    assert errors_of(parsed) == [(3, "联系人手机", "Mobile number 13511112222 also appears in row 2.")]


# --- file-level errors ---------------------------------------------------------------------------------


def test_a_file_without_the_xlsx_extension_is_refused(db: Any) -> None:
    parsed = roster.parse_roster(roster_file(good_rows(), name="members.csv"))
    assert parsed.file_error == NOT_XLSX
    assert parsed.rows == []


def test_a_text_file_named_xlsx_is_refused(db: Any) -> None:
    handle = io.BytesIO("企业名称,统一社会信用代码\n".encode())
    parsed = roster.parse_roster(handle, "members.xlsx")
    assert parsed.file_error == "The file is not an Excel .xlsx workbook or it is damaged."


def test_a_damaged_workbook_is_refused(db: Any) -> None:
    content = make_workbook(good_rows())
    damaged = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            if item.filename != "xl/workbook.xml":
                target.writestr(item, source.read(item.filename))
    parsed = roster.parse_roster(io.BytesIO(damaged.getvalue()), "members.xlsx")
    assert parsed.file_error == "The file could not be read as an Excel workbook; it may be damaged."
    assert roster.inspect_roster(io.BytesIO(damaged.getvalue()), "members.xlsx") == parsed.file_error


def test_a_truncated_workbook_is_refused(db: Any) -> None:
    content = make_workbook(good_rows())
    parsed = roster.parse_roster(io.BytesIO(content[: len(content) // 2]), "members.xlsx")
    assert parsed.file_error == "The file is not an Excel .xlsx workbook or it is damaged."


def test_a_file_over_the_size_limit_is_refused(db: Any, settings: Any) -> None:
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    handle = io.BytesIO(make_workbook(good_rows()) + b"\0" * (1024 * 1024))
    parsed = roster.parse_roster(handle, "members.xlsx")
    assert parsed.file_error == "The file is larger than the limit of 1 MB."


def test_missing_and_unknown_headers_are_file_errors(db: Any) -> None:
    missing = roster.parse_roster(roster_file([row[:1] for row in good_rows()], headers=roster.HEADERS[:1]))
    assert missing.file_error == "These columns are missing: 统一社会信用代码. Use the roster template."
    unknown = roster.parse_roster(roster_file([[*good_rows()[0], "", "x"]], headers=[*roster.HEADERS, "备注"]))
    assert unknown.file_error == (
        "These columns are not part of the roster: 备注. The columns are: "
        + "、".join(roster.COLUMN_ORDER)
        + ". Use the roster template."
    )
    empty = roster.parse_roster(roster_file([], headers=[]))
    assert empty.file_error == (
        "The workbook has no header row; the first row must hold the column names. Use the roster template."
    )
    blank = roster.parse_roster(roster_file([], headers=["", None, " "]))
    assert blank.file_error == "These columns are missing: 企业名称、统一社会信用代码. Use the roster template."


# --- importing ------------------------------------------------------------------------------------------


def test_good_roster_creates_enterprises_memberships_contacts_and_one_audit_entry(world: World) -> None:
    parsed = roster.parse_roster(roster_file(good_rows()))
    audit_before = AuditLog.objects.count()

    result = roster.import_roster(actor=world.secretary, organization=world.chamber1, parsed=parsed)

    assert result.written is True
    assert result.counts() == {
        "rows": 2, "enterprises_created": 2, "enterprises_existing": 0, "memberships_created": 2,
        "memberships_unchanged": 0, "people_created": 2, "people_existing": 0,
    }  # fmt: skip
    enterprise = Enterprise.objects.get(uscc=USCC_A)
    assert (enterprise.name, enterprise.industry_id, enterprise.region_id, enterprise.size, enterprise.ownership) == (
        "北京星河餐饮有限公司", "6210", "110105", "small", "private",
    )  # fmt: skip
    assert (enterprise.name_pinyin, enterprise.name_initials) == ("beijingxinghecanyinyouxiangongsi", "bjxhcyyxgs")
    membership = Membership.objects.get(enterprise=enterprise)
    assert (membership.organization, membership.level, membership.joined_on, membership.status) == (
        world.chamber1, "council", datetime.date(2021, 3, 1), "active",
    )  # fmt: skip
    person = Person.objects.get(mobile="13511112222")
    assert (person.name, person.enterprise, person.is_primary_contact, person.name_pinyin) == (
        "李明", enterprise, True, "liming",
    )  # fmt: skip
    assert AuditLog.objects.count() == audit_before + 1
    entry = AuditLog.objects.get(action="orgs.roster.imported")
    assert (entry.actor, entry.organization_id) == (world.secretary, world.chamber1.pk)
    assert entry.data == {"file": "members.xlsx", "source": "web", **result.counts()}


def test_reimporting_the_same_file_changes_nothing_and_succeeds(world: World) -> None:
    content = make_workbook(good_rows())
    roster.import_roster(
        actor=world.staff, organization=world.chamber1, parsed=roster.parse_roster(io.BytesIO(content), "a.xlsx")
    )
    counts = (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count())

    again = roster.import_roster(
        actor=world.staff, organization=world.chamber1, parsed=roster.parse_roster(io.BytesIO(content), "a.xlsx")
    )

    assert again.errors == []
    assert (again.enterprises_created, again.memberships_created, again.people_created) == (0, 0, 0)
    assert (again.enterprises_existing, again.memberships_unchanged, again.people_existing) == (2, 2, 2)
    assert (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count()) == counts


def test_existing_enterprise_is_reused_unchanged_and_joins_the_organisation(world: World) -> None:
    row = row_with(企业名称="改过的名字", 统一社会信用代码=world.e2.uscc, 企业规模="大", 联系人="", 联系人手机="")
    result = roster.import_roster(
        actor=world.staff, organization=world.chamber1, parsed=roster.parse_roster(roster_file([row]))
    )
    assert (result.enterprises_created, result.enterprises_existing, result.memberships_created) == (0, 1, 1)
    world.e2.refresh_from_db()
    assert (world.e2.name, world.e2.size) == ("温州鞋业（北京）有限公司", "medium")
    assert Membership.objects.filter(enterprise=world.e2, organization=world.chamber1, level="council").exists()


def test_already_a_member_with_another_level_is_an_error_and_nothing_is_written(world: World) -> None:
    rows = [
        good_rows()[1],
        row_with(统一社会信用代码=world.e1.uscc, 会员级别="会员单位", 入会日期="2020-01-01", 联系人手机=""),
    ]
    before = (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count())
    result = roster.import_roster(
        actor=world.staff, organization=world.chamber1, parsed=roster.parse_roster(roster_file(rows))
    )
    assert errors_of(result) == [
        (3, "会员级别",
         f"{world.e1.uscc} is already a member of 朝阳区餐饮商会 (level President unit, joined 2020-01-01)."),
    ]  # fmt: skip
    assert (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count()) == before
    assert world.e1.memberships.get().level == "president"


def test_already_a_member_with_the_same_level_and_date_is_unchanged(world: World) -> None:
    row = row_with(
        统一社会信用代码=world.e1.uscc,
        会员级别="会长单位",
        入会日期="2020-01-01",
        联系人="张建利",
        联系人手机="13812345678",
    )
    result = roster.import_roster(
        actor=world.staff, organization=world.chamber1, parsed=roster.parse_roster(roster_file([row]))
    )
    assert result.errors == []
    assert (result.memberships_unchanged, result.memberships_created, result.people_existing) == (1, 0, 1)


def test_mobile_of_another_enterprises_contact_is_an_error(world: World) -> None:
    row = row_with(联系人手机="13987654321")
    result = roster.import_roster(
        actor=world.staff, organization=world.chamber1, parsed=roster.parse_roster(roster_file([row]))
    )
    assert errors_of(result) == [
        (2, "联系人手机", "Mobile number 139****4321 already belongs to a person of another enterprise.")
    ]
    assert not Enterprise.objects.filter(uscc=USCC_A).exists()


def test_dry_run_counts_and_writes_nothing(world: World) -> None:
    before = (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count(), AuditLog.objects.count())
    result = roster.import_roster(
        actor=world.staff,
        organization=world.chamber1,
        parsed=roster.parse_roster(roster_file(good_rows())),
        dry_run=True,
    )
    assert (result.dry_run, result.written, result.enterprises_created, result.memberships_created) == (
        True,
        False,
        2,
        2,
    )
    after = (Enterprise.objects.count(), Membership.objects.count(), Person.objects.count(), AuditLog.objects.count())
    assert after == before


# --- the web flow ---------------------------------------------------------------------------------------


def upload(client: Any, organization_id: int, content: bytes, name: str = "members.xlsx") -> Any:
    handle = io.BytesIO(content)
    handle.name = name
    return client.post(reverse("orgs:roster_import"), {"organization": organization_id, "file": handle})


def test_secretary_uploads_previews_and_confirms_into_their_chamber(client: Any, world: World, media: Path) -> None:
    client.force_login(world.secretary)
    page = client.get(reverse("orgs:roster_import"))
    assert page.status_code == 200
    assert [o.pk for o in page.context["form"].fields["organization"].queryset] == [world.chamber1.pk]

    response = upload(client, world.chamber1.pk, make_workbook(good_rows()))
    assert response.status_code == 302
    token = response.url.rstrip("/").rsplit("/", 1)[-1]
    assert response.url == reverse("orgs:roster_import_preview", args=[token])
    assert len(token) >= 40
    assert sorted(p.name for p in (media / "imports").iterdir()) == [f"{token}.json", f"{token}.xlsx"]
    assert not Enterprise.objects.filter(uscc=USCC_A).exists()

    preview = client.get(response.url)
    assert preview.status_code == 200
    assert (preview.context["result"].enterprises_created, preview.context["result"].memberships_created) == (2, 2)
    assert [row["uscc"] for row in preview.context["rows"]] == [USCC_A, USCC_B]
    assert 'value="confirm"' in preview.content.decode()

    confirmed = client.post(response.url, {"action": "confirm"})
    assert confirmed.status_code == 302
    assert confirmed.url == reverse("orgs:organization", args=[world.chamber1.pk])
    assert set(Membership.objects.filter(organization=world.chamber1).values_list("enterprise__uscc", flat=True)) == {
        world.e1.uscc, USCC_A, USCC_B,
    }  # fmt: skip
    assert list((media / "imports").iterdir()) == []
    assert client.get(response.url).status_code == 404


def test_preview_of_a_bad_roster_lists_every_error_and_offers_no_confirm(
    client: Any, world: World, media: Path
) -> None:
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    client.force_login(world.staff)
    rows = [row_with(行业代码="9999"), row_with(统一社会信用代码=USCC_B, 联系人手机="1")]
    response = upload(client, world.chamber1.pk, make_workbook(rows))
    preview = client.get(response.url)
    assert preview.status_code == 200
    assert errors_of(preview.context["result"]) == [
        (2, "行业代码", "9999 is not a GB/T 4754-2017 industry code."),
        (3, "联系人手机", "1 is not a mainland mobile number."),
    ]
    html = preview.content.decode()
    assert 'value="confirm"' not in html
    assert "9999 is not a GB/T 4754-2017 industry code." in html

    refused = client.post(response.url, {"action": "confirm"})
    assert refused.status_code == 200
    assert not Enterprise.objects.filter(uscc__in=[USCC_A, USCC_B]).exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"not a workbook", "members.xlsx", "The file is not an Excel .xlsx workbook or it is damaged."),
        (
            b"a,b\n",
            "members.csv",
            "Only Excel .xlsx files can be imported; save the roster as an Excel workbook (.xlsx).",
        ),
    ],
)
def test_a_bad_file_is_a_form_error_not_a_crash(
    client: Any, world: World, media: Path, content: bytes, name: str, message: str
) -> None:
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    client.force_login(world.staff)
    response = upload(client, world.chamber1.pk, content, name)
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [message]
    assert not (media / "imports").exists() or list((media / "imports").iterdir()) == []


def test_an_oversize_upload_is_a_form_error(client: Any, world: World, media: Path, settings: Any) -> None:
    client.cookies["django_language"] = "en"  # the assertions quote the English messages
    settings.IMPORT_MAX_BYTES = 1024
    client.force_login(world.staff)
    response = upload(client, world.chamber1.pk, make_workbook(good_rows()))
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == ["The file is larger than the limit of 0 MB."]


def test_secretary_cannot_import_into_another_chamber_or_the_district(client: Any, world: World, media: Path) -> None:
    client.force_login(world.secretary)
    assert upload(client, world.chamber2.pk, make_workbook(good_rows())).status_code == 404
    assert upload(client, world.district.pk, make_workbook(good_rows())).status_code == 403
    assert not (media / "imports").exists() or list((media / "imports").iterdir()) == []


@pytest.mark.parametrize("persona", ["outsider", "contact", "convenor", "provider"])
def test_users_who_may_not_import_are_refused(client: Any, world: World, persona: str) -> None:
    client.force_login(getattr(world, persona))
    assert client.get(reverse("orgs:roster_import")).status_code == 403
    assert client.get(reverse("orgs:roster_template")).status_code == 403
    assert upload(client, world.chamber1.pk, make_workbook(good_rows())).status_code == 403


def test_anonymous_visitor_is_sent_to_log_in(client: Any, db: Any) -> None:
    response = client.get(reverse("orgs:roster_import"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_only_the_uploading_user_may_see_or_confirm_the_preview(client: Any, world: World, media: Path) -> None:
    client.force_login(world.secretary)
    url = upload(client, world.chamber1.pk, make_workbook(good_rows())).url
    client.force_login(world.staff)
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "confirm"}).status_code == 404
    assert not Enterprise.objects.filter(uscc=USCC_A).exists()
    assert client.get(reverse("orgs:roster_import_preview", args=["..%2F..%2Fsettings"])).status_code == 404
    assert client.get(reverse("orgs:roster_import_preview", args=["x" * 43])).status_code == 404


def test_cancel_discards_the_upload(client: Any, world: World, media: Path) -> None:
    client.force_login(world.staff)
    url = upload(client, world.chamber1.pk, make_workbook(good_rows())).url
    response = client.post(url, {"action": "cancel"})
    assert response.status_code == 302
    assert list((media / "imports").iterdir()) == []
    assert not Enterprise.objects.filter(uscc=USCC_A).exists()


def test_staff_downloads_the_template(client: Any, world: World) -> None:
    client.force_login(world.staff)
    response = client.get(reverse("orgs:roster_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == roster.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert [cell.value for cell in workbook.worksheets[0][1]] == roster.HEADERS


# --- the fast paths agree with the reference implementations ---------------------------------------------


def non_empty_rows(rows: Any) -> dict[int, tuple[Any, ...]]:
    result = {}
    for number, values in rows:
        trimmed = list(values)
        while trimmed and trimmed[-1] is None:
            trimmed.pop()
        if trimmed:
            result[number] = tuple(trimmed)
    return result


@pytest.mark.parametrize("write_only", [True, False])
def test_the_sheet_reader_reads_what_openpyxl_reads(write_only: bool, db: Any) -> None:
    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet("名册") if write_only else workbook.active
    sheet.append(roster.HEADERS)
    sheet.append(
        ["天马", "ABC", 6511, 110105.0, True, None, "  空格 ", 13511112222, "会员单位", datetime.date(2021, 3, 1)]
    )
    sheet.append([])
    sheet.append([None, None, 1.5, None, None, None, None, None, None, datetime.datetime(2020, 1, 2, 3, 4)])
    buffer = io.BytesIO()
    workbook.save(buffer)

    def texts(rows: Any) -> dict[int, tuple[str, ...]]:
        found = {}
        for number, values in enumerate(rows, start=1):
            cells = [sheets.cell_text(value) for value in values]
            while cells and cells[-1] == "":
                cells.pop()
            if cells:
                found[number] = tuple(cells)
        return found

    calamine = texts(sheets.open_rows(io.BytesIO(buffer.getvalue()), "m.xlsx", roster.roster_spec()))
    reference = texts(
        load_workbook(io.BytesIO(buffer.getvalue()), read_only=True).worksheets[0].iter_rows(values_only=True)
    )

    assert sorted(calamine) == [1, 2, 4]
    assert calamine[1] == reference[1]
    assert calamine[2][:9] == reference[2][:9]
    assert calamine[2][9][:10] == reference[2][9][:10] == "2021-03-01"
    assert calamine[4][2] == reference[4][2] == "1.5"


@pytest.mark.parametrize(
    "name",
    [
        "北京天马辉科技有限公司",
        "張家口軟件有限公司",
        "Apple 中国（上海）",
        "重庆银行长沙分行",
        "ＡＢＣ＆amp;<b>公司</b>",
        "〇一二三",
        "",
    ],
)
def test_import_search_keys_match_the_model_helper(name: str) -> None:
    from qiaoliang.orgs.models import enterprise_search_fields

    assert roster.search_fields(name) == enterprise_search_fields(name)


def test_mobile_prefix_cache_gives_the_same_answers_as_normalize_mobile() -> None:
    assert roster._normalize_mobile("13511112222") == "13511112222"
    assert roster._normalize_mobile("13511113333") == "13511113333"
    with pytest.raises(ValidationError):
        roster._normalize_mobile("12011112222")
    with pytest.raises(ValidationError):
        roster._normalize_mobile("10011112222")
    assert roster._normalize_mobile("+86 135-1111-4444") == "13511114444"
