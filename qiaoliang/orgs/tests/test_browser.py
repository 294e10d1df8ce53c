"""Key flows in a real browser (Playwright driving Debian's Chromium): log in, search, import a roster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from conftest import BROWSER_SHOTS, World, browser_log_in, make_uscc, needs_chromium

SHOTS = BROWSER_SHOTS
HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "行业代码",
    "行政区划代码",
    "企业规模",
    "所有制",
    "联系人",
    "联系人手机",
    "会员级别",
    "入会日期",
]

# ruff: noqa: E501  (roster rows are easier to read on one line)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


def roster_file(path: Path, rows: list[list[Any]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize("browser_page", [1366, 375], indirect=True, ids=["desktop", "phone"])
def test_secretary_logs_in_with_mobile_searches_and_imports_a_roster(
    browser_page: Any, live_server: Any, world: World, tmp_path: Path
) -> None:
    page, base = browser_page, live_server.url
    width = page.viewport_size["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)

    browser_log_in(page, base, "13700000002")  # the secretary of C1, by mobile number
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    page.goto(f"{base}/orgs/members/")
    if width < 992 and page.locator("#id_q").is_hidden():
        page.locator("[data-bs-toggle=collapse]").first.click()
    page.fill("#id_q", "bjtmh")
    page.wait_for_selector("#directory-results >> text=北京天马辉科技有限公司")
    assert page.locator("#directory-results").inner_text().count("温州鞋业") == 0  # another chamber's member
    page.screenshot(path=str(SHOTS / f"directory-{width}.png"), full_page=True)

    # A roster with a bad row is refused with the row, the column and the reason.
    bad = roster_file(tmp_path / "bad.xlsx", [
        ["北京新桥科技有限公司", make_uscc(501), "6513", "110105", "小", "民营", "李桥", "13600001111", "会员单位", "2024-03-01"],
        ["北京坏码有限公司", make_uscc(502)[:-1] + "0", "6513", "110105", "小", "民营", "王坏", "13600002222", "会员单位", "2024-03-01"],
    ])  # fmt: skip
    page.goto(f"{base}/orgs/roster/import/")
    page.set_input_files("input[type=file]", str(bad))
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_selector("#roster-errors")
    cells = page.locator("#roster-errors tbody tr").first.locator("td").all_inner_texts()
    assert cells[:2] == ["3", "统一社会信用代码"]  # Excel row 3 (the second data row), the column
    assert "校验码" in cells[2]
    assert page.locator("button[value=confirm]").count() == 0
    page.screenshot(path=str(SHOTS / f"import-errors-{width}.png"), full_page=True)

    good = roster_file(tmp_path / "good.xlsx", [
        ["北京新桥科技有限公司", make_uscc(501), "6513", "110105", "小", "民营", "李桥", "13600001111", "会员单位", "2024-03-01"],
        ["北京长城建材有限公司", make_uscc(503), "3021", "110105", "中", "国有", "赵城", "13600003333", "理事单位", "2023-05-20"],
    ])  # fmt: skip
    page.goto(f"{base}/orgs/roster/import/")
    page.set_input_files("input[type=file]", str(good))
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_selector("button[value=confirm]")
    page.screenshot(path=str(SHOTS / f"import-preview-{width}.png"), full_page=True)
    page.click("button[value=confirm]")
    page.wait_for_load_state("networkidle")

    page.goto(f"{base}/orgs/members/?q=" + "长城建材")
    page.wait_for_selector("#directory-results >> text=北京长城建材有限公司")

    from qiaoliang.orgs.models import Membership

    assert set(Membership.objects.filter(organization=world.chamber1).values_list("enterprise__name", flat=True)) == {
        "北京天马辉科技有限公司",
        "北京新桥科技有限公司",
        "北京长城建材有限公司",
    }
