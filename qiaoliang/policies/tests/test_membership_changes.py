"""Stored answers follow what `orgs` announces: an enterprise that joins, leaves, is deactivated, changes its
registered region, or whose organisation moves is answered again at once (not at the nightly run); an import's
recomputation drops the answers of enterprises no longer reached; a run tells only what is still stored; a
withdrawal told half-way is resumed where it stopped."""

from __future__ import annotations

import datetime
import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from conftest import make_uscc
from qiaoliang.accounts.models import User
from qiaoliang.core.background import listeners
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.models import Region
from qiaoliang.orgs import services as org_services
from qiaoliang.orgs.announcements import ENTERPRISES_CHANGED
from qiaoliang.orgs.models import Membership
from qiaoliang.policies.models import Eligibility, Policy, PolicyStatusChange, Push, SupportItem
from qiaoliang.policies.services import decisions, library, rulebook
from qiaoliang.policies.services import facts as fact_service
from qiaoliang.policies.tests.test_workflow import RULE, give_facts, make_policy

pytestmark = pytest.mark.django_db


def eligible(item: SupportItem) -> set[int]:
    return set(Eligibility.objects.filter(item=item).values_list("enterprise_id", flat=True))


def count(item: SupportItem) -> int:
    return SupportItem.objects.get(pk=item.pk).eligible_count


def published_item(world: Any, organization: Any) -> SupportItem:
    """A published policy of the organisation (for its members and those below it) with one item under RULE."""
    policy = library.create_policy(actor=world.staff, organization=organization, data={
        "title": "研发补助办法", "issuer": organization.name, "level": "district", "full_text": "补助。"})  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "研发补助", "benefit": "补助"})
    rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    library.publish(actor=world.staff, policy=policy)
    return item


def test_policies_listens_to_what_orgs_announces() -> None:
    assert "policies.enterprises_changed" in listeners(ENTERPRISES_CHANGED)


@pytest.mark.parametrize("one_by_one", [50, 0], ids=["one by one", "batch evaluator"])
def test_an_enterprise_that_joins_is_answered_and_told_at_once(world: Any, monkeypatch: Any, one_by_one: int) -> None:
    monkeypatch.setattr(decisions, "ONE_BY_ONE", one_by_one)  # 0: the path of an announcement of > 50 enterprises
    policy = library.create_policy(actor=world.staff, organization=world.chamber1, data={
        "title": "餐饮商会会员研发补助", "issuer": "朝阳区餐饮商会", "level": "district",
        "full_text": "对营业收入2000万元以上的国家高新技术企业给予补助。"})  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "研发补助", "benefit": "补助"})
    rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    year = datetime.date.today().year - 1
    fact_service.set_fact(actor=world.staff, enterprise=world.e2, field="revenue", value="3000万元", year=year)
    fact_service.set_honour(actor=world.staff, enterprise=world.e2, text="国家级高新技术企业")
    library.publish(actor=world.staff, policy=policy)
    assert eligible(item) == set()  # e2 is a member of chamber 2 only: the policy is for chamber 1's members

    org_services.add_membership(actor=world.staff, enterprise=world.e2, organization=world.chamber1)

    assert eligible(item) == {world.e2.pk}
    assert count(item) == 1
    assert Push.objects.filter(item=item, enterprise=world.e2).count() == 1


def test_a_member_that_leaves_loses_its_answers_and_is_not_told_twice_when_it_comes_back(world: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    assert eligible(item) == {world.e1.pk} and count(item) == 1
    membership = Membership.objects.get(enterprise=world.e1, organization=world.chamber1)

    org_services.transition_membership(actor=world.staff, membership=membership,
                                       to_status=Membership.Status.WITHDRAWN, note="退会")  # fmt: skip
    assert eligible(item) == set() and count(item) == 0
    assert decisions.checkup(world.e1) == []

    org_services.transition_membership(actor=world.staff, membership=Membership.objects.get(pk=membership.pk),
                                       to_status=Membership.Status.ACTIVE, note="重新入会")  # fmt: skip
    assert eligible(item) == {world.e1.pk} and count(item) == 1
    assert Push.objects.filter(item=item, enterprise=world.e1).count() == 1


def test_a_deactivated_enterprise_loses_its_answers(world: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    org_services.change_profile(actor=world.staff, enterprise=world.e1, is_active=False)
    assert eligible(item) == set() and count(item) == 0
    assert decisions.member_paths(world.e1.pk) == []
    decisions.recompute_enterprise(world.e1.pk)  # its own recomputation stores nothing either
    assert eligible(item) == set()
    org_services.change_profile(actor=world.staff, enterprise=world.e1, is_active=True)
    assert eligible(item) == {world.e1.pk} and count(item) == 1


def test_a_changed_registered_region_is_answered_again(world: Any, monkeypatch: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)  # the rule asks for registration in Beijing
    zhangjiakou = Region.objects.get(code="130700")
    org_services.change_profile(actor=world.staff, enterprise=world.e1, region=zhangjiakou)
    assert eligible(item) == set() and count(item) == 0
    calls: list[Any] = []
    recompute = decisions.recompute_enterprises
    monkeypatch.setattr(decisions, "recompute_enterprises", lambda *a, **k: calls.append(a) or recompute(*a, **k))
    org_services.change_profile(actor=world.staff, enterprise=world.e1, website="https://tianmahui.example")
    assert calls == []  # a field no rule reads: nothing answered anew
    monkeypatch.setattr(decisions, "recompute_enterprises", recompute)
    org_services.change_profile(actor=world.staff, enterprise=world.e1, region=Region.objects.get(code="110105"))
    assert eligible(item) == {world.e1.pk} and count(item) == 1


def test_members_of_a_moved_organisation_are_answered_again(world: Any) -> None:
    give_facts(world)
    item = published_item(world, world.district)
    assert eligible(item) == {world.e1.pk}

    org_services.move_organization(actor=world.staff, organization=world.chamber1, new_parent=world.association)

    assert eligible(item) == set() and count(item) == 0  # chamber 1 is no longer under the district


def test_members_of_an_organisation_moved_under_a_policys_organisation_are_told(world: Any) -> None:
    give_facts(world)
    policy = library.create_policy(actor=world.staff, organization=world.association, data={
        "title": "软件行业协会会员补助", "issuer": "北京市软件行业协会", "level": "municipal",
        "full_text": "补助。"})  # fmt: skip
    item = library.save_item(actor=world.staff, policy=policy, data={"name": "会员补助", "benefit": "补助"})
    rulebook.save_rule(actor=world.staff, item=item, expression=RULE)
    library.publish(actor=world.staff, policy=policy)
    assert eligible(item) == set()  # e1 is in chamber 1, under the district, not under the association

    org_services.move_organization(actor=world.staff, organization=world.chamber1, new_parent=world.association)

    assert eligible(item) == {world.e1.pk} and count(item) == 1
    assert Push.objects.filter(item=item, enterprise=world.e1).count() == 1


def test_deletions_in_the_back_office_move_the_answers_and_counts(world: Any, client: Any) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    fact_service.set_fact(actor=world.staff, enterprise=world.e2, field="revenue", value="3000万元",
                          year=datetime.date.today().year - 1)  # fmt: skip
    fact_service.set_honour(actor=world.staff, enterprise=world.e2, text="国家级高新技术企业")
    assert eligible(item) == {world.e1.pk, world.e2.pk} and count(item) == 2
    root = User.objects.create_superuser(username="root", password="correct-horse-battery", email="r@example.cn")
    client.force_login(root)
    membership = Membership.objects.get(enterprise=world.e1, organization=world.chamber1)
    response = client.post(reverse("admin:orgs_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert eligible(item) == {world.e2.pk} and count(item) == 1
    response = client.post(reverse("admin:orgs_enterprise_delete", args=[world.e2.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert eligible(item) == set() and count(item) == 0


def test_the_enterprise_page_shows_memberships_without_changing_them(world: Any, client: Any) -> None:
    root = User.objects.create_superuser(username="root", password="correct-horse-battery", email="r@example.cn")
    client.force_login(root)
    url = reverse("admin:orgs_enterprise_change", args=[world.e1.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="memberships-0-status"' not in page.content.decode()
    membership = Membership.objects.get(enterprise=world.e1, organization=world.chamber1)
    assert reverse("admin:orgs_membership_change", args=[membership.pk]) in page.content.decode()


def test_the_migration_leaves_recent_withdrawals_to_their_task(world: Any) -> None:
    policy, _item = make_policy(world)
    library.withdraw(actor=world.staff, policy=policy, reason="调整")
    recent = PolicyStatusChange.objects.get(policy=policy, to_status=Policy.Status.WITHDRAWN)
    old = PolicyStatusChange.objects.create(policy=policy, from_status="published", to_status="withdrawn", note="旧")
    PolicyStatusChange.objects.filter(pk__in=[recent.pk, old.pk]).update(told_at=None)
    PolicyStatusChange.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    migration = importlib.import_module("qiaoliang.policies.migrations.0005_withdrawal_progress")
    migration.past_withdrawals_told(django_apps, None)
    told = dict(PolicyStatusChange.objects.filter(pk__in=[recent.pk, old.pk]).values_list("pk", "told_at"))
    assert told[recent.pk] is None and told[old.pk] is not None


def test_a_withdrawal_reason_longer_than_its_record_is_refused(world: Any) -> None:
    policy, _item = make_policy(world)
    with pytest.raises(DomainError, match="500"):
        library.withdraw(actor=world.staff, policy=policy, reason="调" * 501)
    assert Policy.objects.get(pk=policy.pk).status == Policy.Status.PUBLISHED


def test_an_import_recomputation_drops_the_answers_of_enterprises_no_longer_reached(
    world: Any, monkeypatch: Any
) -> None:
    give_facts(world)
    _policy, item = make_policy(world)
    Membership.objects.filter(enterprise=world.e1).update(status=Membership.Status.WITHDRAWN)  # a bulk write
    monkeypatch.setattr(decisions, "ONE_BY_ONE", 0)  # the path of more than 50 enterprises: the batch evaluator
    decisions.recompute_enterprises([world.e1.pk, world.e2.pk])
    assert eligible(item) == set() and count(item) == 0


def test_a_run_tells_only_the_answers_still_stored_under_its_rule(world: Any, monkeypatch: Any) -> None:
    give_facts(world)
    policy, item = make_policy(world, publish=False)
    recount = decisions.recount_eligible

    def answered_again_meanwhile(item_ids: Any) -> None:  # an enterprise's recomputation right after the batch
        Eligibility.objects.filter(item=item, enterprise=world.e1).delete()
        recount(item_ids)

    monkeypatch.setattr(decisions, "recount_eligible", answered_again_meanwhile)
    library.publish(actor=world.staff, policy=policy)
    assert not Push.objects.filter(item=item).exists()
    monkeypatch.setattr(decisions, "recount_eligible", recount)
    decisions.recompute_item(item.pk)  # the next run finds it eligible again, and tells it
    assert Push.objects.filter(item=item, enterprise=world.e1).count() == 1


def test_a_withdrawal_told_half_way_is_resumed_where_it_stopped(world: Any, monkeypatch: Any) -> None:
    give_facts(world)
    policy, item = make_policy(world)
    Push.objects.create(item=item, enterprise=world.e2, organization=world.federation)
    told: list[list[int]] = []
    contacts = library.contacts_of

    def flaky_contacts(enterprise_ids: list[int]) -> Any:
        told.append(list(enterprise_ids))
        if len(told) == 2:
            raise ConnectionError("the worker stopped")
        return contacts(enterprise_ids)

    monkeypatch.setattr(library, "TELL_CHUNK", 1)
    monkeypatch.setattr(library, "contacts_of", flaky_contacts)
    library.withdraw(actor=world.staff, policy=policy, reason="上级政策调整")  # the task fails on the second chunk
    change = PolicyStatusChange.objects.get(policy=policy, to_status=Policy.Status.WITHDRAWN)
    assert change.told_through == world.e1.pk and change.told_at is None
    assert library.resume_withdrawal_notices() == 0  # not yet: it may still be running

    later = timezone.now() + datetime.timedelta(hours=1)
    assert library.resume_withdrawal_notices(now=later) == 1  # queued again, and run (tasks run at once here)
    assert told == [[world.e1.pk], [world.e2.pk], [world.e2.pk]]  # the first chunk is not told twice
    change.refresh_from_db()
    assert change.told_through == world.e2.pk and change.told_at is not None
    assert library.resume_withdrawal_notices(now=later) == 0
    assert library.tell_withdrawn(policy.pk, "上级政策调整", world.staff.pk, change.pk) == 0


def test_a_worker_with_rules_cached_before_a_move_still_reaches_the_members(world: Any) -> None:
    """A worker's cached rules keep the organisations' paths of the time; reach is decided by the organisation's
    id in the member's fresh path (found by a review: after a move the enterprise lost its answers)."""
    give_facts(world)
    item = published_item(world, world.district)
    decisions.recompute_enterprise(world.e1.pk)  # the process's list of rules in force is now cached
    assert eligible(item) == {world.e1.pk}

    org_services.move_organization(actor=world.staff, organization=world.district, new_parent=world.association)
    decisions.recompute_enterprise(world.e1.pk)

    assert eligible(item) == {world.e1.pk} and count(item) == 1
    assert item.pk in {answer.item.pk for answer in decisions.checkup(world.e1)}


def test_a_batch_reads_only_the_members_under_the_policys_organisation(world: Any, monkeypatch: Any) -> None:
    """Each batch reads the memberships under the policies' organisations by their path prefix (indexed), not
    every membership of its span (found by a review: a chamber's policy read the whole federation's members)."""
    give_facts(world)
    for number in range(30):  # members of the association, which the chamber's policy does not reach
        org_services.create_enterprise(actor=None, uscc=make_uscc(200 + number), name=f"软件协会会员{number}号有限公司",
                                       organization=world.association)  # fmt: skip
    item = published_item(world, world.chamber1)
    seen: list[str] = []
    path_ids = decisions.path_ids
    monkeypatch.setattr(decisions, "path_ids", lambda path: seen.append(path) or path_ids(path))
    decisions.recompute_item(item.pk)
    assert eligible(item) == {world.e1.pk}
    assert seen == [world.chamber1.path]  # e1's one membership, under chamber 1
