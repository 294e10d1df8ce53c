"""The permission matrix of events, registrations and matchmaking objects: persona × object × action."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import World, make_user
from qiaoliang.accounts.models import User
from qiaoliang.core.permissions import CHANGE, VIEW, can, forget, get_for_user, has_capability
from qiaoliang.events import permissions as event_permissions
from qiaoliang.events import selectors, services
from qiaoliang.events.models import Event, Meeting, MeetingRequest, Participant, Registration
from qiaoliang.events.permissions import CHECKIN
from qiaoliang.events.services.registration import REGISTRATION_FIELDS
from qiaoliang.orgs import services as services_orgs

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(world: World, make_event: Any, soon: datetime.datetime) -> dict[str, Any]:
    """Events of every audience and owner, registrations and a matchmaking meeting with a request."""
    events = {
        "public": make_event(title="公开讲座"),
        "members": make_event(title="会员大会", audience="members"),
        "c1": make_event(
            title="餐饮商会沙龙",
            organization=world.chamber1,
            actor=world.secretary,
            audience="organizations",
            audience_organizations=[world.chamber1],
        ),
        "c2": make_event(
            title="温州商会座谈会",
            kind="symposium",
            organization=world.chamber2,
            audience="organizations",
            audience_organizations=[world.chamber2],
        ),
        "draft": make_event(title="草稿", audience="members", publish=False),
        "zone": make_event(
            title="东部片区碰头会",
            kind="meeting",
            zone=world.zone,
            actor=world.convenor,
            audience="organizations",
            audience_organizations=[world.chamber1],
        ),
        "exchange": make_event(
            title="资源信息交流会",
            kind="exchange",
            audience="members",
            ends_at=soon + datetime.timedelta(hours=4),
            meetings_start_at=soon + datetime.timedelta(hours=1),
            slot_count=4,
            table_count=3,
        ),
    }
    services.add_speaker(actor=world.staff, event=events["c2"], name="发改委联络员", user=world.liaison)
    by_staff = services.register_person(
        actor=world.staff, event=events["members"], name="员工", mobile="13911110000", enterprise=world.e1
    ).registration
    own = services.register_self(actor=world.contact, event=events["members"]).registration
    other = services.register_person(
        actor=world.staff, event=events["members"], name="外企员工", mobile="13911110001", enterprise=world.e2
    ).registration
    in_c1 = services.register_person(
        actor=world.secretary, event=events["c1"], name="商会会员", mobile="13911110002"
    ).registration
    p1 = services.add_participant(actor=world.staff, event=events["exchange"], enterprise=world.e1)
    p2 = services.add_participant(actor=world.staff, event=events["exchange"], enterprise=world.e2)
    request = services.request_meeting(actor=world.staff, requester=p2, recipient=p1, reason="采购")
    services.answer_request(actor=world.staff, request=request, accept=True)
    return {
        **events,
        "reg_by_staff": by_staff,
        "reg_own": own,
        "reg_other": other,
        "reg_c1": in_c1,
        "p1": p1,
        "p2": p2,
        "request": request,
        "meeting": Meeting.objects.get(request=request),
    }


EVENT_MATRIX = [
    ("staff", "draft", "change", True),
    ("staff", "c2", "change", True),
    ("staff", "zone", "checkin", True),
    ("secretary", "public", "view", True),
    ("secretary", "public", "change", False),
    ("secretary", "c1", "change", True),
    ("secretary", "c1", "checkin", True),
    ("secretary", "c2", "view", False),
    ("secretary", "draft", "view", False),
    ("secretary", "zone", "view", True),
    ("secretary", "zone", "change", False),
    ("convenor", "zone", "change", True),
    ("convenor", "zone", "checkin", True),
    ("convenor", "c1", "view", True),
    ("convenor", "c1", "change", False),
    ("convenor", "c2", "view", False),
    ("convenor", "draft", "view", False),
    ("contact", "members", "view", True),
    ("contact", "c1", "view", True),
    ("contact", "c1", "change", False),
    ("contact", "c2", "view", False),
    ("contact", "draft", "view", False),
    ("contact", "exchange", "view", True),
    ("liaison", "members", "view", True),
    ("liaison", "c1", "view", False),
    ("liaison", "c2", "view", True),
    ("liaison", "c2", "change", False),
    ("provider", "members", "view", True),
    ("provider", "c1", "view", False),
    ("outsider", "public", "view", True),
    ("outsider", "members", "view", False),
    ("outsider", "c1", "view", False),
]


def test_event_permission_matrix(world: World, objects: dict[str, Any]) -> None:
    """One test over the whole matrix (the fixture is costly); every wrong cell is reported."""
    wrong = []
    for persona, target, action, allowed in EVENT_MATRIX:
        user, event = getattr(world, persona), objects[target]
        answers = (can(user, action, event), Event.objects.for_user(user, action).filter(pk=event.pk).exists())
        if answers != (allowed, allowed):
            wrong.append((persona, target, action, allowed, answers))
    assert wrong == []


OTHER_MATRIX = [
    ("staff", "reg_other", "view_personal", True),
    ("contact", "reg_own", "change", True),
    ("contact", "reg_by_staff", "view", True),  # registered by staff for the contact's enterprise
    ("contact", "reg_by_staff", "view_personal", False),
    ("contact", "reg_other", "view", False),
    ("secretary", "reg_c1", "view_personal", True),
    ("secretary", "reg_other", "view", False),
    ("convenor", "reg_c1", "view", False),
    ("outsider", "reg_own", "view", False),
    ("contact", "p1", "change", True),
    ("contact", "p2", "change", False),
    ("contact", "p2", "view", True),
    ("outsider", "p1", "view", False),
    ("secretary", "p1", "change", False),
    ("contact", "request", "answer", True),
    ("contact", "request", "view", True),
    ("secretary", "request", "view", False),
    ("staff", "request", "answer", True),
    ("contact", "meeting", "outcome", True),
    ("contact", "meeting", "change", False),
    ("staff", "meeting", "change", True),
    ("provider", "meeting", "view", False),
]


PERSONAS = ("staff", "secretary", "convenor", "contact", "liaison", "provider", "outsider")


def test_runs_is_the_change_rule_for_every_persona_and_event(
    world: World, objects: dict[str, Any], make_event: Any
) -> None:
    """`permissions.runs` (the registration hot path's Python check) answers as the CHANGE rule's query does."""
    other_federation = services_orgs.create_organization(
        actor=None, code="F2", name="天津市工商业联合会", kind="federation"
    )
    other = {
        "other": make_event(
            title="天津讲座",
            organization=other_federation,
            actor=None,
            audience="organizations",
            audience_organizations=[other_federation],
        ),
    }
    # the registration path's object: only REGISTRATION_FIELDS, read in plain SQL
    events = [
        selectors.event_columns(value.pk, REGISTRATION_FIELDS)
        for value in {**objects, **other}.values()
        if isinstance(value, Event)
    ]
    users = {persona: getattr(world, persona) for persona in PERSONAS}
    users["inactive"] = make_user("gone", "federation_staff", organization=world.federation)
    users["inactive"].is_active = False
    users["inactive"].save()
    users["other_staff"] = make_user("tj", "federation_staff", organization=other_federation)
    users["superuser"] = User.objects.create_superuser("root", password="correct-horse-battery")
    wrong = []
    for persona, user in users.items():
        forget(user)  # scopes worked out before the second federation existed
        for event in events:
            runs = event_permissions.runs(user, event)
            rule = Event.objects.for_user(user, CHANGE).filter(pk=event.pk).exists()
            sees = Event.objects.for_user(user, VIEW).filter(pk=event.pk).exists()
            if runs != rule or (runs and not sees):  # running an event implies seeing it
                wrong.append((persona, event.title, runs, rule, sees))
    assert wrong == []
    ran = {
        (persona, event.title)
        for persona, user in users.items()
        for event in events
        if event_permissions.runs(user, event)
    }
    assert ("convenor", "东部片区碰头会") in ran  # through the zone
    assert ("other_staff", "天津讲座") in ran and ("other_staff", "公开讲座") not in ran
    assert ("staff", "天津讲座") not in ran and ("superuser", "天津讲座") in ran
    assert not event_permissions.runs(AnonymousUser(), objects["public"])


def test_get_for_user_answers_the_other_actions_in_the_same_query(
    world: World, objects: dict[str, Any], django_assert_num_queries: Any
) -> None:
    """One SELECT gives the object and whether the user may change it; `can` then asks nothing more."""
    for persona, target, expected in (("secretary", "c1", True), ("contact", "c1", False)):
        user = getattr(world, persona)
        get_for_user(Event.objects.all(), user, VIEW, pk=objects["public"].pk)  # the user's scope, once
        with django_assert_num_queries(1):
            event = get_for_user(Event.objects.all(), user, VIEW, also=(CHANGE, CHECKIN), pk=objects[target].pk)
            assert can(user, CHANGE, event) is expected
            assert can(user, CHECKIN, event) is expected
    with pytest.raises(PermissionDenied):  # the action itself still decides 403
        get_for_user(Event.objects.all(), world.contact, CHANGE, also=(CHECKIN,), pk=objects["c1"].pk)


def test_registration_and_matchmaking_permission_matrix(world: World, objects: dict[str, Any]) -> None:
    wrong = [
        (persona, target, action, allowed)
        for persona, target, action, allowed in OTHER_MATRIX
        if can(getattr(world, persona), action, objects[target]) is not allowed
    ]
    assert wrong == []


def test_invisible_is_404_and_visible_but_not_allowed_is_403(world: World, objects: dict[str, Any]) -> None:
    with pytest.raises(Http404):
        get_for_user(Event.objects.all(), world.contact, VIEW, pk=objects["c2"].pk)
    with pytest.raises(PermissionDenied):
        get_for_user(Event.objects.all(), world.contact, "change", pk=objects["c1"].pk)


def test_lists_are_scoped(world: World, objects: dict[str, Any]) -> None:
    visible = set(Event.objects.for_user(world.contact, VIEW).values_list("title", flat=True))
    assert visible == {"公开讲座", "会员大会", "餐饮商会沙龙", "东部片区碰头会", "资源信息交流会"}
    assert set(Registration.objects.for_user(world.contact, VIEW).values_list("name", flat=True)) >= {"员工"}
    assert not Registration.objects.for_user(world.contact, VIEW).filter(name="外企员工").exists()
    assert Participant.objects.for_user(world.outsider, VIEW).count() == 0
    assert MeetingRequest.objects.for_user(world.secretary, VIEW).count() == 0


@pytest.mark.parametrize(
    ("persona", "manage", "enterprise", "convene", "speak"),
    [
        ("staff", True, False, False, False),
        ("secretary", True, False, False, False),
        ("convenor", True, False, True, False),
        ("contact", False, True, False, False),
        ("liaison", False, False, False, True),
        ("outsider", False, False, False, False),
    ],
)
def test_capabilities_by_role(
    world: World, persona: str, manage: bool, enterprise: bool, convene: bool, speak: bool
) -> None:
    user = getattr(world, persona)
    assert has_capability(user, "events.manage") is manage
    assert has_capability(user, "events.enterprise") is enterprise
    assert has_capability(user, "events.convene") is convene
    assert has_capability(user, "events.speak") is speak


def test_a_secretary_cannot_organise_for_another_chamber(world: World, make_event: Any) -> None:
    from qiaoliang.core.exceptions import NotAllowedError

    with pytest.raises(NotAllowedError):
        make_event(organization=world.chamber2, actor=world.secretary)
    other_zone_convenor = make_user("other-convenor")
    with pytest.raises(NotAllowedError):
        make_event(zone=world.zone, actor=other_zone_convenor)
