"""The exchange's web pages: scoping, board filters and search, contact visibility, forms, workflows, queries."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from conftest import make_user
from qiaoliang.accounts.models import Role
from qiaoliang.core.models import AuditLog, Industry, Region
from qiaoliang.core.models import Notification as CoreNotification
from qiaoliang.core.tests import hostile_files
from qiaoliang.exchange import services
from qiaoliang.exchange.models import EmergencyBoard, Listing, ListingAttachment, Match, MatchMessage
from qiaoliang.exchange.reasons import describe_all
from qiaoliang.orgs.models import Person

pytestmark = pytest.mark.django_db

FUTURE = datetime.date.today() + datetime.timedelta(days=60)


def make_listing(world, enterprise=None, direction="need", category="material", title="求购医用口罩", **fields):
    if "region_id" in fields:
        fields["region"] = Region.objects.get(pk=fields.pop("region_id"))
    if "industry_id" in fields:
        fields["industry"] = Industry.objects.get(pk=fields.pop("industry_id"))
    return services.create_listing(
        actor=fields.pop("actor", world.staff),
        enterprise=enterprise or world.e1,
        direction=direction,
        category=category,
        title=title,
        valid_until=fields.pop("valid_until", FUTURE),
        **fields,
    )


def form_data(**overrides):
    data = {
        "direction": "offer",
        "category": "material",
        "title": "供应医用外科口罩",
        "description": "日产十万只，符合YY0469标准",
        "industry_code": "",
        "region_code": "110105",
        "service_area": "全国发货",
        "quantity": "100000",
        "unit": "只",
        "price_min": "0.5",
        "price_max": "0.8",
        "price_text": "",
        "valid_until": FUTURE.isoformat(),
        "contact_person": "",
        "contact_visibility": "matched",
        "action": "submit",
    }
    data.update(overrides)
    return data


@pytest.fixture
def contact2(world):
    """An enterprise contact of e2 (chamber C2)."""
    return make_user("contact2", Role.ENTERPRISE_CONTACT, enterprise=world.e2)


@pytest.fixture
def secretary2(world):
    """The secretary of chamber C2."""
    return make_user("secretary2", Role.CHAMBER_SECRETARY, organization=world.chamber2)


# --- every page renders -----------------------------------------------------------------


def test_each_page_renders_for_staff(client, world):
    need = make_listing(world, publish=True)
    offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应一次性口罩", publish=True)
    match = services.introduce(actor=world.staff, need=need, offer=offer)
    board = services.open_emergency_board(actor=world.staff, name="口罩应急对接", category="material", keywords="口罩")
    client.force_login(world.staff)
    pages = [
        (reverse("exchange:board"), "求购医用口罩"),
        (reverse("exchange:mine"), "供应一次性口罩"),
        (reverse("exchange:listing_create"), "温州鞋业（北京）有限公司"),
        (reverse("exchange:review"), "review"),
        (reverse("exchange:listing", args=[need.pk]), "求购医用口罩"),
        (reverse("exchange:listing_edit", args=[need.pk]), "求购医用口罩"),
        (reverse("exchange:matches"), "供应一次性口罩"),
        (reverse("exchange:match", args=[match.pk]), "温州鞋业（北京）有限公司"),
        (reverse("exchange:introduce"), "求购医用口罩"),
        (reverse("exchange:emergency"), "口罩应急对接"),
        (reverse("exchange:emergency_board", args=[board.pk]), "求购医用口罩"),
        (reverse("core:notifications"), "notifications"),
        (reverse("exchange:stats"), 'data-testid="deal-count">0<'),
    ]
    for url, expected in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        assert '<html lang="zh-hans">' in content
        assert expected in content or expected in url, url


def test_nav_links_to_the_board_and_shows_the_unread_badge(client, world):
    CoreNotification.objects.create(user=world.contact, kind="exchange.match.suggested", title="新的匹配")
    client.force_login(world.contact)
    content = client.get(reverse("core:home")).content.decode()
    assert 'data-testid="nav-exchange"' in content
    assert reverse("exchange:board") in content
    assert 'data-testid="unread-count">1<' in content


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), [("staff", 200), ("secretary", 200), ("contact2", 404), ("outsider", 404)]
)
def test_a_draft_is_seen_only_by_its_side_and_scope(client, world, contact2, persona, status):
    draft = make_listing(world, actor=world.contact)
    user = contact2 if persona == "contact2" else getattr(world, persona)
    client.force_login(user)
    assert client.get(reverse("exchange:listing", args=[draft.pk])).status_code == status


def test_anonymous_users_are_sent_to_log_in(client, world):
    response = client.get(reverse("exchange:board"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_account_without_role_sees_no_board(client, world):
    make_listing(world, publish=True)
    client.force_login(world.outsider)
    response = client.get(reverse("exchange:board"))
    assert response.status_code == 403
    assert 'data-testid="error-page"' in response.content.decode()  # the site's own page, in Chinese


def test_another_chambers_secretary_cannot_review(client, world, secretary2):
    pending = make_listing(world, actor=world.contact, submit=True)  # e1 in C1
    client.force_login(secretary2)
    assert client.get(reverse("exchange:review")).context["listings"] == []
    response = client.post(reverse("exchange:listing_status", args=[pending.pk]), {"to": "published"})
    assert response.status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_the_chambers_secretary_reviews_from_the_queue(client, world):
    pending = make_listing(world, actor=world.contact, submit=True)
    returned = make_listing(world, actor=world.contact, title="求购防护服", submit=True)
    client.force_login(world.secretary)
    response = client.get(reverse("exchange:review"))
    assert [listing.pk for listing in response.context["listings"]] == [pending.pk, returned.pk]

    client.post(reverse("exchange:listing_status", args=[pending.pk]), {"to": "published", "next": "/exchange/review/"})
    client.post(reverse("exchange:listing_status", args=[returned.pk]), {"to": "rejected", "note": "请补充规格"})

    pending.refresh_from_db()
    returned.refresh_from_db()
    assert (pending.status, returned.status, returned.review_note) == ("published", "rejected", "请补充规格")


def test_the_poster_is_told_of_each_review_decision_and_a_return_needs_a_reason(client, world):
    pending = make_listing(world, actor=world.contact, submit=True)
    returned = make_listing(world, actor=world.contact, title="求购防护服", submit=True)
    client.force_login(world.secretary)
    no_reason = client.post(reverse("exchange:listing_status", args=[returned.pk]), {"to": "rejected", "note": ""})
    assert no_reason.status_code in (200, 302)
    returned.refresh_from_db()
    assert returned.status == "pending"  # refused without a reason
    client.post(reverse("exchange:listing_status", args=[pending.pk]), {"to": "published"})
    client.post(reverse("exchange:listing_status", args=[returned.pk]), {"to": "rejected", "note": "请补充规格"})
    told = CoreNotification.objects.filter(user=world.contact).order_by("id")
    kinds = [n.kind for n in told]
    assert "exchange.listing.published" in kinds and "exchange.listing.rejected" in kinds
    rejected = told.get(kind="exchange.listing.rejected")
    assert "请补充规格" in str(rejected.body) or "请补充规格" in str(rejected.params)


def test_an_enterprise_contact_cannot_publish_its_own_listing(client, world):
    pending = make_listing(world, actor=world.contact, submit=True)
    client.force_login(world.contact)
    response = client.post(reverse("exchange:listing_status", args=[pending.pk]), {"to": "published"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_contact_submits_withdraws_and_closes_through_the_buttons(client, world):
    draft = make_listing(world, actor=world.contact)
    client.force_login(world.contact)
    page = client.get(reverse("exchange:listing", args=[draft.pk]))
    assert [a["to"] for a in page.context["actions"]] == ["pending", "closed"]  # no publish button for the poster
    client.post(reverse("exchange:listing_status", args=[draft.pk]), {"to": "pending"})
    page = client.get(reverse("exchange:listing", args=[draft.pk]))
    assert [a["to"] for a in page.context["actions"]] == ["draft", "closed"]
    client.post(reverse("exchange:listing_status", args=[draft.pk]), {"to": "closed"})
    draft.refresh_from_db()
    assert draft.status == "closed"
    assert list(draft.history.values_list("to_status", flat=True)) == ["draft", "pending", "closed"]


def test_matches_of_a_listing_are_for_its_side_and_staff_only(client, world, contact2):
    listing = make_listing(world, publish=True)
    client.force_login(contact2)
    assert client.get(reverse("exchange:listing_matches", args=[listing.pk])).status_code == 403
    page = client.get(reverse("exchange:listing", args=[listing.pk]))
    assert page.status_code == 200 and page.context["may_see_matches"] is False


# --- board ------------------------------------------------------------------------------


@pytest.fixture
def board_listings(world):
    return {
        "mask": make_listing(world, title="求购醫用口罩", description="<p>急需ＫＮ９５口罩</p>", publish=True,
                             region_id="110105", is_urgent=True),
        "loan": make_listing(world, enterprise=world.e2, direction="offer", category="capital",
                             title="小微企业融资租赁服务", publish=True, region_id="330302"),
        "rubber": make_listing(world, enterprise=world.e3, direction="offer", title="供应丁苯橡胶", publish=True,
                               industry_id="2651"),
        "draft": make_listing(world, title="求购口罩（草稿）"),
    }  # fmt: skip


def _board(client, **params):
    response = client.get(reverse("exchange:board"), params)
    assert response.status_code == 200
    return [listing.title for listing in response.context["listings"]]


def test_board_shows_published_listings_urgent_first(client, world, board_listings):
    client.force_login(world.contact)
    titles = _board(client)
    assert titles[0] == "求购醫用口罩"
    assert set(titles) == {"求购醫用口罩", "小微企业融资租赁服务", "供应丁苯橡胶"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "口罩"}, ["求购醫用口罩"]),
        ({"q": "醫用口罩"}, ["求购醫用口罩"]),
        ({"q": "融资"}, ["小微企业融资租赁服务"]),
        ({"q": "钢材"}, []),
        ({"direction": "offer", "category": "capital"}, ["小微企业融资租赁服务"]),
        ({"urgent": "1"}, ["求购醫用口罩"]),
        ({"region": "330000"}, ["小微企业融资租赁服务"]),
        ({"industry": "C"}, ["供应丁苯橡胶"]),
        ({"industry": "265"}, ["供应丁苯橡胶"]),
    ],
)
def test_board_filters_and_search(client, world, board_listings, params, expected):
    client.force_login(world.staff)
    assert sorted(_board(client, **params)) == sorted(expected)


def test_board_filters_by_organisation(client, world, board_listings):
    client.force_login(world.staff)
    assert _board(client, organization=world.chamber2.pk) == ["小微企业融资租赁服务"]


def test_board_answers_htmx_with_the_results_only(client, world, board_listings):
    client.force_login(world.contact)
    response = client.get(reverse("exchange:board"), {"q": "口罩"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "<html" not in content and "求购醫用口罩" in content
    assert response["Vary"] and "HX-Request" in response["Vary"]


# --- contact visibility -------------------------------------------------------------------

WANG_MOBILE = "13987654321"  # primary contact of e2 (C2)
ZHANG_MOBILE = "13812345678"  # primary contact of e1 (C1)


def _shows(client, listing, mobile):
    content = client.get(reverse("exchange:listing", args=[listing.pk])).content.decode()
    return mobile in content


def test_public_contact_is_shown_to_every_signed_in_member(client, world):
    offer = make_listing(world, enterprise=world.e2, direction="offer", publish=True, contact_visibility="public")
    client.force_login(world.contact)
    assert _shows(client, offer, WANG_MOBILE)


@pytest.mark.parametrize(
    ("persona", "shown"), [("staff", True), ("secretary", True), ("convenor", False), ("contact2", False)]
)
def test_members_contact_is_shown_within_the_enterprises_organisations(client, world, contact2, persona, shown):
    need = make_listing(world, publish=True, contact_visibility="members")  # e1, a member of C1
    client.force_login(contact2 if persona == "contact2" else getattr(world, persona))
    assert _shows(client, need, ZHANG_MOBILE) is shown


def test_matched_contact_is_shown_once_both_sides_agreed_to_talk(client, world, contact2):
    offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应口罩", publish=True)
    need = make_listing(world, publish=True)
    client.force_login(world.contact)
    response = client.get(reverse("exchange:listing", args=[offer.pk]))
    assert WANG_MOBILE not in response.content.decode()
    assert 'data-testid="contact-hidden"' in response.content.decode()

    match = services.introduce(actor=world.staff, need=need, offer=offer)
    assert not _shows(client, offer, WANG_MOBILE)  # an introduction or a suggestion alone reveals nothing
    services.agree_to_talk(actor=world.contact, match=match)
    assert not _shows(client, offer, WANG_MOBILE)
    services.agree_to_talk(actor=contact2, match=match)

    assert _shows(client, offer, WANG_MOBILE)


def test_a_declined_match_does_not_reveal_the_contact(client, world):
    offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应口罩", publish=True)
    need = make_listing(world, publish=True)
    match = services.introduce(actor=world.staff, need=need, offer=offer)
    services.decline_match(actor=world.staff, match=match, reason="价格不合适")
    client.force_login(world.contact)
    assert not _shows(client, offer, WANG_MOBILE)


def test_board_cards_follow_the_same_rules(client, world, contact2):
    make_listing(world, enterprise=world.e2, direction="offer", publish=True, contact_visibility="public")
    make_listing(world, enterprise=world.e2, direction="offer", title="供应防护服", publish=True)
    client.force_login(world.contact)
    response = client.get(reverse("exchange:board"))
    visible = {listing.title: listing.contact_visible for listing in response.context["listings"]}
    assert visible == {"求购医用口罩": True, "供应防护服": False}


# --- create and edit ------------------------------------------------------------------------


def test_contact_posts_an_offer_for_review(client, world):
    person = Person.objects.get(name="张建利")
    client.force_login(world.contact)
    response = client.post(reverse("exchange:listing_create"), form_data(contact_person=person.pk))
    assert response.status_code == 302, response.context["form"].errors
    listing = Listing.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exchange:listing", args=[listing.pk])
    assert (listing.enterprise, listing.status, listing.contact_person) == (world.e1, "pending", person)
    assert (listing.price_min, listing.price_max, listing.region_id) == (Decimal("0.5"), Decimal("0.8"), "110105")


def test_staff_post_for_an_enterprise_they_serve_and_publish_directly(client, world):
    client.force_login(world.secretary)
    page = client.get(reverse("exchange:listing_create"))
    assert page.context["may_publish"] is True
    assert list(page.context["form"].fields["enterprise"].queryset) == [world.e1]  # only C1's members
    client.post(reverse("exchange:listing_create"), form_data(enterprise=world.e1.pk, action="publish"))
    assert Listing.objects.get().status == "published"


def test_a_contact_cannot_publish_by_forging_the_button(client, world):
    client.force_login(world.contact)
    client.post(reverse("exchange:listing_create"), form_data(action="publish"))
    assert Listing.objects.get().status == "draft"


def test_a_contact_cannot_post_for_another_enterprise(client, world):
    client.force_login(world.contact)
    response = client.post(reverse("exchange:listing_create"), form_data(enterprise=world.e2.pk))
    assert response.status_code == 200
    assert "enterprise" in response.context["form"].errors
    assert Listing.objects.count() == 0


def test_an_account_without_enterprises_cannot_post(client, world):
    client.force_login(world.provider)
    assert client.get(reverse("exchange:listing_create")).status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"price_min": "100", "price_max": "10"}, "price_max"),
        ({"title": ""}, "title"),
        ({"industry_code": "9999"}, "industry_code"),
        ({"region_code": "999999"}, "region_code"),
        ({"quantity": "-3"}, "quantity"),
    ],
)
def test_bad_input_shows_the_error_and_writes_nothing(client, world, overrides, field):
    client.force_login(world.contact)
    response = client.post(reverse("exchange:listing_create"), form_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert Listing.objects.count() == 0


def test_contact_person_of_another_enterprise_is_refused(client, world):
    stranger = Person.objects.get(name="王小明")  # works for e2
    client.force_login(world.staff)
    response = client.post(
        reverse("exchange:listing_create"), form_data(enterprise=world.e1.pk, contact_person=stranger.pk)
    )
    assert "contact_person" in response.context["form"].errors
    assert Listing.objects.count() == 0


def test_editing_a_published_listing_sends_it_back_to_review(client, world):
    listing = make_listing(world, direction="offer", title="供应医用外科口罩", publish=True, region_id="110105")
    client.force_login(world.contact)
    page = client.get(reverse("exchange:listing_edit", args=[listing.pk]))
    assert page.context["form"].initial["title"] == "供应医用外科口罩"
    data = form_data(title="供应医用外科口罩（现货）")
    response = client.post(reverse("exchange:listing_edit", args=[listing.pk]), data)
    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.title, listing.status) == ("供应医用外科口罩（现货）", "pending")


def test_editing_another_enterprises_listing_is_forbidden(client, world, contact2):
    listing = make_listing(world, publish=True)
    client.force_login(contact2)
    assert client.get(reverse("exchange:listing_edit", args=[listing.pk])).status_code == 403


# --- attachments ------------------------------------------------------------------------------


def test_a_pdf_is_attached(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    listing = make_listing(world, actor=world.contact)
    client.force_login(world.contact)
    upload = SimpleUploadedFile(
        "规格书.pdf", hostile_files.find("brochure.pdf").content, content_type="application/pdf"
    )
    client.post(reverse("exchange:attachment_upload", args=[listing.pk]), {"file": upload})
    assert list(listing.attachments.values_list("name", flat=True)) == ["规格书.pdf"]
    assert "规格书.pdf" in client.get(reverse("exchange:listing", args=[listing.pk])).content.decode()


@pytest.mark.parametrize(
    ("name", "content", "said"), [("virus.exe", b"MZ\x90\x00", ".exe"), ("fake.pdf", b"<html>", "PDF")]
)
def test_a_wrong_attachment_type_shows_the_error_and_writes_nothing(
    client, world, settings, tmp_path, name, content, said
):
    settings.MEDIA_ROOT = tmp_path
    listing = make_listing(world, actor=world.contact)
    client.force_login(world.contact)
    response = client.post(
        reverse("exchange:attachment_upload", args=[listing.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )
    assert ListingAttachment.objects.count() == 0
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1
    assert said in errors[0]


def test_others_cannot_attach(client, world, contact2, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    listing = make_listing(world, publish=True)
    client.force_login(contact2)
    upload = SimpleUploadedFile("a.pdf", b"%PDF-1.4")
    assert client.post(reverse("exchange:attachment_upload", args=[listing.pk]), {"file": upload}).status_code == 403


# --- matches ----------------------------------------------------------------------------------


@pytest.fixture
def pair(world):
    need = make_listing(world, publish=True)
    offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应一次性医用口罩", publish=True)
    match = Match.objects.create(
        need=need, offer=offer, score=0.72, reasons=[{"code": "shared_terms", "terms": ["口罩", "医用"]}]
    )
    return need, offer, match


def _move(client, match, **data):
    return client.post(reverse("exchange:match_status", args=[match.pk]), data)


def _post(client, name, match, **data):
    return client.post(reverse(f"exchange:{name}", args=[match.pk]), data)


def _kinds(user):
    return list(CoreNotification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def test_asking_to_talk_tells_the_other_side_and_hides_contacts_until_both_agree(client, world, pair, contact2):
    _need, _offer, match = pair
    client.force_login(world.contact)
    page = client.get(reverse("exchange:match", args=[match.pk]))
    assert page.context["side"] == "need" and page.context["is_party"] is True
    assert [r.code for r in page.context["reasons"]] == ["shared_terms"]

    assert _post(client, "match_talk", match).status_code == 302
    match.refresh_from_db()
    assert (match.status, match.need_agreed_at is not None, match.offer_agreed_at) == ("contacted", True, None)
    assert _kinds(contact2) == ["exchange.match.contacted"]
    assert WANG_MOBILE not in client.get(reverse("exchange:match", args=[match.pk])).content.decode()

    client.force_login(contact2)
    assert _post(client, "match_talk", match).status_code == 302
    match.refresh_from_db()
    assert match.status == "in_talks"
    assert _kinds(world.contact) == ["exchange.match.in_talks"]
    content = client.get(reverse("exchange:match", args=[match.pk])).content.decode()
    assert "13812345678" in content  # the need side's contact, now shown to the offer side
    assert AuditLog.objects.filter(action="exchange.match.contact_revealed", actor=contact2).exists()
    assert list(match.history.values_list("to_status", flat=True)) == ["contacted", "in_talks"]


def test_messages_reach_the_other_side_and_writing_is_agreeing(client, world, pair, contact2):
    _need, _offer, match = pair
    client.force_login(contact2)
    response = _post(client, "match_message", match, body="您好，口罩现货充足，可以详谈。")
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.status == "contacted" and match.offer_agreed_at is not None
    assert "exchange.match.message" in _kinds(world.contact)
    client.force_login(world.contact)
    page = client.get(reverse("exchange:match", args=[match.pk]))
    bodies = [message.body for message in page.context["messages_list"] if message.kind == "text"]
    assert bodies == ["您好，口罩现货充足，可以详谈。"]
    assert _post(client, "match_message", match, body="   ").status_code == 400
    assert MatchMessage.objects.filter(match=match, kind="text").count() == 1


def _talking(client, world, match, contact2):
    for user in (world.contact, contact2):
        client.force_login(user)
        _post(client, "match_talk", match)
    match.refresh_from_db()
    assert match.status == "in_talks"


def test_a_deal_counts_once_the_other_side_confirms_it(client, world, pair, contact2):
    _need, _offer, match = pair
    _talking(client, world, match, contact2)
    client.force_login(world.contact)
    today = datetime.date.today().isoformat()
    assert (
        _post(client, "match_propose", match, deal_amount="12.5", amount_unit="wan", deal_date=today).status_code == 302
    )
    match.refresh_from_db()
    assert (match.status, match.proposed_side, match.proposed_amount) == ("in_talks", "need", Decimal("125000.00"))
    assert client.get(reverse("exchange:stats")).context["stats"].count == 0
    client.cookies["django_language"] = "en"
    refused = client.post(reverse("exchange:match_confirm", args=[match.pk]), follow=True)  # not the proposer
    assert refused.redirect_chain == [(reverse("exchange:match", args=[match.pk]), 302)]
    assert [str(m) for m in refused.context["messages"]] == ["The other side confirms a deal you proposed."]
    match.refresh_from_db()
    assert match.status == "in_talks" and match.confirmed_at is None
    assert "exchange.match.deal_proposed" in _kinds(contact2)

    client.force_login(contact2)
    assert _post(client, "match_confirm", match).status_code == 302
    match.refresh_from_db()
    assert (match.status, match.deal_amount, match.confirmed_by) == ("deal", Decimal("125000.00"), contact2)
    assert list(match.history.values_list("to_status", flat=True)) == ["contacted", "in_talks", "deal"]
    stats = client.get(reverse("exchange:stats")).context["stats"]
    assert (stats.count, stats.amount) == (1, Decimal("125000.00"))
    content = client.get(reverse("exchange:match", args=[match.pk])).content.decode()
    assert 'data-testid="deal-summary"' in content and "12.5" in content


def test_a_deal_in_yuan_is_proposed_as_given(client, world, pair, contact2):
    _need, _offer, match = pair
    _talking(client, world, match, contact2)
    _post(client, "match_propose", match, deal_amount="8800", amount_unit="yuan", deal_date=datetime.date.today())
    match.refresh_from_db()
    assert match.proposed_amount == Decimal("8800.00") and match.proposed_side == "offer"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount_unit": "wan", "deal_date": "2024-01-01"}, "deal_amount"),
        ({"deal_amount": "3", "amount_unit": "wan"}, "deal_date"),
        ({"deal_amount": "3", "amount_unit": "wan", "deal_date": "2999-01-01"}, "deal_date"),
        # 10 billion 万元 is past the 16-digit column after conversion: refused, never stored.
        ({"deal_amount": "10000000000", "amount_unit": "wan", "deal_date": "2024-01-01"}, "deal_amount"),
    ],
)
def test_bad_deal_proposals_show_the_error_and_change_nothing(client, world, pair, contact2, data, field):
    _need, _offer, match = pair
    _talking(client, world, match, contact2)
    response = _post(client, "match_propose", match, **data)
    assert response.status_code == 400
    assert field in response.context["deal_form"].errors
    assert f'data-testid="error-{field}"' in response.content.decode()
    match.refresh_from_db()
    assert (match.status, match.proposed_amount) == ("in_talks", None)
    assert client.get(reverse("exchange:matches")).status_code == 200
    assert client.get(reverse("exchange:match", args=[match.pk])).status_code == 200


def test_the_one_form_path_cannot_store_an_amount_past_its_column(client, world, pair, contact2):
    _need, _offer, match = pair
    _talking(client, world, match, contact2)
    response = _move(client, match, to_status="deal", deal_amount="10000000000", amount_unit="wan",
                     deal_date="2026-11-01")  # fmt: skip
    assert response.status_code == 400
    match.refresh_from_db()
    assert (match.status, match.proposed_amount, match.deal_amount) == ("in_talks", None, None)
    for user in (world.contact, contact2, world.staff):
        client.force_login(user)
        assert client.get(reverse("exchange:matches")).status_code == 200


def test_a_decline_needs_a_reason_and_tells_the_other_side(client, world, pair, contact2):
    _need, _offer, match = pair
    client.force_login(world.contact)
    assert _post(client, "match_decline", match, reason="  ").status_code == 400
    assert _post(client, "match_decline", match, reason="价格不合适").status_code == 302
    match.refresh_from_db()
    assert (match.status, match.declined_reason) == ("declined", "价格不合适")
    assert "exchange.match.declined" in _kinds(contact2)


def test_a_deal_cannot_be_proposed_before_both_agree(client, world, pair):
    _need, _offer, match = pair
    client.force_login(world.contact)
    response = _post(client, "match_propose", match, deal_amount="1", amount_unit="wan", deal_date="2024-01-01")
    assert response.status_code == 400 and response.context["deal_form"].non_field_errors()
    match.refresh_from_db()
    assert (match.status, match.proposed_side) == ("suggested", "")


@pytest.mark.parametrize(("persona", "status"), [("outsider", 404), ("secretary2", 404), ("convenor", 403),
                                                 ("staff", 403)])  # fmt: skip
def test_only_the_two_enterprises_talk(client, world, pair, secretary2, persona, status):
    _need, _offer, match = pair
    user = secretary2 if persona == "secretary2" else getattr(world, persona)
    if persona == "secretary2":  # secretary2 manages e2; make the match between e1 and e3 for that persona
        offer = make_listing(world, enterprise=world.e3, direction="offer", title="供应口罩", publish=True)
        match = Match.objects.create(need=match.need, offer=offer, score=0.5)
    client.force_login(user)
    assert _post(client, "match_talk", match).status_code == status
    match.refresh_from_db()
    assert match.status == "suggested"


def test_staff_who_manage_a_side_may_decline_and_write_but_not_sign(client, world, pair):
    _need, _offer, match = pair
    client.force_login(world.secretary)  # secretary of C1, e1's chamber
    assert _post(client, "match_message", match, body="请双方尽快对接。").status_code == 302
    message = MatchMessage.objects.get(match=match, kind="text")
    assert message.side == ""
    assert (
        _post(client, "match_propose", match, deal_amount="1", amount_unit="wan", deal_date="2024-01-01").status_code
        == 403
    )
    assert _post(client, "match_decline", match, reason="企业已停产").status_code == 302
    match.refresh_from_db()
    assert match.status == "declined"


def test_both_sides_see_their_matches_and_others_do_not(client, world, pair, contact2):
    _need, _offer, match = pair
    for user, expected in [(world.contact, [match.pk]), (contact2, [match.pk]), (world.staff, [match.pk])]:
        client.force_login(user)
        assert [m.pk for m in client.get(reverse("exchange:matches")).context["matches"]] == expected
    client.force_login(make_user("contact3", Role.ENTERPRISE_CONTACT, enterprise=world.e3))
    assert client.get(reverse("exchange:matches")).context["matches"] == []


def test_staff_introduce_a_need_and_an_offer(client, world):
    need = make_listing(world, publish=True)
    offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应口罩", publish=True)
    client.force_login(world.staff)
    response = client.post(reverse("exchange:introduce"), {"need": need.pk, "offer": offer.pk, "note": "会上介绍"})
    match = Match.objects.get()
    assert response["Location"] == reverse("exchange:match", args=[match.pk])
    assert match.introduced_by == world.staff
    assert [r.code for r in describe_all(match.reasons)] == ["introduced"]


def test_introducing_two_needs_shows_an_error(client, world):
    need = make_listing(world, publish=True)
    other = make_listing(world, enterprise=world.e2, publish=True)
    client.force_login(world.staff)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("exchange:introduce"), {"need": need.pk, "offer": other.pk})
    assert response.context["form"].non_field_errors() == ["Pick a published offer."]
    assert Match.objects.count() == 0


def test_enterprise_contacts_cannot_introduce(client, world):
    client.force_login(world.contact)
    assert client.get(reverse("exchange:introduce")).status_code == 403


def test_ranked_matches_with_reasons_and_contact(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        need = make_listing(world, title="求购一次性医用口罩", description="每月十万只", publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应一次性医用口罩",
                             description="日产十万只", publish=True)  # fmt: skip
    Match.objects.all().delete()  # contact must also work when no suggestion was stored for the pair
    client.force_login(world.contact)
    response = client.get(reverse("exchange:listing_matches", args=[need.pk]), headers={"HX-Request": "true"})
    rows = response.context["rows"]
    assert [row["listing"].pk for row in rows] == [offer.pk]
    assert 0 < rows[0]["score"] <= 1
    assert "shared_terms" in [reason.code for reason in rows[0]["reasons"]]
    assert 'data-testid="ranked-match"' in response.content.decode()

    response = client.post(reverse("exchange:listing_matches", args=[need.pk]), {"other": offer.pk})
    match = Match.objects.get(need=need, offer=offer)
    assert response["Location"] == reverse("exchange:match", args=[match.pk])
    assert match.status == "contacted" and match.score == pytest.approx(rows[0]["score"])
    assert match.need_agreed_at is not None and match.offer_agreed_at is None
    assert match.reasons  # the engine's reasons were stored with the pair


# --- emergency boards, notifications, stats -------------------------------------------------------


def test_staff_open_and_close_an_emergency_board(client, world):
    client.force_login(world.staff)
    response = client.post(
        reverse("exchange:emergency"),
        {"action": "open", "name": "口罩应急", "category": "material", "keywords": "口罩"},
    )
    board = EmergencyBoard.objects.get()
    assert response["Location"] == reverse("exchange:emergency_board", args=[board.pk])
    response = client.post(
        reverse("exchange:emergency"), {"action": "open", "name": "再开一个", "category": "material"}
    )
    assert response.context["form"].non_field_errors()
    client.post(reverse("exchange:emergency"), {"action": "close", "board": board.pk})
    board.refresh_from_db()
    assert board.is_active is False


def test_contacts_cannot_open_boards_but_declare_capacity(client, world):
    board = services.open_emergency_board(actor=world.staff, name="口罩应急", category="material")
    need = make_listing(world, enterprise=world.e2, publish=True, is_urgent=True)
    client.force_login(world.contact)
    assert client.post(reverse("exchange:emergency"), {"action": "open", "name": "x"}).status_code == 403
    page = client.get(reverse("exchange:emergency_board", args=[board.pk]))
    assert [n.pk for n in page.context["needs"]] == [need.pk] and page.context["is_staff_view"] is False
    client.post(
        reverse("exchange:emergency_board", args=[board.pk]),
        {"enterprise": world.e1.pk, "product": "医用口罩", "stock": "50000", "daily_capacity": "20000", "unit": "只"},
    )
    declaration = board.declarations.get()
    assert (declaration.enterprise, declaration.stock) == (world.e1, Decimal("50000"))


def test_the_live_board_answers_htmx_polling_with_the_partial(client, world):
    board = services.open_emergency_board(actor=world.staff, name="口罩应急", category="material")
    make_listing(world, publish=True, is_urgent=True)
    client.force_login(world.staff)
    response = client.get(reverse("exchange:emergency_board", args=[board.pk]), headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "<html" not in content and 'data-testid="urgent-need"' in content


def test_stats_count_confirmed_deals_within_scope(client, world, pair, secretary2, contact2):
    _need, _offer, match = pair
    services.agree_to_talk(actor=world.contact, match=match)
    services.agree_to_talk(actor=contact2, match=match)
    services.propose_deal(actor=world.contact, match=match, amount=Decimal("1234500"), date=datetime.date.today())
    services.confirm_deal(actor=contact2, match=match)
    client.force_login(world.secretary)
    response = client.get(reverse("exchange:stats"))
    stats = response.context["stats"]
    assert (stats.count, stats.amount) == (1, Decimal("1234500.00"))
    content = response.content.decode()
    assert 'data-testid="deal-count">1<' in content and "123.45" in content
    assert response.context["categories"][0]["count"] == 1

    client.force_login(make_user("contact3", Role.ENTERPRISE_CONTACT, enterprise=world.e3))
    assert client.get(reverse("exchange:stats")).context["stats"].count == 0


# --- reasons ------------------------------------------------------------------------------------


def test_reasons_become_chinese_sentences():
    reasons = [
        {"code": "same_city", "name": "北京市"},
        {"code": "shared_terms", "terms": ["口罩", "医用"]},
        {"code": "industry_chain", "upstream": "合成橡胶", "downstream": "轮胎制造"},
        {"code": "price_fit", "budget_min": 1, "budget_max": 2, "price_min": 1, "price_max": 1},
        {"code": "semantic", "similarity": 0.912},
        {"code": "serves_area", "area": "京津冀", "name": "北京市朝阳区"},
        {"code": "compatible_category", "need_category": "material", "offer_category": "service", "lift": "2.4"},
        {"code": "something_new"},
    ]
    with translation.override("en"):
        texts = describe_all(reasons)
    assert [t.code for t in texts] == [
        "shared_terms", "industry_chain", "serves_area", "compatible_category", "same_city", "price_fit", "semantic"
    ]  # fmt: skip
    assert texts[0].text == "Shared key words: 口罩, 医用"
    assert texts[1].text == "Supply chain: 合成橡胶 → 轮胎制造"
    assert texts[2].text == "Serves 京津冀, which includes 北京市朝阳区"
    assert texts[3].text.endswith("(2.4× as often as chance)")
    assert texts[5].text == "The budget (¥1–¥2) covers the price (¥1)"
    assert texts[6].text == "Similar description"
    with translation.override("zh-hans"):
        chinese = describe_all(reasons)
    assert all(not text.text.startswith(("Shared", "Serves", "Similar")) for text in chinese)


# --- query counts --------------------------------------------------------------------------------


def _queries(client, url):
    client.get(url)  # warm: a write since the last request may have made the cached scope stale
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _many(world, count, start=0):
    enterprises = [world.e1, world.e2, world.e3]
    for number in range(start, start + count):
        make_listing(world, enterprise=enterprises[number % 3], direction=("offer", "need")[number % 2],
                     title=f"供应口罩批次{number}", publish=True,
                     contact_visibility=("public", "members", "matched")[number % 3])  # fmt: skip


@pytest.mark.parametrize("persona", ["staff", "contact", "secretary"])
def test_board_query_count_does_not_grow_with_page_size(client, world, persona):
    client.force_login(getattr(world, persona))
    _many(world, 3)
    small = _queries(client, reverse("exchange:board"))
    _many(world, 15, start=100)
    large = _queries(client, reverse("exchange:board"))
    assert large == small


@pytest.mark.parametrize("name", ["exchange:mine", "exchange:matches", "exchange:review"])
def test_list_query_counts_do_not_grow(client, world, name):
    client.force_login(world.staff)

    def add(count, start):
        for number in range(start, start + count):
            need = make_listing(world, title=f"求购口罩{number}", publish=True)
            offer = make_listing(world, enterprise=world.e2, direction="offer", title=f"供应口罩{number}", publish=True)
            Match.objects.create(need=need, offer=offer, score=0.5)
            make_listing(world, title=f"待审{number}", submit=True)

    add(2, 0)
    small = _queries(client, reverse(name))
    add(8, 100)
    assert _queries(client, reverse(name)) == small


def test_each_urgent_need_on_a_board_shows_the_offers_that_fit_it_and_nothing_else(client, world):
    board = services.open_emergency_board(actor=world.staff, name="口罩应急", category="material")
    need = make_listing(world, enterprise=world.e2, publish=True, is_urgent=True, title="紧急求购KN95医用口罩",
                        description="医院急需KN95防护口罩五万只，要求符合GB2626标准")  # fmt: skip
    masks = make_listing(world, enterprise=world.e1, direction="offer", publish=True, title="供应KN95医用防护口罩",
                         description="现货KN95口罩十万只，符合GB2626标准，可当天发货")  # fmt: skip
    rebar = make_listing(world, enterprise=world.e3, direction="offer", publish=True, title="供应HRB400E螺纹钢",
                         description="现货螺纹钢两千吨，规格齐全，可配送到工地")  # fmt: skip
    client.force_login(world.staff)
    page = client.get(reverse("exchange:emergency_board", args=[board.pk]))
    [shown] = [n for n in page.context["needs"] if n.pk == need.pk]
    offered = [item["offer"].pk for item in shown.fitting]
    assert masks.pk in offered and rebar.pk not in offered
