"""The appeal loop in a real browser (Playwright, Debian's Chromium): the enterprise submits, the secretary routes,
the department answers, the enterprise rates; at desktop and phone widths, screenshots kept."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import BROWSER_SHOTS, World, browser_log_in, needs_chromium
from qiaoliang.appeals.models import Appeal

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


def as_user(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    browser_log_in(page, base, username)


@pytest.mark.parametrize("browser_page", [1366, 375], indirect=True, ids=["desktop", "phone"])
def test_submit_route_answer_and_rate_an_appeal(browser_page: Any, live_server: Any, world: World) -> None:
    page, base = browser_page, live_server.url
    width = page.viewport_size["width"]
    BROWSER_SHOTS.mkdir(parents=True, exist_ok=True)

    as_user(page, base, "contact")
    page.goto(f"{base}/appeals/new/")
    page.fill("#id_title", "园区用电增容申请三个月没有回复")
    page.fill("#id_description", "我公司在朝阳区园区新上一条生产线，需增容800千伏安，申请提交三个月没有回复。")
    page.click("[data-testid=send-appeal]")
    page.wait_for_selector("[data-testid=appeal-status]")
    assert "已提交" in page.inner_text("[data-testid=appeal-status]")
    page.screenshot(path=str(BROWSER_SHOTS / f"appeal-submitted-{width}.png"), full_page=True)
    appeal = Appeal.objects.get()

    as_user(page, base, "secretary")
    page.goto(f"{base}/appeals/{appeal.pk}/")
    page.select_option("#department", str(world.department.pk))
    page.fill("#working_days", "5")
    page.click("[data-testid=assign]")
    page.wait_for_selector("[data-testid=deadline]")
    assert "已转办" in page.inner_text("[data-testid=appeal-status]")

    as_user(page, base, "liaison")
    page.goto(f"{base}/appeals/")
    page.click(f"text={appeal.title}")
    page.fill("#answer", "已协调供电公司，下周现场勘查，两周内完成增容。")
    page.click("[data-testid=send-answer]")
    page.wait_for_selector("[data-testid=answer]")
    page.screenshot(path=str(BROWSER_SHOTS / f"appeal-answered-{width}.png"), full_page=True)

    as_user(page, base, "contact")
    page.goto(f"{base}/appeals/{appeal.pk}/")
    page.select_option("#rating", "5")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=satisfaction]")
    assert "企业已确认" in page.inner_text("[data-testid=appeal-status]")
    timeline = page.inner_text("[data-testid=timeline]")
    for step in ("已提交", "已转办", "已答复", "企业已确认"):
        assert step in timeline, step
    page.screenshot(path=str(BROWSER_SHOTS / f"appeal-rated-{width}.png"), full_page=True)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.satisfaction, appeal.rating, appeal.answered_on_time) == (
        "confirmed", "satisfied", 5, True,
    )  # fmt: skip
