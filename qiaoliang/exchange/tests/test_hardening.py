"""What an independent security and reliability test broke (issue 7), one test per finding, each failing before
its fix: API errors, matches shown to people who may not see them, masking, inference, attachments, headers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from conftest import World, make_user
from qiaoliang.accounts.models import Role
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.tests import hostile_files
from qiaoliang.exchange import matching_service, services
from qiaoliang.exchange.matching import HashEmbedder
from qiaoliang.exchange.models import Listing, ListingAttachment, Match

pytestmark = pytest.mark.django_db
FUTURE = datetime.date.today() + datetime.timedelta(days=60)


@pytest.fixture(autouse=True)
def _hash_embedder(monkeypatch: Any) -> None:
    monkeypatch.setattr(matching_service, "embedder", lambda: HashEmbedder())


def api(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def listing(world: World, enterprise: Any, direction: str, title: str, **fields: Any) -> Listing:
    return services.create_listing(actor=world.staff, enterprise=enterprise, direction=direction, category="material",
                                   title=title, valid_until=FUTURE, publish=True, **fields)  # fmt: skip


# --- finding 4: the ranked-matches API ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["liaison", "provider", "convenor"])
def test_ranked_matches_of_someone_elses_listing_are_refused(world: World, persona: str) -> None:
    need = listing(world, world.e1, "need", "求购医用口罩")
    offer = listing(world, world.e2, "offer", "供应医用口罩")
    services.introduce(actor=world.staff, need=need, offer=offer)
    response = api(getattr(world, persona)).get(f"/api/v1/listings/{need.pk}/matches/?top=50")
    assert response.status_code == 403
    assert "match" not in response.content.decode()


def test_a_side_sees_only_the_stored_matches_it_may_see(world: World) -> None:
    need = listing(world, world.e1, "need", "求购医用口罩")
    offer = listing(world, world.e2, "offer", "供应医用口罩")
    match = services.introduce(actor=world.staff, need=need, offer=offer)
    items = api(world.contact).get(f"/api/v1/listings/{need.pk}/matches/?top=50").json()
    assert {item["match"] for item in items} <= {match.pk, None}
    visible = set(Match.objects.for_user(world.contact, "view").values_list("pk", flat=True))
    assert {item["match"] for item in items if item["match"]} <= visible


# --- finding 6: generated API requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/people.json", "/api/v1/listings.json", "/api/v1/matches/1/status.json", "/api/v1/enterprises.api"]
)
def test_format_suffixes_are_not_routes(world: World, path: str) -> None:
    assert api(world.staff).get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/memberships/?organization=99999999999999999999",
        "/api/v1/matches/?offer=1e20",
        "/api/v1/listings/?enterprise=-99999999999999999999",
        "/api/v1/people/?enterprise=1e400",
    ],
)
def test_huge_numbers_in_filters_are_a_400_not_a_500(world: World, query: str) -> None:
    response = api(world.staff).get(query)
    assert response.status_code == 400
    assert "Give a whole number" in str(response.json())


def test_huge_ids_in_paths_are_a_404(world: World) -> None:
    assert api(world.staff).get("/api/v1/listings/99999999999999999999/").status_code == 404


def test_empty_uris_emails_and_choices_are_null_as_the_schema_says(world: World) -> None:
    data = api(world.staff).get(f"/api/v1/enterprises/{world.e3.pk}/").json()
    assert data["website"] is None and data["ownership"] is None
    organization = api(world.staff).get(f"/api/v1/organizations/{world.federation.pk}/").json()
    assert organization["website"] is None and organization["contact_email"] is None
    assert organization["chamber_kind"] is None


@pytest.mark.parametrize("employees", [2**31, 10_000_001])
def test_an_employee_count_past_what_an_enterprise_can_have_is_refused(world: World, employees: int) -> None:
    # 2**31 was stored on SQLite and a 400 only on PostgreSQL (the column's range): the same answer on both now.
    response = api(world.staff).patch(f"/api/v1/enterprises/{world.e1.pk}/", {"employees": employees}, format="json")
    assert response.status_code == 400 and "employees" in response.json()
    world.e1.refresh_from_db()
    assert world.e1.employees != employees


# --- finding 7: masking ------------------------------------------------------------------------------------


def test_a_convenor_sees_no_full_mobile_on_exchange_pages(client: Any, world: World) -> None:
    need = listing(world, world.e1, "need", "求购医用口罩", contact_visibility="members")
    client.force_login(world.convenor)
    for url in (reverse("exchange:board"), reverse("exchange:listing", args=[need.pk])):
        assert "13812345678" not in client.get(url).content.decode(), url


def test_a_suggestion_neither_side_acted_on_reveals_no_contact(client: Any, world: World) -> None:
    contact2 = make_user("contact2", Role.ENTERPRISE_CONTACT, enterprise=world.e2)
    need = listing(world, world.e1, "need", "求购医用口罩")
    offer = listing(world, world.e2, "offer", "供应医用口罩")
    Match.objects.create(need=need, offer=offer, score=0.9)
    client.force_login(contact2)
    assert "13812345678" not in client.get(reverse("exchange:listing", args=[need.pk])).content.decode()


# --- finding 8: inference ---------------------------------------------------------------------------------------


def test_filtering_by_an_invisible_organisation_tells_nothing(client: Any, world: World) -> None:
    invisible = world.chamber2.pk  # the convenor's zone holds C1 only
    client.force_login(world.convenor)
    page = client.get(reverse("orgs:directory"), {"organization": invisible})
    assert page.context["page"].paginator.count == 0
    data = api(world.convenor).get(f"/api/v1/enterprises/?organization={invisible}").json()
    assert data["count"] == 0


# --- finding 9: attachments ---------------------------------------------------------------------------------------


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_attachments_are_served_to_those_who_see_the_listing_under_a_random_name(client: Any, world: World,
                                                                                media: Any) -> None:  # fmt: skip
    draft = services.create_listing(actor=world.contact, enterprise=world.e1, direction="need", category="material",
                                    title="求购医用口罩", valid_until=FUTURE)  # fmt: skip
    pdf = hostile_files.find("brochure.pdf")
    attachment = services.add_attachment(actor=world.contact, listing=draft,
                                         upload=SimpleUploadedFile("规格书.pdf", pdf.content))  # fmt: skip
    assert attachment.name == "规格书.pdf" and "规格书" not in attachment.file.name
    url = reverse("exchange:attachment", args=[draft.pk, attachment.pk])
    client.force_login(world.contact)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf.content  # type: ignore[attr-defined]
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    client.force_login(make_user("contact3", Role.ENTERPRISE_CONTACT, enterprise=world.e3))
    assert client.get(url).status_code == 404  # a draft is not theirs to see


def test_production_answers_attachments_through_the_web_server(client: Any, world: World, media: Any,
                                                               settings: Any) -> None:  # fmt: skip
    settings.PRIVATE_FILES_ACCEL_PREFIX = "/protected/"
    draft = services.create_listing(actor=world.contact, enterprise=world.e1, direction="need", category="material",
                                    title="求购医用口罩", valid_until=FUTURE)  # fmt: skip
    attachment = services.add_attachment(actor=world.contact, listing=draft, upload=SimpleUploadedFile(
        "a.png", hostile_files.find("pixel.png").content))  # fmt: skip
    client.force_login(world.contact)
    response = client.get(reverse("exchange:attachment", args=[draft.pk, attachment.pk]))
    assert response["X-Accel-Redirect"] == f"/protected/{attachment.file.name}"


@pytest.mark.parametrize(
    "hostile", [f for f in hostile_files.attachment_files() if not f.accepted], ids=lambda f: f.ident
)
def test_every_hostile_attachment_is_refused_and_nothing_is_stored(world: World, media: Any, hostile: Any) -> None:
    draft = services.create_listing(actor=world.contact, enterprise=world.e1, direction="need", category="material",
                                    title="求购医用口罩", valid_until=FUTURE)  # fmt: skip
    upload = SimpleUploadedFile(hostile.name, hostile.content)
    if hostile.threat == "path_traversal" and upload.name == "evil.pdf":
        # Django's uploads keep only the base name of "../../evil.pdf": a real PDF is then harmless to accept.
        attachment = services.add_attachment(actor=world.contact, listing=draft, upload=upload)
        assert attachment.name == "evil.pdf" and ".." not in attachment.file.name
        return
    with pytest.raises(DomainError):
        services.add_attachment(actor=world.contact, listing=draft, upload=upload)
    assert ListingAttachment.objects.count() == 0
    assert not any(media.rglob("*.*"))


@pytest.mark.parametrize("benign", [f for f in hostile_files.attachment_files() if f.accepted], ids=lambda f: f.ident)
def test_real_documents_and_pictures_are_accepted(world: World, media: Any, benign: Any) -> None:
    draft = services.create_listing(actor=world.contact, enterprise=world.e1, direction="need", category="material",
                                    title="求购医用口罩", valid_until=FUTURE)  # fmt: skip
    services.add_attachment(actor=world.contact, listing=draft, upload=SimpleUploadedFile(benign.name, benign.content))
    assert ListingAttachment.objects.count() == 1


# --- finding 10: headers ---------------------------------------------------------------------------------------------


def test_pages_send_a_content_security_policy_without_inline_scripts(client: Any, world: World) -> None:
    client.force_login(world.staff)
    response = client.get(reverse("core:home"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "<script>" not in response.content.decode() and "onclick=" not in response.content.decode()
