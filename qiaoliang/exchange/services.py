"""Writes for the resource exchange: listings and their lifecycle, matches and their workflow.

Status moves go through one function per model (`transition_listing`, `transition_match`) that locks
the row, checks the transition table, saves with `update_fields` and writes a history row and an audit
entry. Re-indexing and notifications are scheduled with `transaction.on_commit`.
"""

from __future__ import annotations

import datetime
import mimetypes
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, get_scope
from qiaoliang.exchange.models import (
    CapacityDeclaration,
    Category,
    Direction,
    EmergencyBoard,
    Listing,
    ListingAttachment,
    ListingStatusChange,
    Match,
    MatchStatusChange,
)
from qiaoliang.exchange.search import index_tokens
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person

S = Listing.Status
LISTING_TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.PENDING, S.PUBLISHED, S.CLOSED},
    S.PENDING: {S.PUBLISHED, S.REJECTED, S.DRAFT, S.CLOSED},
    S.REJECTED: {S.PENDING, S.DRAFT, S.CLOSED},
    S.PUBLISHED: {S.CLOSED, S.EXPIRED, S.PENDING},
    S.EXPIRED: {S.PENDING, S.PUBLISHED, S.CLOSED},
    S.CLOSED: set(),
}
# Moves the system makes (an edit sends a published listing back to review; the expiry command), never
# offered as a button and refused when asked for directly.
SYSTEM_MOVES = {(S.PUBLISHED, S.PENDING), (S.PUBLISHED, S.EXPIRED)}
# Moves that need the reviewer's right rather than the poster's.
REVIEW_MOVES = {(S.PENDING, S.PUBLISHED), (S.PENDING, S.REJECTED), (S.DRAFT, S.PUBLISHED), (S.EXPIRED, S.PUBLISHED)}

M = Match.Status
MATCH_TRANSITIONS: dict[str, set[str]] = {
    M.SUGGESTED: {M.CONTACTED, M.IN_TALKS, M.DECLINED},
    M.CONTACTED: {M.IN_TALKS, M.DEAL, M.DECLINED},
    M.IN_TALKS: {M.DEAL, M.DECLINED},
    M.DEAL: set(),
    M.DECLINED: set(),
}

LISTING_FIELDS = {
    "direction", "category", "title", "description", "industry", "region", "service_area", "quantity", "unit",
    "price_min", "price_max", "price_text", "valid_until", "contact_person", "contact_visibility", "is_urgent",
}  # fmt: skip

ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ATTACHMENT_MAGIC = {".pdf": b"%PDF", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".png": b"\x89PNG",
                    ".docx": b"PK\x03\x04", ".xlsx": b"PK\x03\x04"}  # fmt: skip
MAX_ATTACHMENTS = 5


def can_transition_listing(listing: Listing, to_status: str) -> bool:
    """Tell whether a user may ask for the move (templates ask this before showing a button)."""
    return to_status in LISTING_TRANSITIONS.get(listing.status, set()) and (
        (listing.status, to_status) not in SYSTEM_MOVES
    )


def can_transition_match(match: Match, to_status: str) -> bool:
    """Tell whether the table allows the match move."""
    return to_status in MATCH_TRANSITIONS.get(match.status, set())


def _search_tokens(listing: Listing) -> str:
    return index_tokens(f"{listing.title} {listing.description}")


def _validate(listing: Listing, *, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    if not listing.title.strip():
        raise DomainError(_("A listing needs a title."), code="title")
    if listing.direction not in Direction.values:
        raise DomainError(_("Choose offer or need."), code="direction")
    if listing.category not in Category.values:
        raise DomainError(_("Unknown listing category."), code="category")
    if listing.valid_until is None:
        raise DomainError(_("Say until when the listing is valid."), code="valid_until")
    if listing.valid_until < today:
        raise DomainError(
            _("The listing expired on %(date)s; choose a date from today on.") % {"date": listing.valid_until},
            code="expired",
        )
    if listing.valid_until > today + datetime.timedelta(days=366 * 2):
        raise DomainError(_("A listing can be valid for two years at the most."), code="valid_until")
    for name in ("quantity", "price_min", "price_max"):
        value = getattr(listing, name)
        if value is not None and Decimal(value) < 0:
            raise DomainError(_("Quantities and prices cannot be negative."), code=name)
    if listing.price_min is not None and listing.price_max is not None and listing.price_max < listing.price_min:
        raise DomainError(_("The upper price or budget is below the lower one."), code="price")
    if (
        listing.contact_person_id
        and listing.contact_person
        and listing.contact_person.enterprise_id != listing.enterprise_id
    ):
        raise DomainError(_("The contact person must work for the enterprise."), code="contact_person")


def default_reviewing_organization(enterprise: Enterprise) -> Organization:
    """Return the organisation that reviews an enterprise's listings: its deepest active membership."""
    membership = (
        Membership.objects.filter(enterprise=enterprise, status=Membership.Status.ACTIVE)
        .select_related("organization")
        .order_by("-organization__depth", "organization__path")
        .first()
    )
    if membership is None:
        raise DomainError(_("The enterprise is not an active member of any organisation."), code="membership")
    return membership.organization


def _history(listing: Listing, from_status: str, to_status: str, actor: Any, note: str = "") -> None:
    ListingStatusChange.objects.create(
        listing=listing, from_status=from_status, to_status=to_status, actor=_user(actor), note=note[:300]
    )


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _schedule_index(listing_id: int) -> None:
    from qiaoliang.exchange.tasks import index_listing

    transaction.on_commit(lambda: index_listing.enqueue(listing_id))


@transaction.atomic
def create_listing(
    *,
    actor: Any,
    enterprise: Enterprise,
    direction: str,
    category: str,
    title: str,
    valid_until: datetime.date,
    organization: Organization | None = None,
    submit: bool = False,
    publish: bool = False,
    external_id: str = "",
    **fields: Any,
) -> Listing:
    """Create a listing as a draft, submit it for review, or publish it when staff vouch for it."""
    unknown = set(fields) - LISTING_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    listing = Listing(
        enterprise=enterprise,
        organization=organization or default_reviewing_organization(enterprise),
        direction=direction,
        category=category,
        title=title.strip(),
        valid_until=valid_until,
        external_id=external_id.strip(),
        created_by=_user(actor),
        **fields,
    )
    _validate(listing)
    listing.search_tokens = _search_tokens(listing)
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as exc:
        raise DomainError(
            _("The enterprise already has a listing with external number %(number)s.") % {"number": external_id},
            code="external_id",
        ) from exc
    _history(listing, "", S.DRAFT, actor)
    audit.record(
        "exchange.listing.created",
        actor=actor,
        target=listing,
        organization_id=listing.organization_id,
        data={"direction": direction, "category": category, "enterprise": enterprise.pk},
    )
    if publish:
        listing = transition_listing(actor=actor, listing=listing, to_status=S.PUBLISHED, check_permission=False)
    elif submit:
        listing = transition_listing(actor=actor, listing=listing, to_status=S.PENDING, check_permission=False)
    return listing


@transaction.atomic
def update_listing(*, actor: Any, listing: Listing, **changes: Any) -> Listing:
    """Change a listing; an enterprise's edit of a published listing goes back to review."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.status in {S.CLOSED}:
        raise DomainError(_("A closed listing cannot be changed."), code="closed")
    unknown = set(changes) - LISTING_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(listing, name)
        if old != value:
            diff[name] = [str(old), str(value)]
            setattr(listing, name, value)
    if not diff:
        return listing
    _validate(listing)
    listing.search_tokens = _search_tokens(listing)
    listing.save(update_fields=[*diff, "search_tokens", "updated_at"])
    audit.record(
        "exchange.listing.updated", actor=actor, target=listing, organization_id=listing.organization_id, data=diff
    )
    if listing.status == S.PUBLISHED and not get_scope(actor).is_all and not _is_reviewer(actor, listing):
        listing = transition_listing(
            actor=actor, listing=listing, to_status=S.PENDING, note=_("Changed after publication"),
            check_permission=False,
        )  # fmt: skip
    else:
        _schedule_index(listing.pk)
    return listing


def _is_reviewer(actor: Any, listing: Listing) -> bool:
    return Listing.objects.for_user(actor, "review").filter(pk=listing.pk).exists()


@transaction.atomic
def transition_listing(
    *, actor: Any, listing: Listing, to_status: str, note: str = "", check_permission: bool = True
) -> Listing:
    """Move a listing to another status: lock, check the table and the actor's right, save, record."""
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    from_status = listing.status
    if to_status not in LISTING_TRANSITIONS.get(from_status, set()):
        raise DomainError(
            _("A listing that is %(from)s cannot become %(to)s.")
            % {"from": listing.get_status_display(), "to": S(to_status).label},
            code="transition",
        )
    if check_permission:
        if (from_status, to_status) in SYSTEM_MOVES:
            raise DomainError(
                _("A listing that is %(from)s cannot become %(to)s.")
                % {"from": listing.get_status_display(), "to": S(to_status).label},
                code="transition",
            )
        needs_review_right = (from_status, to_status) in REVIEW_MOVES
        allowed = _is_reviewer(actor, listing) if needs_review_right else (
            Listing.objects.for_user(actor, CHANGE).filter(pk=listing.pk).exists() or _is_reviewer(actor, listing)
        )  # fmt: skip
        if not allowed:
            raise NotAllowedError(_("You may not do this to the listing."), code="forbidden")
    if to_status in {S.PUBLISHED, S.PENDING}:
        _validate(listing)  # e.g. an expired listing must get a new date before it goes back up
    now = timezone.now()
    listing.status = to_status
    update_fields = ["status", "updated_at"]
    if to_status == S.PUBLISHED:
        listing.published_at = now
        listing.review_note = ""
        update_fields += ["published_at", "review_note"]
    if to_status == S.REJECTED:
        listing.review_note = note[:300]
        update_fields.append("review_note")
    if to_status in {S.CLOSED, S.EXPIRED}:
        listing.closed_at = now
        update_fields.append("closed_at")
    listing.save(update_fields=update_fields)
    _history(listing, from_status, to_status, actor, note)
    audit.record(
        f"exchange.listing.{to_status}",
        actor=actor,
        target=listing,
        organization_id=listing.organization_id,
        data={"from": from_status, "note": note},
    )
    _schedule_index(listing.pk)
    return listing


def expire_listings(*, today: datetime.date | None = None, batch_size: int = 500) -> int:
    """Move published listings past their date to expired (idempotent; run it daily or more often)."""
    today = today or timezone.localdate()
    expired = 0
    while True:
        ids = list(
            Listing.objects.filter(status=S.PUBLISHED, valid_until__lt=today).values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return expired
        for listing_id in ids:
            with transaction.atomic():
                listing = Listing.objects.select_for_update().get(pk=listing_id)
                # Claim with a conditional update: a concurrent run or a manual close wins cleanly.
                if not Listing.objects.filter(pk=listing_id, status=S.PUBLISHED).update(
                    status=S.EXPIRED, closed_at=timezone.now(), updated_at=timezone.now()
                ):
                    continue
                _history(listing, S.PUBLISHED, S.EXPIRED, None, "valid_until passed")
                audit.record("exchange.listing.expired", target=listing, organization_id=listing.organization_id)
                _schedule_index(listing_id)
                expired += 1


# --- attachments -----------------------------------------------------------------


@transaction.atomic
def add_attachment(*, actor: Any, listing: Listing, upload: UploadedFile) -> ListingAttachment:
    """Attach a file after checking its type (extension and content) and size."""
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise DomainError(
            _("Files of type %(type)s cannot be attached; use PDF, JPG, PNG, DOCX or XLSX.")
            % {"type": extension or "?"},
            code="attachment_type",
        )
    limit = getattr(settings, "LISTING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    if upload.size is None or upload.size > limit:
        raise DomainError(
            _("The file is larger than %(size)d MB.") % {"size": limit // (1024 * 1024)}, code="attachment_size"
        )
    head = upload.read(8)
    upload.seek(0)
    if not head.startswith(ATTACHMENT_MAGIC[extension]):
        raise DomainError(_("The file's content does not match its type %(type)s.") % {"type": extension},
                          code="attachment_type")  # fmt: skip
    if listing.attachments.count() >= MAX_ATTACHMENTS:
        raise DomainError(_("A listing can have %(count)d attachments at the most.") % {"count": MAX_ATTACHMENTS})
    attachment = ListingAttachment(
        listing=listing,
        name=name,
        size=upload.size,
        content_type=ATTACHMENT_TYPES[extension] or mimetypes.guess_type(name)[0] or "",
        uploaded_by=_user(actor),
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit.record("exchange.attachment.added", actor=actor, target=listing, data={"name": name, "size": upload.size})
    return attachment


# --- matches -------------------------------------------------------------------------


def _pair(a: Listing, b: Listing) -> tuple[Listing, Listing]:
    if a.direction == b.direction:
        raise DomainError(_("An offer can only be matched with a need."), code="direction")
    return (a, b) if a.direction == "need" else (b, a)


@transaction.atomic
def record_suggestions(*, listing: Listing, results: list[tuple[Listing, float, list[dict[str, Any]]]]) -> list[Match]:
    """Store the engine's suggestions for a listing; keep the status of matches already under way."""
    created: list[Match] = []
    for other, score, reasons in results:
        need, offer = _pair(listing, other)
        match, was_created = Match.objects.get_or_create(
            need=need, offer=offer, defaults={"score": score, "reasons": reasons}
        )
        if was_created:
            created.append(match)
        elif match.status == M.SUGGESTED and (abs(match.score - score) > 1e-6 or match.reasons != reasons):
            Match.objects.filter(pk=match.pk).update(score=score, reasons=reasons, updated_at=timezone.now())
    return created


@transaction.atomic
def introduce(*, actor: Any, need: Listing, offer: Listing, note: str = "") -> Match:
    """Let staff introduce two enterprises by hand: a match they vouch for, both sides notified."""
    need, offer = _pair(need, offer)
    if need.enterprise_id == offer.enterprise_id:
        raise DomainError(_("An enterprise cannot be matched with itself."), code="same_enterprise")
    scope = get_scope(actor)
    if not scope.is_all and not (Listing.objects.for_user(actor, "review").filter(pk__in=[need.pk, offer.pk]).exists()):
        raise NotAllowedError(_("Only staff who serve one of the enterprises may introduce them."))
    match, created = Match.objects.get_or_create(
        need=need, offer=offer, defaults={"score": 1.0, "reasons": [{"code": "introduced"}], "introduced_by": actor}
    )
    if not created and match.introduced_by_id is None:
        Match.objects.filter(pk=match.pk).update(introduced_by=actor, updated_at=timezone.now())
    MatchStatusChange.objects.create(match=match, from_status="", to_status=match.status, actor=actor, note=note)
    audit.record("exchange.match.introduced", actor=actor, target=match, data={"need": need.pk, "offer": offer.pk})
    from qiaoliang.exchange.notifications import notify_match

    transaction.on_commit(lambda: notify_match(match.pk, reason="introduced"))
    return match


@transaction.atomic
def transition_match(
    *,
    actor: Any,
    match: Match,
    to_status: str,
    deal_amount: Decimal | None = None,
    deal_date: datetime.date | None = None,
    reason: str = "",
) -> Match:
    """Move a match along suggested → contacted → in talks → deal (amount, date) or declined (reason)."""
    match = Match.objects.select_for_update().get(pk=match.pk)
    if not Match.objects.for_user(actor, CHANGE).filter(pk=match.pk).exists():
        raise NotAllowedError(_("You may not change this match."), code="forbidden")
    from_status = match.status
    if to_status not in MATCH_TRANSITIONS.get(from_status, set()):
        raise DomainError(
            _("A match that is %(from)s cannot become %(to)s.")
            % {"from": match.get_status_display(), "to": M(to_status).label},
            code="transition",
        )
    update_fields = ["status", "updated_at"]
    if to_status == M.DEAL:
        if deal_amount is None or deal_amount <= 0:
            raise DomainError(_("Give the deal amount in yuan."), code="deal_amount")
        if deal_date is None:
            raise DomainError(_("Give the date of the deal."), code="deal_date")
        if deal_date > timezone.localdate():
            raise DomainError(_("The deal date cannot be in the future."), code="deal_date")
        match.deal_amount, match.deal_date = deal_amount, deal_date
        update_fields += ["deal_amount", "deal_date"]
    if to_status == M.DECLINED:
        if not reason.strip():
            raise DomainError(_("Say why the match was declined."), code="reason")
        match.declined_reason = reason.strip()[:300]
        update_fields.append("declined_reason")
    match.status = to_status
    match.save(update_fields=update_fields)
    MatchStatusChange.objects.create(
        match=match, from_status=from_status, to_status=to_status, actor=_user(actor), note=reason[:300]
    )
    audit.record(
        f"exchange.match.{to_status}",
        actor=actor,
        target=match,
        data={"from": from_status, "amount": str(deal_amount) if deal_amount else None},
    )
    return match


# --- emergency board -------------------------------------------------------------------


@transaction.atomic
def open_emergency_board(*, actor: Any, name: str, category: str, keywords: str = "") -> EmergencyBoard:
    """Turn a category into an urgent board (federation staff only)."""
    if not get_scope(actor).is_all:
        raise NotAllowedError(_("Only federation staff may open an emergency board."))
    if EmergencyBoard.objects.filter(category=category, is_active=True).exists():
        raise DomainError(_("An emergency board for this category is already open."), code="board_open")
    board = EmergencyBoard.objects.create(name=name.strip(), category=category, keywords=keywords.strip(),
                                          started_by=_user(actor))  # fmt: skip
    audit.record("exchange.board.opened", actor=actor, target=board, data={"category": category})
    Listing.objects.filter(category=category, status=S.PUBLISHED, direction="need").update(is_urgent=True)
    return board


@transaction.atomic
def close_emergency_board(*, actor: Any, board: EmergencyBoard) -> EmergencyBoard:
    """End an emergency board."""
    if not get_scope(actor).is_all:
        raise NotAllowedError(_("Only federation staff may close an emergency board."))
    EmergencyBoard.objects.filter(pk=board.pk, is_active=True).update(is_active=False, ended_at=timezone.now())
    audit.record("exchange.board.closed", actor=actor, target=board)
    board.refresh_from_db()
    return board


@transaction.atomic
def declare_capacity(
    *, actor: Any, board: EmergencyBoard, enterprise: Enterprise, product: str, stock: Decimal,
    daily_capacity: Decimal, unit: str,
) -> CapacityDeclaration:  # fmt: skip
    """Record or update an enterprise's stock and daily capacity on an open board."""
    if not board.is_active:
        raise DomainError(_("This emergency board is closed."), code="board_closed")
    if not Enterprise.objects.for_user(actor, CHANGE).filter(pk=enterprise.pk).exists():
        raise NotAllowedError(_("You may not declare for this enterprise."))
    if stock < 0 or daily_capacity < 0:
        raise DomainError(_("Quantities and prices cannot be negative."), code="capacity")
    if not product.strip() or not unit.strip():
        raise DomainError(_("Name the product and its unit."), code="product")
    declaration, _created = CapacityDeclaration.objects.update_or_create(
        board=board, enterprise=enterprise, product=product.strip()[:80],
        defaults={"stock": stock, "daily_capacity": daily_capacity, "unit": unit.strip()[:20]},
    )  # fmt: skip
    audit.record("exchange.capacity.declared", actor=actor, target=declaration,
                 data={"stock": str(stock), "daily_capacity": str(daily_capacity)})  # fmt: skip
    return declaration


def contact_person_for(listing: Listing) -> Person | None:
    """Return the person to contact about a listing (its contact, else the enterprise's primary contact)."""
    if listing.contact_person_id:
        return listing.contact_person
    return Person.objects.filter(enterprise_id=listing.enterprise_id, is_primary_contact=True).first()


# --- web UI helpers (added with the exchange web pages) --------------------------------------


@transaction.atomic
def contact_match(
    *, actor: Any, listing: Listing, other: Listing, score: float = 0.0, reasons: list[dict[str, Any]] | None = None
) -> Match:
    """Record that one side contacted a ranked match: store the pair if new, then move it to contacted."""
    need, offer = _pair(listing, other)
    if need.enterprise_id == offer.enterprise_id:
        raise DomainError(_("An enterprise cannot be matched with itself."), code="same_enterprise")
    if not Listing.objects.for_user(actor, CHANGE).filter(pk=listing.pk).exists():
        raise NotAllowedError(_("You may not change this match."), code="forbidden")
    match, _created = Match.objects.get_or_create(
        need=need, offer=offer, defaults={"score": score, "reasons": reasons or []}
    )
    if match.status == M.SUGGESTED:
        match = transition_match(actor=actor, match=match, to_status=M.CONTACTED)
    return match


def mark_notifications_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (all, or those ids) as read; return how many changed."""
    from qiaoliang.exchange.models import Notification

    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())
