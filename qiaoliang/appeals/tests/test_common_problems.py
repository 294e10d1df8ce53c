"""Common problems: appeals grouped by topic, a report curated from the groups, exported to Word, outcomes kept."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from docx import Document

from qiaoliang.appeals import clustering, reports, services
from qiaoliang.appeals.models import ProblemReport, Suggestion
from qiaoliang.core.exceptions import DomainError, NotAllowedError

pytestmark = pytest.mark.django_db

LOANS = ["银行抽贷导致流动资金紧张", "续贷审批太慢，流动资金断档", "担保公司要求反担保，贷款难",
         "银行压降授信额度，贷款到期难续", "小微企业贷款利率高，融资成本重", "贷款抵押物不足，银行不放款"]  # fmt: skip
ARREARS = ["街道拖欠保洁服务费八个月", "区属国企拖欠工程款两百万", "政府部门拖欠软件开发尾款", "医院拖欠设备货款一年多",
           "国企总包拖欠分包工程款", "事业单位拖欠咨询服务费"]  # fmt: skip
PARKING = ["园区门口道路违停严重，货车进不来", "厂区周边乱停车堵塞消防通道", "门口道路违停，客户无法停车",
           "园区道路被违停车辆占用", "违停车辆堵住厂区大门", "周边道路违停无人管理"]  # fmt: skip


def test_clustering_puts_each_topic_together_with_a_telling_label() -> None:
    texts = [f"{title}。我公司反映：{title}，请协调解决。" for title in LOANS + ARREARS + PARKING]
    found = clustering.cluster(texts, k=3, min_df=2, min_size=3)
    assert len(found) == 3
    groups = sorted(sorted(group.members) for group in found)
    assert groups == [list(range(0, 6)), list(range(6, 12)), list(range(12, 18))]
    labels = {" ".join(group.label) for group in found}
    assert any("贷款" in label or "流动资金" in label for label in labels)
    assert any("拖欠" in label for label in labels)
    assert any("违停" in label for label in labels)
    assert clustering.cluster(["太少"], min_size=5) == []


def test_a_report_from_topics_exported_to_word_with_outcomes(client: Any, world: Any) -> None:
    for title in LOANS + ARREARS:
        services.submit_appeal(actor=world.contact, enterprise=world.e1, title=title, description=f"我公司{title}。")
    today = timezone.localdate()
    start = today - datetime.timedelta(days=30)
    topics, clustered = reports.topics(world.secretary, start, today)
    assert clustered == 12 and topics
    report = reports.create_report(actor=world.secretary, title="关于会员企业融资和账款拖欠问题的报告", start=start,
                                   end=today, chosen=topics[:2])  # fmt: skip
    problem = report.problems.first()
    assert problem is not None and problem.appeal_count >= 3 and problem.appeals.count() >= 3
    reports.update_problem(actor=world.secretary, problem=problem, title="中小企业续贷难", description="多家企业反映……")
    suggestion = reports.add_suggestion(actor=world.secretary, problem=problem, text="建议设立续贷过桥资金池。")
    reports.record_outcome(actor=world.secretary, suggestion=suggestion, status="instructed", note="市领导已批示")
    assert Suggestion.objects.get(pk=suggestion.pk).status == "instructed"
    with pytest.raises(NotAllowedError):
        reports.add_suggestion(actor=world.contact, problem=problem, text="企业不能改报告")
    with pytest.raises(DomainError):
        reports.record_outcome(actor=world.secretary, suggestion=suggestion, status="maybe")
    document = Document(io.BytesIO(reports.export_docx(report)))
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "关于会员企业融资和账款拖欠问题的报告" in text and "一、中小企业续贷难" in text
    assert "建议设立续贷过桥资金池。" in text and world.chamber1.name in text
    client.force_login(world.secretary)
    assert client.get(reverse("appeals:common")).status_code == 200
    page = client.get(reverse("appeals:report", args=[report.pk]))
    assert page.status_code == 200 and "中小企业续贷难" in page.content.decode()
    download = client.get(reverse("appeals:report_docx", args=[report.pk]))
    assert download.status_code == 200 and download.content[:2] == b"PK"
    client.force_login(world.contact)
    assert client.get(reverse("appeals:report", args=[report.pk])).status_code == 404
    assert client.get(reverse("appeals:common")).status_code == 403
    assert ProblemReport.objects.count() == 1


def test_the_page_reads_topics_found_in_the_background_until_the_appeals_change(
    client: Any, world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "topics"}}
    for title in LOANS + PARKING:
        services.submit_appeal(actor=world.contact, enterprise=world.e1, title=title, description=f"我公司{title}。")
    today = timezone.localdate()
    start = today - datetime.timedelta(days=30)
    key = reports.topics_key(world.secretary, start, today)
    # the first request queues the clustering; here the task runs in process once the request's work commits
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert reports.cached_topics(world.secretary, start, today) is None
    assert len(queued) == 1
    with django_capture_on_commit_callbacks(execute=False) as again:
        assert reports.cached_topics(world.secretary, start, today) is None  # already queued: not twice
    assert again == []
    queued[0]()
    found = reports.cached_topics(world.secretary, start, today)
    assert found is not None and found[1] == 12 and found[0]
    assert cache_hit(key)
    # the page shows the cached topics; a changed appeal gives a new key and a new run
    client.force_login(world.secretary)
    page = client.get(reverse("appeals:common"), {"start": start.isoformat(), "end": today.isoformat()})
    assert 'data-testid="topics"' in page.content.decode()
    services.submit_appeal(actor=world.contact, enterprise=world.e1, title="园区道路违停严重", description="违停。")
    assert reports.topics_key(world.secretary, start, today) != key
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = client.get(reverse("appeals:common"), {"start": start.isoformat(), "end": today.isoformat()})
    assert 'data-testid="topics-computing"' in page.content.decode()
    # choosing topics while the run is pending clusters at once: nothing is lost
    response = client.post(reverse("appeals:common") + f"?start={start.isoformat()}&end={today.isoformat()}",
                           {"topic-1": "1", "title": "关于融资和违停问题的报告"})  # fmt: skip
    assert response.status_code == 302 and ProblemReport.objects.count() == 1


def cache_hit(key: str) -> bool:
    return cache.get(key) is not None
