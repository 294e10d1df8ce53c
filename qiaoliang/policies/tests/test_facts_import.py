"""Staff import enterprises' figures from a sheet: units read from the header or the cell, every cell checked,
all written or none, the enterprises told and their policy answers computed again."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.core.models import Notification
from qiaoliang.orgs.models import Membership
from qiaoliang.policies import importers
from qiaoliang.policies.models import Eligibility, EnterpriseFact
from qiaoliang.policies.services import facts as fact_service
from qiaoliang.policies.tests.test_workflow import make_policy

pytestmark = pytest.mark.django_db
YEAR = datetime.date.today().year - 1


def xlsx(rows: list[list[Any]]) -> SimpleUploadedFile:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("figures.xlsx", buffer.getvalue())


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_sheet_is_read_in_its_units_and_recomputes_the_answers(world: Any) -> None:
    fact_service.set_honour(actor=world.staff, enterprise=world.e1, text="国家级高新技术企业")
    _policy, item = make_policy(world)  # revenue ≥ 2000万元 and the honour, registered in Beijing
    assert not Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    upload = xlsx([
        ["统一社会信用代码", "企业名称", "年度", "营业收入（万元）", "纳税额", "从业人员", "净利润(万元)", "实收资本"],
        [world.e1.uscc, world.e1.name, YEAR, 2500, "120万元", 85, -30.5, "0.1亿元"],
        [world.e2.uscc, "", f"{YEAR}年", "1,999.99", "", "", "", ""],
    ])  # fmt: skip
    response = client_for(world.staff).post(reverse("policies:import_facts"), {"file": upload}, follow=True)
    assert response.status_code == 200, response
    result = response.context["result"]
    assert result is None, (result.file_error, [str(e) for e in result.errors])
    assert "6项数据" in response.content.decode() or "6 figures" in response.content.decode()
    facts = {(f.enterprise_id, f.field, f.year): f for f in EnterpriseFact.objects.all()}
    assert facts[(world.e1.pk, "revenue", YEAR)].value == Decimal("25000000")
    assert facts[(world.e1.pk, "tax", YEAR)].value == Decimal("1200000")
    assert facts[(world.e1.pk, "employees", YEAR)].value == Decimal("85")
    assert facts[(world.e1.pk, "net_profit", YEAR)].value == Decimal("-305000")  # a loss is kept
    assert facts[(world.e1.pk, "paid_in_capital", 0)].value == Decimal("10000000")  # standing: no year
    assert facts[(world.e2.pk, "revenue", YEAR)].value == Decimal("19999900")
    row = facts[(world.e1.pk, "revenue", YEAR)]
    assert (row.status, row.origin, row.entered_text) == ("reviewed", "import", "2500万元")
    # the answers were computed again and the enterprise's contact told
    assert Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    assert Notification.objects.filter(user=world.contact, kind="policies.facts_imported").count() == 1
    assert Notification.objects.filter(user=world.contact, kind="policies.push").count() == 1
    # importing again changes the figures in place
    upload = xlsx([["统一社会信用代码", "年度", "营业收入（亿元）"], [world.e1.uscc, YEAR, "0.15"]])
    client_for(world.staff).post(reverse("policies:import_facts"), {"file": upload})
    assert EnterpriseFact.objects.get(enterprise=world.e1, field="revenue", year=YEAR).value == Decimal("15000000")
    assert EnterpriseFact.objects.count() == 6
    assert not Eligibility.objects.filter(item=item, enterprise=world.e1).exists()
    # the same sheet again writes nothing and tells nobody
    told = Notification.objects.filter(kind="policies.facts_imported").count()
    upload = xlsx([["统一社会信用代码", "年度", "营业收入（亿元）"], [world.e1.uscc, YEAR, "0.15"]])
    response = client_for(world.staff).post(reverse("policies:import_facts"), {"file": upload}, follow=True)
    assert "新增0项，更新0项" in response.content.decode() or "0 new, 0 changed" in response.content.decode()
    assert Notification.objects.filter(kind="policies.facts_imported").count() == told


def test_every_bad_cell_is_named_and_nothing_is_written(world: Any) -> None:
    EnterpriseFact.objects.all().delete()
    upload = xlsx([
        ["统一社会信用代码", "年度", "营业收入", "员工数", "纳税额（万元）"],
        [world.e1.uscc, YEAR, "2000", 10, 5],  # a bare amount without a unit
        [world.e3.uscc, YEAR, "2000万元", "", ""],  # e3 is not the secretary's
        [world.e2.uscc, "", "", 12, ""],  # a yearly figure without its year
        [world.e2.uscc, YEAR + 5, "", 12, ""],  # a year in the future
        [world.e2.uscc, YEAR, "", "很多", "-3"],  # not a count; a negative tax
        [world.e2.uscc, YEAR, "1万美元", "", "1e30"],  # too large for the column
        ["91110000XXXXXXXXXX", YEAR, "", 1, ""],  # not a USCC
        [world.e1.uscc, YEAR, "", "", 7],  # the tax of e1 for the year given twice
    ])  # fmt: skip
    response = client_for(world.secretary).post(reverse("policies:import_facts"), {"file": upload})
    assert response.status_code == 200
    errors = {(e.row, e.column) for e in response.context["result"].errors}
    assert {(2, "营业收入"), (3, "统一社会信用代码"), (4, "年度"), (5, "年度"), (6, "员工数"),
            (6, "纳税额（万元）"), (7, "纳税额（万元）"), (8, "统一社会信用代码"), (9, "纳税额")} <= errors  # fmt: skip
    page = response.content.decode()
    assert "没有写单位" in page or "has no unit" in page
    assert not EnterpriseFact.objects.exists()


def test_file_errors_and_permissions(world: Any) -> None:
    url = reverse("policies:import_facts")
    response = client_for(world.staff).post(url, {"file": xlsx([["企业", "营收"], ["甲", 1]])})
    assert "统一社会信用代码" in response.context["result"].file_error
    response = client_for(world.staff).post(url, {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4")})
    assert response.context["result"].file_error
    csv = f"统一社会信用代码,年度,研发投入（万元）\r\n{world.e1.uscc},{YEAR},80\r\n".encode()
    client_for(world.staff).post(url, {"file": SimpleUploadedFile("figures.csv", csv)})
    assert EnterpriseFact.objects.get(enterprise=world.e1, field="rd_expense").value == Decimal("800000")
    for user in (world.contact, world.liaison, world.provider, world.convenor):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).get(reverse("policies:import_template")).status_code == 403
    template = client_for(world.secretary).get(reverse("policies:import_template"))
    assert template.status_code == 200
    headers = [c.value for c in next(load_workbook(io.BytesIO(template.content)).active.iter_rows())]  # type: ignore[union-attr]
    assert headers == importers.template_headers()
    assert headers[:4] == ["统一社会信用代码", "企业名称", "年度", "营业收入（万元）"]


def test_only_members_whose_figures_one_reviews_are_imported(world: Any) -> None:
    # the secretary of C1 is also the contact of e2 (a member of C2): its own figures are never imported reviewed
    RoleAssignment.objects.create(user=world.secretary, role=Role.ENTERPRISE_CONTACT, enterprise=world.e2)
    upload = xlsx([["统一社会信用代码", "年度", "营业收入（万元）"], [world.e2.uscc, YEAR, 100]])
    response = client_for(world.secretary).post(reverse("policies:import_facts"), {"file": upload})
    assert [(e.row, e.column) for e in response.context["result"].errors] == [(2, "统一社会信用代码")]
    # a suspended member is not the secretary's to review either
    Membership.objects.filter(enterprise=world.e1).update(status="suspended")
    upload = xlsx([["统一社会信用代码", "年度", "营业收入（万元）"], [world.e1.uscc, YEAR, 100]])
    response = client_for(world.secretary).post(reverse("policies:import_facts"), {"file": upload})
    assert response.context["result"].errors
    assert not EnterpriseFact.objects.exists()


def test_a_standing_figure_on_several_years_rows_keeps_the_newest(world: Any) -> None:
    upload = xlsx([
        ["统一社会信用代码", "年度", "营业收入（万元）", "实收资本（万元）"],
        [world.e1.uscc, YEAR - 1, 1800, 500],
        [world.e1.uscc, YEAR, 2100, 800],
    ])  # fmt: skip
    response = client_for(world.staff).post(reverse("policies:import_facts"), {"file": upload})
    assert response.status_code == 302
    assert EnterpriseFact.objects.get(enterprise=world.e1, field="paid_in_capital").value == Decimal("8000000")
    assert EnterpriseFact.objects.filter(enterprise=world.e1, field="revenue").count() == 2
