"""The policy loop in a real browser (Playwright, Debian's Chromium): staff publish a policy with one support item
and its rule; the enterprise that has the right figures is told, opens 政策体检 and sees why it qualifies, asks a
question; the department answers; the enterprise reads the answer. Desktop and phone widths, screenshots kept."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conftest import BROWSER_SHOTS, World, browser_log_in, needs_chromium
from qiaoliang.core.models import Notification
from qiaoliang.policies.models import Policy, PolicyQuestion
from qiaoliang.policies.services import facts as fact_service

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


def as_user(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    browser_log_in(page, base, username)


@pytest.mark.parametrize("browser_page", [1366, 375], indirect=True, ids=["desktop", "phone"])
def test_publish_push_checkup_and_ask(browser_page: Any, live_server: Any, world: World) -> None:
    page, base = browser_page, live_server.url
    width = page.viewport_size["width"]
    BROWSER_SHOTS.mkdir(parents=True, exist_ok=True)
    year = datetime.date.today().year - 1
    fact_service.set_fact(actor=world.staff, enterprise=world.e1, field="revenue", value="0.25亿元", year=year)
    fact_service.set_honour(actor=world.staff, enterprise=world.e1, text="国家高新技术企业")

    as_user(page, base, "staff")
    page.goto(f"{base}/policies/new/")
    page.select_option("#id_organization", str(world.federation.pk))
    page.fill("#id_title", "关于支持高新技术企业发展的若干措施")
    page.fill("#id_issuer", "北京市科学技术委员会")
    page.select_option("#id_department", str(world.department.pk))
    page.fill(
        "#id_full_text", "一、对上年度营业收入2000万元以上的国家高新技术企业，给予研发补助。\n二、申报程序另行通知。"
    )
    page.click("[data-testid=policy-form] button[type=submit]")
    page.wait_for_selector("[data-testid=policy-title]")
    policy = Policy.objects.get()
    page.click("[data-testid=add-item]")
    page.fill("#id_name", "研发补助")
    page.fill("#id_benefit", "按上年度研发投入的10%给予补助，最高100万元")
    page.fill("#id_max_amount", "100万元")
    page.click("[data-testid=item-form] button[type=submit]")
    # the rule is built from rows, as the policy writes its conditions
    page.wait_for_selector("[data-testid=builder-form]")
    page.fill("#b0-group", "1")
    page.select_option("#b0-field", "revenue")
    page.select_option("#b0-op", "gte")
    page.fill("#b0-value", "2000万元")
    page.fill("#b1-group", "2")
    page.select_option("#b1-field", "honour")
    page.select_option("#b1-op", "has")
    page.fill("#b1-value", "国家高新技术企业")
    page.click("[data-testid=builder-save]")
    page.wait_for_selector("[data-testid=rule-conditions]")
    assert "国家高新技术企业" in page.inner_text("[data-testid=rule-conditions]")
    page.goto(f"{base}/policies/{policy.pk}/")
    page.click("[data-testid=publish]")
    page.wait_for_selector("[data-testid=status-published]")
    page.screenshot(path=str(BROWSER_SHOTS / f"policy-published-{width}.png"), full_page=True)
    assert Notification.objects.filter(user=world.contact, kind="policies.push").exists()

    as_user(page, base, "contact")
    page.goto(f"{base}/notifications/")
    assert "研发补助" in page.inner_text("main")
    page.goto(f"{base}/policies/checkup/")
    card = page.locator("[data-testid=checkup-eligible]").first
    text = card.inner_text()
    assert "研发补助" in text and "营业收入大于等于2000万元" in text and "2500万元" in text
    page.screenshot(path=str(BROWSER_SHOTS / f"policy-checkup-{width}.png"), full_page=True)
    page.goto(f"{base}/policies/{policy.pk}/")
    page.fill("#id_question", "委托外部机构的研发费用能否计入研发投入？")
    page.click("[data-testid=ask-form] button")
    page.wait_for_selector("#questions")
    question = PolicyQuestion.objects.get()
    assert question.deadline > datetime.date.today()

    as_user(page, base, "liaison")
    page.goto(f"{base}/policies/questions/")
    page.fill("[data-testid=answer-form] textarea", "可以，按实际发生额的80%计入研发投入。")
    page.click("[data-testid=answer-form] button")
    page.wait_for_selector("[data-testid=no-questions]")

    as_user(page, base, "contact")
    page.goto(f"{base}/policies/{policy.pk}/#questions")
    assert "按实际发生额的80%计入" in page.inner_text("main")
    page.screenshot(path=str(BROWSER_SHOTS / f"policy-answered-{width}.png"), full_page=True)
    question.refresh_from_db()
    assert question.status == "answered" and question.answered_on_time is True
