"""The directory export: scoped rows, current filters, masked mobiles, neutralised formulas, no N+1."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from conftest import World, make_uscc
from qiaoliang.core import sheets
from qiaoliang.core.models import AuditLog
from qiaoliang.orgs import exports, services
from qiaoliang.orgs import importers as roster
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import DirectoryFilters, enterprise_directory


def read_export(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    return [[("" if value is None else value) for value in row] for row in sheet.iter_rows(values_only=True)]


def export(client: Any, user: Any, query: str = "") -> Any:
    client.force_login(user)
    return client.get(reverse("orgs:directory_export") + query)


def test_staff_exports_every_enterprise_with_the_template_columns_and_organisations(client: Any, world: World) -> None:
    response = export(client, world.staff)
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    rows = read_export(response.content)
    assert rows[0] == [*roster.HEADERS, "组织"]
    by_uscc = {row[1]: row for row in rows[1:]}
    assert set(by_uscc) == {world.e1.uscc, world.e2.uscc, world.e3.uscc}
    assert by_uscc[world.e1.uscc] == [
        "北京天马辉科技有限公司", world.e1.uscc, "6511", "110105", "小", "", "张建利", "13812345678", "会长单位",
        "2020-01-01", "朝阳区餐饮商会",
    ]  # fmt: skip
    assert by_uscc[world.e3.uscc][8:] == ["会员单位", "", "北京市软件行业协会"]


def test_secretary_exports_only_the_enterprises_of_their_chamber(client: Any, world: World) -> None:
    rows = read_export(export(client, world.secretary).content)
    assert [row[1] for row in rows[1:]] == [world.e1.uscc]


def test_export_applies_the_directory_filters(client: Any, world: World) -> None:
    rows = read_export(export(client, world.staff, f"?organization={world.chamber2.pk}").content)
    assert [row[1] for row in rows[1:]] == [world.e2.uscc]
    rows = read_export(export(client, world.staff, "?size=micro").content)
    assert [row[1] for row in rows[1:]] == [world.e3.uscc]


def test_organisations_column_lists_only_memberships_the_viewer_may_see(client: Any, world: World) -> None:
    services.add_membership(actor=None, enterprise=world.e1, organization=world.chamber2, level="member")
    staff_rows = read_export(export(client, world.staff).content)
    assert {row[1]: row[10] for row in staff_rows[1:]}[world.e1.uscc] == "朝阳区餐饮商会、北京温州商会"
    secretary_rows = read_export(export(client, world.secretary).content)
    assert secretary_rows[1][10] == "朝阳区餐饮商会"


def test_cells_starting_with_formula_characters_are_neutralised(client: Any, world: World) -> None:
    services.create_enterprise(
        actor=None, uscc=make_uscc(50), name='=HYPERLINK("http://evil.example","点我")', organization=world.chamber1
    )
    services.create_enterprise(actor=None, uscc=make_uscc(51), name="+86 公司", organization=world.chamber1)
    services.create_enterprise(actor=None, uscc=make_uscc(52), name="-减号公司", organization=world.chamber1)
    services.create_enterprise(actor=None, uscc=make_uscc(53), name="@at公司", organization=world.chamber1)
    services.create_person(actor=None, name="=1+1", mobile="13600001111", enterprise=world.e1, is_primary_contact=False)
    content = export(client, world.staff).content
    names = {row[0] for row in read_export(content)[1:]}
    assert {
        '\'=HYPERLINK("http://evil.example","点我")', "'+86 公司", "'-减号公司", "'@at公司",
    } <= names  # fmt: skip
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_neutralize_leaves_ordinary_values_alone() -> None:
    assert sheets.neutralize("北京公司") == "北京公司"
    assert sheets.neutralize("") == ""
    assert sheets.neutralize("=1") == "'=1"
    assert sheets.neutralize(5) == 5


def test_mobiles_are_masked_for_a_viewer_without_view_personal(world: World) -> None:
    enterprises = exports.enterprise_chunks(enterprise_directory(world.staff, DirectoryFilters()), world.staff)
    chunk, personal_ids = next(enterprises)
    assert personal_ids == {world.e1.pk, world.e2.pk, world.e3.pk}
    rows = list(exports.directory_rows(chunk, personal_ids=set()))
    assert sorted(row[7] for row in rows) == ["", "138****5678", "139****4321"]
    shown = list(exports.directory_rows(chunk, personal_ids=personal_ids))
    assert sorted(row[7] for row in shown) == ["", "13812345678", "13987654321"]


def test_export_is_audited_with_filters_and_row_count(client: Any, world: World) -> None:
    export(client, world.staff, "?size=small&q=天马")
    entry = AuditLog.objects.get(action="orgs.directory.exported")
    assert entry.actor == world.staff
    assert entry.data == {"filters": {"q": "天马", "size": "small"}, "rows": 1, "capped": False}


@pytest.mark.parametrize("persona", ["outsider", "liaison", "provider"])
def test_users_who_cannot_see_the_roster_are_refused(client: Any, world: World, persona: str) -> None:
    assert export(client, getattr(world, persona)).status_code == 403
    assert not AuditLog.objects.filter(action="orgs.directory.exported").exists()


def test_enterprise_contact_exports_only_their_own_enterprise(client: Any, world: World) -> None:
    rows = read_export(export(client, world.contact).content)
    assert [row[1] for row in rows[1:]] == [world.e1.uscc]


def test_export_query_count_does_not_grow_with_the_number_of_enterprises(client: Any, world: World) -> None:
    client.force_login(world.secretary)
    url = reverse("orgs:directory_export")
    client.get(url)  # warm the session and scope caches
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for serial in range(60, 90):
        enterprise = services.create_enterprise(
            actor=None, uscc=make_uscc(serial), name=f"测试企业{serial}", organization=world.chamber1
        )
        services.create_person(
            actor=None,
            name=f"联系人{serial}",
            mobile=f"135000000{serial}",
            enterprise=enterprise,
            is_primary_contact=True,
        )
    client.get(url)  # the new memberships made the cached scope stale: warm it again
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(read_export(response.content)) == 1 + 31
    assert len(many.captured_queries) == len(few.captured_queries)
    assert Enterprise.objects.count() == 33
