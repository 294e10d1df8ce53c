"""The duplicate hint while an appeal is typed: candidates come from the index of the titles' character pairs (no
scan of every title), ranked by the overlap of character pairs, and only among the appeals the user sees."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qiaoliang.appeals import selectors, services
from qiaoliang.appeals.models import Appeal

pytestmark = pytest.mark.django_db


def submit(world: Any, title: str, description: str = "详见附件。", enterprise: Any = None) -> Appeal:
    return services.submit_appeal(actor=None, enterprise=enterprise or world.e1, title=title, description=description,
                                  source=Appeal.Source.HOTLINE)  # fmt: skip


def test_the_similar_appeal_is_found_through_the_title_pairs_index(client: Any, world: Any) -> None:
    expected = submit(world, "园区道路积水严重影响通行", "每逢下雨园区主干道积水半米，货车无法进出。")
    submit(world, "招聘高级工程师落户难", "人才引进指标不足。")
    submit(world, "银行抽贷导致流动资金紧张", "一季度银行突然抽贷300万元。")
    with CaptureQueriesContext(connection) as captured:
        found = selectors.similar_appeals(world.staff, "园区道路積水，影响货车通行", "下雨后主干道积水")
    assert [appeal.pk for appeal, _score in found] == [expected.pk]  # Traditional 積 folded as the index has it
    [sql] = [query["sql"] for query in captured.captured_queries if 'FROM "appeals_appeal"' in query["sql"]]
    assert ("appeals_appeal_grams" in sql) if connection.vendor == "sqlite" else ("string_to_array" in sql)
    assert "LIKE" not in sql.upper()  # no substring scan of the titles
    client.force_login(world.secretary)
    page = client.get(reverse("appeals:similar"), {"title": "园区道路积水影响通行", "description": "主干道积水"})
    assert page.status_code == 200 and expected.number in page.content.decode()


def test_closed_and_merged_appeals_are_not_offered_as_duplicates(world: Any) -> None:
    open_one = submit(world, "园区道路积水严重影响通行")
    withdrawn = submit(world, "园区道路积水严重影响通行（重复）")
    services.withdraw(actor=None, appeal=withdrawn)
    found = selectors.similar_appeals(world.staff, "园区道路积水严重", exclude=None)
    assert [appeal.pk for appeal, _score in found] == [open_one.pk]
    assert selectors.similar_appeals(world.staff, "园区道路积水严重", exclude=open_one.pk) == []


def test_appeals_the_user_may_not_see_are_never_offered(client: Any, world: Any) -> None:
    own = submit(world, "园区道路积水严重影响通行", enterprise=world.e1)  # chamber C1
    other = submit(world, "园区道路积水严重影响通行", enterprise=world.e2)  # chamber C2, another enterprise
    title = "园区道路积水影响通行"
    assert {a.pk for a, _s in selectors.similar_appeals(world.staff, title)} == {own.pk, other.pk}
    assert {a.pk for a, _s in selectors.similar_appeals(world.secretary, title)} == {own.pk}  # C1's secretary
    assert {a.pk for a, _s in selectors.similar_appeals(world.contact, title)} == {own.pk}  # E1's contact
    assert selectors.similar_appeals(world.liaison, title) == []  # not routed to the department
    assert selectors.similar_appeals(world.outsider, title) == []
    client.force_login(world.contact)
    page = client.get(reverse("appeals:similar"), {"title": title}).content.decode()
    assert own.number in page and other.number not in page
