"""Appeals imported from a sheet: checked row by row, all written or none, bounded like every upload."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from qiaoliang.appeals import importers
from qiaoliang.appeals.models import Appeal
from qiaoliang.core.models import Notification

pytestmark = pytest.mark.django_db


def sheet(rows: list[list[Any]], headers: list[str] | None = None) -> bytes:
    book = Workbook()
    page = book.active
    page.append(headers or importers.HEADERS)
    for row in rows:
        page.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_good_sheet_is_imported_and_a_bad_one_writes_nothing(client: Any, world: Any) -> None:
    client.cookies["django_language"] = "en"
    client.force_login(world.staff)
    good = sheet([[world.e1.uscc, "用工成本高", "社保缴费基数上调，成本增加。", "人才引进与用工社保", "紧急", "座谈会"],
                  [world.e2.uscc, "出口订单减少", "海外订单下降三成。", "market", "", ""]])  # fmt: skip
    response = client.post(reverse("appeals:import"), {"file": SimpleUploadedFile("a.xlsx", good)})
    assert response.status_code == 302, response.content.decode()[-3000:]
    rows = list(Appeal.objects.order_by("title").values_list("title", "urgency", "source", "category__code"))
    assert rows == [("出口订单减少", "normal", "import", "market"), ("用工成本高", "urgent", "symposium", "talent")]
    assert Notification.objects.filter(kind="appeals.imported").exists()
    assert not Notification.objects.filter(kind="appeals.submitted").exists()  # one note, not one per row
    bad = sheet([[world.e1.uscc, "好的一行", "内容", "", "", ""],
                 ["91110105000000999X", "坏代码", "内容", "", "", ""],
                 [world.e1.uscc, "", "没有标题", "火星类", "很急", ""]])  # fmt: skip
    page = client.post(reverse("appeals:import"), {"file": SimpleUploadedFile("b.xlsx", bad)})
    text = page.content.decode()
    assert page.status_code == 200 and "nothing was imported" in text
    assert "火星类 is no appeal category." in text and "很急 is not an accepted value" in text
    assert Appeal.objects.count() == 2
    refused = client.post(reverse("appeals:import"), {"file": SimpleUploadedFile("c.csv", b"a,b")})
    assert "Only .xlsx files can be imported." in refused.content.decode()


def test_only_staff_import(client: Any, world: Any) -> None:
    with translation.override("en"):
        client.force_login(world.contact)
        assert client.get(reverse("appeals:import")).status_code == 403
        client.force_login(world.liaison)
        assert client.get(reverse("appeals:import")).status_code == 403
