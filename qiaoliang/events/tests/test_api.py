"""The events API contract: create events, register (idempotently), cancel with promotion, check in, OpenAPI."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conftest import World, make_user
from qiaoliang.accounts.models import Role
from qiaoliang.core.models import AuditLog
from qiaoliang.events import services
from qiaoliang.events.models import CheckIn, Event, Registration

pytestmark = pytest.mark.django_db


def token_client(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def event_body(world: World, soon: datetime.datetime, **changes: Any) -> dict[str, Any]:
    body = {
        "title": "上海人力资源讲堂",
        "kind": "lecture",
        "mode": "hybrid",
        "audience": "public",
        "organizer": world.federation.pk,
        "capacity": 2,
        "starts_at": soon.isoformat(),
        "ends_at": (soon + datetime.timedelta(hours=2)).isoformat(),
    }
    body.update(changes)
    return body


def person(n: int) -> dict[str, str]:
    return {"name": f"参会人{n}", "mobile": f"139{n:08d}", "company": "北京天马辉科技有限公司", "position": "经理"}


def test_staff_create_an_event_with_iso_dates_and_it_is_published(world: World, soon: datetime.datetime) -> None:
    response = token_client(world.staff).post(
        "/api/v1/events/",
        event_body(
            world,
            soon,
            series="上海人力资源讲堂",
            issue_number=13,
            agenda=[{"title": "主讲", "speakers": [{"name": "周律师", "affiliation": "律师事务所"}]}],
            questions=[{"label": "用餐", "required": True, "choices": ["是", "否"]}],
        ),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    event = Event.objects.get(pk=body["id"])
    assert (body["status"], body["capacity"], body["confirmed_count"], body["waiting_count"]) == ("published", 2, 0, 0)
    assert event.registration_closes_at == event.starts_at
    assert event.registration_opens_at <= timezone.now()
    assert body["series"] == "上海人力资源讲堂" and body["issue_number"] == 13
    assert body["agenda"][0]["speakers"][0]["name"] == "周律师"
    assert body["questions"][0]["choices"] == ["是", "否"]


def test_an_enterprise_contact_cannot_create_events(world: World, soon: datetime.datetime) -> None:
    response = token_client(world.contact).post("/api/v1/events/", event_body(world, soon), format="json")
    assert response.status_code == 403
    assert not Event.objects.exists()


def test_a_secretary_creates_events_of_their_chamber_only(world: World, soon: datetime.datetime) -> None:
    client = token_client(world.secretary)
    assert (
        client.post("/api/v1/events/", event_body(world, soon, organizer=world.chamber1.pk), format="json").status_code
        == 201
    )
    assert (
        client.post("/api/v1/events/", event_body(world, soon, organizer=world.chamber2.pk), format="json").status_code
        == 403
    )


def test_bad_event_input_is_refused_with_the_field(world: World, soon: datetime.datetime) -> None:
    body = event_body(world, soon, ends_at=(soon - datetime.timedelta(hours=1)).isoformat())
    response = token_client(world.staff).post("/api/v1/events/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "ends_at"
    assert not Event.objects.exists()


def test_registrations_confirm_then_wait_and_the_event_shows_the_counts(world: World, make_event: Any) -> None:
    event = make_event(capacity=2)
    client = token_client(world.staff)
    statuses = []
    for n in range(3):
        response = client.post(f"/api/v1/events/{event.pk}/registrations/", person(n), format="json")
        assert response.status_code == 201
        statuses.append(response.json()["status"])
        assert len(response.json()["ticket"]) == 12
    assert statuses == ["confirmed", "confirmed", "waiting"]
    detail = client.get(f"/api/v1/events/{event.pk}/").json()
    assert (detail["capacity"], detail["confirmed_count"], detail["waiting_count"]) == (2, 2, 1)


def test_the_same_mobile_again_answers_200_with_the_existing_registration(world: World, event: Event) -> None:
    client = token_client(world.staff)
    first = client.post(f"/api/v1/events/{event.pk}/registrations/", person(1), format="json")
    again = client.post(f"/api/v1/events/{event.pk}/registrations/", {**person(1), "name": "别名"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Registration.objects.count() == 1


def test_the_same_idempotency_key_replays_the_registration_and_creates_nothing(world: World, event: Event) -> None:
    client = token_client(world.staff)
    url = f"/api/v1/events/{event.pk}/registrations/"
    first = client.post(url, person(1), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post(url, person(1), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert Registration.objects.count() == 1
    assert AuditLog.objects.filter(action="events.registration.created").count() == 1
    other = client.post(url, person(2), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 400  # the same key for a different body


def test_an_enterprise_contact_registers_their_own_people_only(world: World, make_event: Any) -> None:
    event = make_event(audience="members")
    client = token_client(world.contact)
    own = client.post(f"/api/v1/events/{event.pk}/registrations/", person(5), format="json")
    assert own.status_code == 201
    assert Registration.objects.get(pk=own.json()["id"]).enterprise == world.e1
    foreign = client.post(
        f"/api/v1/events/{event.pk}/registrations/", {**person(6), "enterprise": world.e2.pk}, format="json"
    )
    assert foreign.status_code == 403


def test_an_outsider_cannot_register_people(world: World, event: Event) -> None:
    response = token_client(world.outsider).post(f"/api/v1/events/{event.pk}/registrations/", person(1), format="json")
    assert response.status_code == 403


def test_registration_posts_are_decided_by_who_runs_and_who_sees_the_event(world: World, make_event: Any) -> None:
    """The API's registration read: the event's staff (recognised without the rules), others through the rules."""
    draft = make_event(audience="members", publish=False)
    other_chamber = make_event(
        organization=world.chamber2, audience="organizations", audience_organizations=[world.chamber2]
    )
    url = "/api/v1/events/{}/registrations/"
    staff, secretary, contact = token_client(world.staff), token_client(world.secretary), token_client(world.contact)
    refused = staff.post(url.format(draft.pk), person(20), format="json")  # staff see the draft: refused, not 404
    assert refused.status_code == 400 and refused.json()["code"] == "not_open", refused.json()
    assert contact.post(url.format(draft.pk), person(21), format="json").status_code == 404
    assert secretary.post(url.format(other_chamber.pk), person(22), format="json").status_code == 404
    assert contact.post(url.format(other_chamber.pk), person(23), format="json").status_code == 404
    assert staff.post(url.format(other_chamber.pk), person(24), format="json").status_code == 201
    assert staff.post(url.format(99_999_999), person(25), format="json").status_code == 404
    assert staff.post(url.format(2**63), person(26), format="json").status_code == 404
    assert Registration.objects.filter(mobile__in=[person(n)["mobile"] for n in (21, 22, 23)]).count() == 0


def test_registration_post_query_counts(world: World, make_event: Any) -> None:
    """Staff: the token, the event (plain SQL, no rules) and the write. An enterprise contact: also the rules' read
    of the event (VIEW; CHANGE is known from the same plain read), their enterprise and the person by mobile."""
    event = make_event(audience="members", capacity=100)
    statements = {}
    for persona, n in (("staff", 30), ("contact", 31)):
        client = token_client(getattr(world, persona))
        client.post(f"/api/v1/events/{event.pk}/registrations/", person(n + 10), format="json")  # warm caches
        with CaptureQueriesContext(connection) as queries:
            response = client.post(f"/api/v1/events/{event.pk}/registrations/", person(n), format="json")
        assert response.status_code == 201, response.content
        statements[persona] = [q["sql"] for q in queries.captured_queries]
    staff, contact = statements["staff"], statements["contact"]
    event_reads = {name: [q for q in sqls if 'FROM "events_event"' in q] for name, sqls in statements.items()}
    assert len(event_reads["staff"]) == 1 and event_reads["staff"][0].startswith('SELECT "id", "title"'), staff
    assert len(event_reads["contact"]) == 2, contact  # the plain read and the rules' VIEW
    assert len(contact) == len(staff) + 3, (staff, contact)


def test_a_members_event_is_404_for_an_account_without_role(world: World, make_event: Any) -> None:
    event = make_event(audience="members")
    assert token_client(world.outsider).get(f"/api/v1/events/{event.pk}/").status_code == 404


def test_cancel_answers_cancelled_and_promotes_the_first_waiting(world: World, make_event: Any) -> None:
    event = make_event(capacity=1)
    client = token_client(world.staff)
    ids = [
        client.post(f"/api/v1/events/{event.pk}/registrations/", person(n), format="json").json()["id"]
        for n in range(3)
    ]
    response = client.post(f"/api/v1/registrations/{ids[0]}/cancel/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert [Registration.objects.get(pk=pk).status for pk in ids] == ["cancelled", "confirmed", "waiting"]
    again = client.post(f"/api/v1/registrations/{ids[0]}/cancel/", {}, format="json")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"


def test_a_registrant_cancels_their_own_registration_but_not_others(world: World, make_event: Any) -> None:
    event = make_event(audience="members")
    mine = services.register_self(actor=world.contact, event=event).registration
    other = services.register_person(actor=world.staff, event=event, name="他人", mobile="13911112222").registration
    client = token_client(world.contact)
    assert client.post(f"/api/v1/registrations/{other.pk}/cancel/", {}, format="json").status_code == 404
    assert client.post(f"/api/v1/registrations/{mine.pk}/cancel/", {}, format="json").status_code == 200


@pytest.fixture
def running(make_event: Any) -> Event:
    now = timezone.now()
    return make_event(
        starts_at=now - datetime.timedelta(minutes=30),
        ends_at=now + datetime.timedelta(hours=2),
        registration_opens_at=now - datetime.timedelta(days=3),
        registration_closes_at=now + datetime.timedelta(hours=1),
    )


def test_checkin_201_then_200_already_checked_in(world: World, running: Event) -> None:
    registration = services.register_person(actor=world.staff, event=running, name="张三", mobile="13912345678")
    client = token_client(world.staff)
    url = f"/api/v1/events/{running.pk}/checkins/"
    first = client.post(url, {"ticket": registration.registration.ticket_display}, format="json")
    again = client.post(url, {"ticket": registration.registration.ticket.lower()}, format="json")
    assert first.status_code == 201 and first.json()["already_checked_in"] is False
    assert again.status_code == 200 and again.json()["already_checked_in"] is True
    assert again.json()["checked_in_at"] == first.json()["checked_in_at"]
    assert CheckIn.objects.count() == 1


def test_checkin_refuses_unknown_foreign_and_cancelled_tickets(world: World, running: Event, make_event: Any) -> None:
    client = token_client(world.staff)
    url = f"/api/v1/events/{running.pk}/checkins/"
    unknown = client.post(url, {"ticket": "ZZZZ-ZZZZ-ZZZZ"}, format="json")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_ticket"
    other_event = make_event(title="别的活动")
    foreign = services.register_person(actor=world.staff, event=other_event, name="李四", mobile="13911110000")
    response = client.post(url, {"ticket": foreign.registration.ticket}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "foreign_ticket"
    cancelled = services.register_person(actor=world.staff, event=running, name="王五", mobile="13911110001")
    with time_machine.travel(running.starts_at - datetime.timedelta(hours=1)):
        services.cancel_registration(actor=world.staff, registration=cancelled.registration)
    response = client.post(url, {"ticket": cancelled.registration.ticket}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "cancelled"
    assert CheckIn.objects.count() == 0


def test_checkin_is_for_the_events_staff_only(world: World, running: Event) -> None:
    registration = services.register_person(actor=world.staff, event=running, name="张三", mobile="13912345678")
    response = token_client(world.contact).post(
        f"/api/v1/events/{running.pk}/checkins/", {"ticket": registration.registration.ticket}, format="json"
    )
    assert response.status_code == 403


def test_registration_list_of_an_event_has_a_constant_query_count(world: World, event: Event) -> None:
    client = token_client(world.staff)
    for n in range(3):
        services.register_person(actor=world.staff, event=event, name=f"人{n}", mobile=f"1391111000{n}")
    url = f"/api/v1/events/{event.pk}/registrations/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(3, 12):
        services.register_person(actor=world.staff, event=event, name=f"人{n}", mobile=f"139111100{n:02d}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["results"]) == 12
    assert len(many) == len(few)


def test_event_list_has_a_constant_query_count(world: World, make_event: Any) -> None:
    client = token_client(world.staff)
    make_event()
    client.get("/api/v1/events/")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/events/")
    for n in range(4):
        make_event(title=f"活动{n}")
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/api/v1/events/").json()["results"]) == 5
    assert len(many) == len(few)


def test_the_openapi_schema_documents_the_events_api(world: World) -> None:
    client = APIClient()
    client.force_login(make_user("reader", Role.FEDERATION_STAFF, organization=world.federation))
    schema = client.get("/api/v1/schema/?format=json").json()
    paths = schema["paths"]
    for path in [
        "/api/v1/events/",
        "/api/v1/events/{id}/",
        "/api/v1/events/{id}/registrations/",
        "/api/v1/events/{id}/checkins/",
        "/api/v1/registrations/{id}/cancel/",
    ]:
        assert path in paths, path
    post = paths["/api/v1/events/{id}/registrations/"]["post"]
    assert {"201", "200"} <= set(post["responses"])
    assert any(parameter["name"] == "Idempotency-Key" for parameter in post["parameters"])


def test_the_fast_registration_output_is_what_the_declared_fields_give(world: World, make_event: Any) -> None:
    from qiaoliang.events.api.serializers import RegistrationSerializer

    event = make_event(capacity=1, questions=[{"key": "diet", "label": "饮食", "choices": ["素食"]}])
    seated = services.register_person(actor=world.staff, event=event, answers={"diet": "素食"}, **person(1))
    waiting = services.register_person(actor=world.staff, event=event, **person(2))
    cancelled = services.cancel_registration(actor=world.staff, registration=waiting.registration)
    with time_machine.travel(event.starts_at + datetime.timedelta(minutes=5)):
        services.check_in(actor=world.staff, event=event, ticket=seated.registration.ticket)
    rows = [*list(Registration.objects.filter(event=event).select_related("checkin")), seated.registration, cancelled]
    for context in ({}, {"with_checkin": True}, {"personal": set()}, {"personal": {seated.registration.pk}}):
        serializer = RegistrationSerializer(context=context)
        for registration in rows:
            assert serializer.to_representation(registration) == serializer.drf_representation(registration)
    assert RegistrationSerializer(rows[0], context={"with_checkin": True}).data["checked_in_at"] is not None


def test_a_token_of_an_inactive_user_or_an_unknown_token_is_refused(world: World, event: Any) -> None:
    client = token_client(world.staff)
    assert client.get(f"/api/v1/events/{event.pk}/").status_code == 200
    world.staff.is_active = False
    world.staff.save(update_fields=["is_active"])
    refused = client.get(f"/api/v1/events/{event.pk}/")
    assert refused.status_code == 401
    unknown = APIClient()
    unknown.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert unknown.get(f"/api/v1/events/{event.pk}/").status_code == 401
