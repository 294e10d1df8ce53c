"""The list search finds a word of a title through the index of the titles' character pairs, and finds exactly
what a substring search of the (normalised) titles finds."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qiaoliang.appeals import selectors, services
from qiaoliang.appeals.models import Appeal
from qiaoliang.core.text import compact_text

pytestmark = pytest.mark.django_db

TITLES = ["银行抽贷导致流动资金紧张", "區屬國企拖欠工程款兩百萬", "国企总包拖欠分包工程款", "ＡＢＣ公司厂房漏水",
          "abc 园区道路违停", "申请100%补贴", "下划线_测试", "工程款"]  # fmt: skip
QUERIES = ["工程款", "拖欠工程款", "款", "贷", "abc", "ABC", "厂房漏水", "100%", "_", "%", "园区 道路", "拖欠工程款项",
           "國企", "国企", "x"]  # fmt: skip


def test_the_title_search_finds_what_a_substring_search_finds(world: Any) -> None:
    for title in TITLES:
        services.submit_appeal(actor=world.contact, enterprise=world.e1, title=title, description="详见附件。")
    assert all(a.title_grams for a in Appeal.objects.all())
    for query in QUERIES:
        found = {a.title for a in selectors.appeal_list(world.staff, selectors.AppealFilters(q=query))}
        wanted = {t for t in TITLES if compact_text(query) in compact_text(t) and query.strip().lower() in t.lower()}
        assert wanted <= found, query  # whatever the plain substring search found
        assert all(compact_text(query) in compact_text(t) for t in found if t in TITLES), query
    # a Traditional or full-width query finds the Simplified, half-width title when the pairs are the whole query
    traditional = selectors.appeal_list(world.staff, selectors.AppealFilters(q="國企"))
    assert "国企总包拖欠分包工程款" in {a.title for a in traditional}


def test_the_search_goes_through_the_pairs_index(world: Any) -> None:
    services.submit_appeal(actor=world.contact, enterprise=world.e1, title="拖欠工程款", description="详见附件。")
    with CaptureQueriesContext(connection) as captured:
        list(selectors.appeal_list(world.staff, selectors.AppealFilters(q="拖欠工程款")))
    sql = " ".join(q["sql"] for q in captured.captured_queries)
    assert ("appeals_appeal_grams" in sql) if connection.vendor == "sqlite" else ("string_to_array" in sql)
