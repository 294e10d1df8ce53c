"""The exchange's key flow in a real browser (Playwright driving Debian's Chromium), on a phone.

An enterprise contacts a ranked match; the other side is told, answers in the conversation and agrees to talk
(the contacts are then shown to both); one side proposes a deal, the other confirms it; the statistics count it
once.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conftest import BROWSER_SHOTS, World, browser_log_in, make_user, needs_chromium
from qiaoliang.accounts.models import Role
from qiaoliang.exchange import services
from qiaoliang.exchange.models import Listing, Match

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


def shot(page: Any, name: str) -> None:
    BROWSER_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(BROWSER_SHOTS / f"exchange-{name}-{page.viewport_size['width']}.png"), full_page=True)


def log_out(page: Any, base: str) -> None:
    page.goto(f"{base}/")
    page.click("[data-testid=account-menu]")
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{base}/accounts/login/")


def open_notification(page: Any, base: str, kind: str) -> None:
    page.goto(f"{base}/notifications/")
    page.locator(f"[data-testid=notification][data-kind='{kind}'] [data-testid=open-notification]").first.click()
    page.wait_for_selector("[data-testid=match-status]")


@pytest.mark.parametrize("browser_page", [375], indirect=True, ids=["phone"])
def test_two_enterprises_talk_and_a_deal_counts_once_both_confirm(
    browser_page: Any, live_server: Any, world: World, settings: Any
) -> None:
    page, base = browser_page, live_server.url
    settings.MATCH_NOTIFY_SCORE = 1.01  # no suggestion is pushed: the only notifications are the conversation's
    valid_until = datetime.date.today() + datetime.timedelta(days=60)
    buyer = make_user("buyer", Role.ENTERPRISE_CONTACT, enterprise=world.e2)
    need = services.create_listing(
        actor=world.staff, enterprise=world.e2, direction="need", category="material", title="求购一次性医用口罩",
        description="每月采购十万只一次性医用口罩，要求符合YY/T 0969标准", valid_until=valid_until, publish=True,
    )  # fmt: skip
    offer = services.create_listing(
        actor=world.staff, enterprise=world.e1, direction="offer", category="material", title="供应一次性医用口罩",
        description="日产十万只一次性医用口罩，符合YY/T 0969标准，可开发票", valid_until=valid_until, publish=True,
    )  # fmt: skip

    # The seller finds the need among its offer's ranked matches and asks to talk.
    browser_log_in(page, base, "contact")
    page.goto(f"{base}/exchange/listings/{offer.pk}/matches/")
    card = page.locator(f"[data-testid=ranked-match][data-listing='{need.pk}']")
    card.wait_for()
    assert "求购一次性医用口罩" in card.inner_text()
    shot(page, "ranked")
    card.locator("[data-testid=contact-match]").click()
    page.wait_for_selector("[data-testid=status-contacted]")
    assert "13987654321" not in page.content()  # the buyer's contact stays hidden until they agree
    log_out(page, base)

    # The buyer is told and answers in the conversation, which agrees to talk: contacts are shown to both.
    browser_log_in(page, base, "buyer")
    assert page.inner_text("[data-testid=unread-count]") == "1"
    open_notification(page, base, "exchange.match.contacted")
    page.fill("#id_body", "您好，请报价，每月十万只。")
    page.click("[data-testid=send-message]")
    page.wait_for_selector("[data-testid=message][data-side=need]")
    page.wait_for_selector("[data-testid=status-in_talks]")  # answering is agreeing to talk
    assert "13812345678" in page.content()  # the seller's contact, now shown
    page.fill("#id_deal_amount", "12.5")
    page.select_option("#id_amount_unit", "wan")
    page.fill("#id_deal_date", datetime.date.today().isoformat())
    page.click("[data-testid=propose-deal]")
    page.wait_for_selector("[data-testid=my-proposal]")
    shot(page, "proposed")
    match = Match.objects.get(need=need, offer=offer)
    assert (match.status, match.proposed_side, str(match.proposed_amount)) == ("in_talks", "need", "125000.00")
    log_out(page, base)

    # The seller reads the message, confirms the deal; the statistics count it once.
    browser_log_in(page, base, "contact")
    open_notification(page, base, "exchange.match.deal_proposed")
    assert "您好，请报价，每月十万只。" in page.inner_text("[data-testid=messages]")
    page.click("[data-testid=confirm-deal]")
    page.wait_for_selector("[data-testid=deal-summary]")
    assert "12.5" in page.inner_text("[data-testid=deal-summary]")
    shot(page, "deal")
    page.goto(f"{base}/exchange/stats/")
    assert page.inner_text("[data-testid=deal-count]") == "1"
    shot(page, "stats")
    match.refresh_from_db()
    assert (match.status, str(match.deal_amount), match.confirmed_by) == ("deal", "125000.00", world.contact)
    assert Listing.objects.get(pk=need.pk).status == "published"
    assert buyer.notifications.filter(kind="exchange.match.deal").count() == 1
