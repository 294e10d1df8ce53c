"""Listings from draft to published, closed and expired; matches from suggestion to deal."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from conftest import make_user
from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.models import AuditLog, Notification
from qiaoliang.exchange import services
from qiaoliang.exchange.models import Listing, ListingStatusChange, Match
from qiaoliang.exchange.search import search_listings

pytestmark = pytest.mark.django_db


def make_listing(world, enterprise=None, direction="need", category="material", title="求购医用口罩", **fields):
    return services.create_listing(
        actor=fields.pop("actor", world.staff),
        enterprise=enterprise or world.e1,
        direction=direction,
        category=category,
        title=title,
        valid_until=fields.pop("valid_until", datetime.date.today() + datetime.timedelta(days=60)),
        **fields,
    )


def test_enterprise_contact_drafts_submits_and_the_chamber_publishes(world):
    listing = make_listing(world, actor=world.contact, description="每月需要十万只一次性医用口罩")
    assert listing.status == "draft"
    assert listing.organization == world.chamber1  # the enterprise's chamber reviews
    listing = services.transition_listing(actor=world.contact, listing=listing, to_status="pending")
    with pytest.raises(NotAllowedError):
        services.transition_listing(actor=world.contact, listing=listing, to_status="published")
    listing = services.transition_listing(actor=world.secretary, listing=listing, to_status="published")
    assert listing.status == "published" and listing.published_at is not None
    assert list(ListingStatusChange.objects.filter(listing=listing).values_list("to_status", flat=True)) == [
        "draft",
        "pending",
        "published",
    ]
    assert AuditLog.objects.filter(action="exchange.listing.published", actor=world.secretary).count() == 1


def test_another_chambers_secretary_cannot_review(world):
    listing = make_listing(world, enterprise=world.e2, actor=world.staff, submit=True)
    with pytest.raises(NotAllowedError):
        services.transition_listing(actor=world.secretary, listing=listing, to_status="published")


def test_a_listing_past_its_date_is_refused(world):
    with pytest.raises(DomainError) as excinfo:
        make_listing(world, valid_until=datetime.date(2020, 1, 1))
    assert excinfo.value.code == "valid_until"
    assert Listing.objects.count() == 0


def test_price_range_must_be_in_order(world):
    with pytest.raises(DomainError):
        make_listing(world, price_min=Decimal("100"), price_max=Decimal("10"))


def test_closed_is_final(world):
    listing = make_listing(world, publish=True)
    listing = services.transition_listing(actor=world.contact, listing=listing, to_status="closed")
    with pytest.raises(DomainError):
        services.transition_listing(actor=world.staff, listing=listing, to_status="published")


def test_expiry_runs_by_itself_and_is_idempotent(world):
    listing = make_listing(world, publish=True)
    Listing.objects.filter(pk=listing.pk).update(valid_until=datetime.date.today() - datetime.timedelta(days=1))
    assert services.expire_listings() == 1
    assert services.expire_listings() == 0
    listing.refresh_from_db()
    assert listing.status == "expired"


def test_enterprise_edit_of_a_published_listing_goes_back_to_review(world):
    listing = make_listing(world, publish=True)
    listing = services.update_listing(actor=world.contact, listing=listing, title="求购医用外科口罩")
    assert listing.status == "pending"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("virus.exe", b"MZ\x90\x00", "file_type"),
        ("fake.pdf", b"<html>", "file_type"),
        ("big.pdf", b"%PDF" + b"0" * (11 * 1024 * 1024), "file_size"),
    ],
)
def test_bad_attachments_are_refused(world, name, content, code):
    listing = make_listing(world)
    with pytest.raises(DomainError) as excinfo:
        services.add_attachment(actor=world.staff, listing=listing, upload=SimpleUploadedFile(name, content))
    assert excinfo.value.code == code
    assert listing.attachments.count() == 0


def test_full_text_search_finds_two_character_words_and_folds_traditional(world):
    mask = make_listing(world, title="求購醫用口罩", description="<p>急需ＫＮ９５口罩</p>", publish=True)
    loan = make_listing(world, enterprise=world.e2, direction="offer", category="capital",
                        title="小微企业融资租赁服务", publish=True)  # fmt: skip
    other = make_listing(world, enterprise=world.e3, direction="offer", title="供应丁苯橡胶", publish=True)
    everything = Listing.objects.all()
    assert list(search_listings(everything, "口罩")) == [mask]
    assert list(search_listings(everything, "融资")) == [loan]
    assert list(search_listings(everything, "醫用口罩")) == [mask]
    assert list(search_listings(everything, "kn95")) == [mask]
    assert set(search_listings(everything, "")) == {mask, loan, other}
    assert list(search_listings(everything, "钢材")) == []
    assert connection.vendor in {"sqlite", "postgresql"}


def test_match_workflow_to_a_confirmed_deal_with_history(world, django_capture_on_commit_callbacks):
    e2_contact = make_user("e2contact", Role.ENTERPRISE_CONTACT, enterprise=world.e2)
    with django_capture_on_commit_callbacks(execute=True):
        need = make_listing(world, publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应一次性医用口罩", publish=True)
    match = Match.objects.get(need=need, offer=offer)  # suggested by the engine on publication
    match = services.agree_to_talk(actor=world.contact, match=match)
    assert match.status == "contacted"
    with pytest.raises(DomainError):
        services.propose_deal(actor=world.contact, match=match, amount=Decimal("1"), date=datetime.date.today())
    match = services.agree_to_talk(actor=e2_contact, match=match)
    assert match.status == "in_talks"
    with pytest.raises(DomainError):
        services.propose_deal(actor=world.contact, match=match, amount=None, date=datetime.date.today())
    match = services.propose_deal(actor=world.contact, match=match, amount=Decimal("120000"),
                                  date=datetime.date.today())  # fmt: skip
    with pytest.raises(DomainError):
        services.confirm_deal(actor=world.contact, match=match)  # the proposer does not confirm
    match = services.confirm_deal(actor=e2_contact, match=match)
    assert (match.status, match.deal_amount) == ("deal", Decimal("120000"))
    assert list(match.history.values_list("to_status", flat=True)) == ["contacted", "in_talks", "deal"]
    with pytest.raises(NotAllowedError):
        services.decline_match(actor=world.outsider, match=match, reason="x")


def test_staff_cannot_agree_or_sign_for_an_enterprise(world):
    need = make_listing(world, publish=True)
    offer = make_listing(world, enterprise=world.e2, direction="offer", title="供应口罩", publish=True)
    match = services.introduce(actor=world.staff, need=need, offer=offer)
    with pytest.raises(NotAllowedError):
        services.agree_to_talk(actor=world.staff, match=match)
    with pytest.raises(NotAllowedError):
        services.propose_deal(actor=world.staff, match=match, amount=Decimal("1"), date=datetime.date.today())


def test_same_direction_cannot_be_matched(world):
    a = make_listing(world, publish=True)
    b = make_listing(world, enterprise=world.e2, publish=True)
    with pytest.raises(DomainError):
        services.introduce(actor=world.staff, need=a, offer=b)


def test_a_need_on_an_open_emergency_board_is_broadcast_to_fitting_offers(
    world, settings, django_capture_on_commit_callbacks
):
    settings.MATCH_NOTIFY_SCORE = 1.01  # no ordinary match would be notified
    e2_contact = world.outsider
    RoleAssignment.objects.create(user=e2_contact, role=Role.ENTERPRISE_CONTACT, enterprise=world.e2)
    services.open_emergency_board(actor=world.staff, name="抗疫物资产销对接", category="material", keywords="口罩")
    with django_capture_on_commit_callbacks(execute=True):
        make_listing(world, enterprise=world.e2, direction="offer", title="供应一次性医用口罩", publish=True)
    with django_capture_on_commit_callbacks(execute=True):
        need = make_listing(world, title="急需医用口罩十万只", publish=True)
    need.refresh_from_db()
    assert need.is_urgent is True
    match = Match.objects.get(need=need)
    for user in (e2_contact, world.contact):
        assert (
            Notification.objects.filter(user=user, kind="exchange.match.suggested", target_id=str(match.pk)).count()
            == 1
        )
