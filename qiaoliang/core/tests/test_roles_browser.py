"""Every role logs in to a home page with its own work and walks its navigation: no entry leads to a 403 or an
error, and no page breaks the Content-Security-Policy (Playwright driving Debian's Chromium, 1366 and 375 px)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import BROWSER_SHOTS, World, browser_log_in, needs_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]

ROLES = ["staff", "secretary", "convenor", "contact", "liaison", "provider", "outsider"]


def _links(page: Any) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "[data-testid=main-nav] a, [data-testid=nav-notifications], .dropdown-menu a.dropdown-item",
        "elements => elements.map(e => e.getAttribute('href'))",
    )
    return [href for href in dict.fromkeys(hrefs) if href and href.startswith("/") and not href.startswith("/admin")]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_its_work_and_no_navigation_entry_is_refused(
    browser_page: Any, live_server: Any, world: World, role: str
) -> None:
    page, base = browser_page, live_server.url
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    browser_log_in(page, base, role)
    home = page.locator("[data-testid=home-panels]")
    home.wait_for()
    assert page.locator("[data-testid=home-panels] section").count() >= 1, f"{role} has an empty home page"
    BROWSER_SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(BROWSER_SHOTS / f"home-{role}-{width}.png"), full_page=True)
    links = _links(page)
    assert links, f"{role} has no navigation"
    for href in links:
        response = page.goto(f"{base}{href}")
        assert response is not None and response.status == 200, (
            f"{role}: {href} answered {response and response.status}"
        )
        assert page.locator("[data-testid=error-page]").count() == 0, f"{role}: {href} shows an error page"
    assert violations == [], violations
