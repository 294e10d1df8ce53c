"""The exchange's key flow in a real browser (Playwright driving Debian's Chromium).

An enterprise contact posts an offer, the chamber approves it, the contact sees a ranked match with
reasons, contacts it, records a deal, and the statistics count it — on a desktop and on a phone.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from conftest import BROWSER_SHOTS, World, browser_log_in, needs_chromium
from qiaoliang.exchange import services
from qiaoliang.exchange.models import Listing, Match

SHOTS = BROWSER_SHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"exchange-{name}-{page.viewport_size['width']}.png"), full_page=True)


@pytest.mark.parametrize("browser_page", [1366, 375], indirect=True, ids=["desktop", "phone"])
def test_contact_posts_an_offer_sees_matches_contacts_and_records_a_deal(
    browser_page: Any, live_server: Any, world: World
) -> None:
    page, base = browser_page, live_server.url
    valid_until = (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    # Another chamber's member needs masks (collected by staff at a meeting and published at once).
    need = services.create_listing(
        actor=world.staff, enterprise=world.e2, direction="need", category="material", title="求购一次性医用口罩",
        description="每月采购十万只一次性医用口罩，要求符合YY/T 0969标准",
        valid_until=datetime.date.fromisoformat(valid_until), publish=True,
    )  # fmt: skip

    browser_log_in(page, base, "contact")
    page.goto(f"{base}/exchange/")
    page.wait_for_selector(f"[data-testid=listing-card][data-listing='{need.pk}']")
    shot(page, "board")

    page.click("[data-testid=post-listing]")
    page.check("input[name=direction][value=offer]")
    page.select_option("#id_category", "material")
    page.fill("#id_title", "供应一次性医用口罩")
    page.fill("#id_description", "日产十万只一次性医用口罩，符合YY/T 0969标准，可开发票")
    page.fill("#id_region_code", "110105")
    page.fill("#id_quantity", "100000")
    page.fill("#id_unit", "只")
    page.fill("#id_price_text", "面议")
    page.fill("#id_valid_until", valid_until)
    page.select_option("#id_contact_visibility", "matched")
    shot(page, "form")
    page.click("[data-testid=submit]")
    page.wait_for_selector("[data-testid=listing-title]")
    offer = Listing.objects.get(title="供应一次性医用口罩")
    assert offer.status == "pending"

    # The chamber's secretary approves it; publication indexes it and stores the suggestions.
    services.transition_listing(actor=world.secretary, listing=offer, to_status="published")

    page.goto(f"{base}/exchange/listings/{offer.pk}/")
    match_card = page.locator(f"[data-testid=ranked-match][data-listing='{need.pk}']")
    match_card.wait_for()
    assert "求购一次性医用口罩" in match_card.inner_text()
    reasons = match_card.locator("[data-testid=match-reasons] li")
    assert reasons.count() >= 1
    shared = match_card.locator("[data-reason=shared_terms]")
    assert "口罩" in shared.inner_text()
    assert int(match_card.locator("[data-testid=match-score]").inner_text().rstrip("%")) > 0
    shot(page, "matches")

    match_card.locator("[data-testid=contact-match]").click()
    page.wait_for_selector("[data-testid=status-contacted]")
    match = Match.objects.get(need=need, offer=offer)
    assert match.status == "contacted"

    page.click("[data-testid=to-in_talks]")
    page.wait_for_selector("[data-testid=status-in_talks]")
    page.fill("#id_deal_amount", "12.5")
    page.select_option("#id_amount_unit", "wan")
    page.fill("#id_deal_date", datetime.date.today().isoformat())
    page.click("[data-testid=to-deal]")
    page.wait_for_selector("[data-testid=deal-summary]")
    assert "12.5" in page.inner_text("[data-testid=deal-summary]")
    shot(page, "deal")
    match.refresh_from_db()
    assert (match.status, str(match.deal_amount)) == ("deal", "125000.00")

    page.goto(f"{base}/exchange/stats/")
    assert page.inner_text("[data-testid=deal-count]") == "1"
    assert "12.5" in page.inner_text("[data-testid=deal-summary]")
    shot(page, "stats")
