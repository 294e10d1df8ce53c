"""Visits (走访调研): planned by staff and zone convenors, recorded, appeals raised at them counted."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from qiaoliang.appeals import services, visits
from qiaoliang.appeals.models import Visit
from qiaoliang.core.exceptions import DomainError, NotAllowedError

pytestmark = pytest.mark.django_db


def test_a_visit_its_appeals_and_the_counts(client: Any, world: Any) -> None:
    today = timezone.localdate()
    visit = visits.plan_visit(actor=world.convenor, enterprise=world.e1, visit_on=today, visitors="片区召集人 王某")
    assert visit.organization == world.chamber1
    with pytest.raises(NotAllowedError):
        visits.plan_visit(actor=world.convenor, enterprise=world.e2, visit_on=today, visitors="王某")
    with pytest.raises(DomainError):
        visits.record_visit(actor=world.convenor, visit=visit, findings="  ")
    visits.record_visit(actor=world.convenor, visit=visit, findings="企业反映用电增容审批慢。")
    appeal = services.submit_appeal(actor=world.secretary, enterprise=world.e1, title="用电增容审批慢",
                                    description="走访中企业反映……", source="visit", visit=visit)  # fmt: skip
    appeal = services.assign(actor=world.secretary, appeal=appeal, department=world.department)
    appeal = services.answer_appeal(actor=world.liaison, appeal=appeal, answer="已协调供电公司。", solved=True)
    counts = visits.visit_counts(world.staff, today - datetime.timedelta(days=1), today)
    assert [(row["organization__name"], row["visits"], row["appeals"], row["solved"]) for row in counts] == [
        (world.chamber1.name, 1, 1, 1)
    ]
    client.force_login(world.secretary)
    assert client.get(reverse("appeals:visits")).status_code == 200
    page = client.get(reverse("appeals:visit", args=[visit.pk]))
    assert page.status_code == 200 and appeal.number in page.content.decode()
    assert client.get(reverse("appeals:record") + f"?visit={visit.pk}").status_code == 200
    client.force_login(world.contact)
    assert client.get(reverse("appeals:visits")).status_code == 403
    assert client.get(reverse("appeals:visit", args=[visit.pk])).status_code == 404
    assert Visit.objects.get(pk=visit.pk).status == "done"
