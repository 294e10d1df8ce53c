"""Writes for listings: posting, editing, the review lifecycle, expiry and attachments.

Status moves go through `LISTING_TRANSITIONS` (lock, table, history row, audit). A return needs a reason;
every review decision tells the poster's contacts with the reason. Re-indexing is a background task
scheduled after commit by name (`exchange.index_listing`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, notifications, uploads
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, can, require
from qiaoliang.core.text import clean_text
from qiaoliang.core.transitions import Transitions
from qiaoliang.exchange.models import Category, Direction, Listing, ListingAttachment, ListingStatusChange
from qiaoliang.exchange.search import index_tokens
from qiaoliang.orgs.models import Enterprise, Organization
from qiaoliang.orgs.selectors import contacts_of, reviewing_organization

S = Listing.Status
LISTING_TRANSITIONS = Transitions(
    model=Listing,
    table={
        S.DRAFT: {S.PENDING, S.PUBLISHED, S.CLOSED},
        S.PENDING: {S.PUBLISHED, S.REJECTED, S.DRAFT, S.CLOSED},
        S.REJECTED: {S.PENDING, S.DRAFT, S.CLOSED},
        S.PUBLISHED: {S.CLOSED, S.EXPIRED, S.PENDING},
        S.EXPIRED: {S.PENDING, S.PUBLISHED, S.CLOSED},
        S.CLOSED: set(),
    },
    audit_prefix="exchange.listing",
    history_model=ListingStatusChange,
    history_fk="listing",
    # An edit sends a published listing back to review; the expiry command expires it. Never buttons.
    system_moves=frozenset({(S.PUBLISHED, S.PENDING), (S.PUBLISHED, S.EXPIRED)}),
)
# Moves that need the reviewer's right rather than the poster's.
REVIEW_MOVES = {(S.PENDING, S.PUBLISHED), (S.PENDING, S.REJECTED), (S.DRAFT, S.PUBLISHED), (S.EXPIRED, S.PUBLISHED)}
DECISIONS: dict[str, Any] = {
    S.PUBLISHED: gettext_lazy("Your listing “%(title)s” was approved and is on the board"),
    S.REJECTED: gettext_lazy("Your listing “%(title)s” was returned for changes"),
    S.CLOSED: gettext_lazy("Your listing “%(title)s” was closed by its reviewer"),
}

LISTING_FIELDS = {
    "direction", "category", "title", "description", "industry", "region", "service_area", "quantity", "unit",
    "price_min", "price_max", "price_text", "valid_until", "contact_person", "contact_visibility", "is_urgent",
}  # fmt: skip
TEXT_FIELDS = {"title": False, "description": True, "service_area": False, "unit": False, "price_text": False}
ATTACHMENT_TYPES = (".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx")
MAX_ATTACHMENTS = 5
MAX_VALIDITY = datetime.timedelta(days=366 * 2)


def can_transition_listing(listing: Listing, to_status: str) -> bool:
    """Tell whether a user may ask for the move (templates ask this before showing a button)."""
    return LISTING_TRANSITIONS.allows(listing, to_status)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    for name, multiline in TEXT_FIELDS.items():
        if name in fields and isinstance(fields[name], str):
            fields[name] = clean_text(fields[name], multiline=multiline)
    return fields


def validate(listing: Listing, *, today: datetime.date | None = None) -> None:
    """Check a listing before it is saved or goes up; raise DomainError naming the field."""
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
            code="valid_until",
        )
    if listing.valid_until > today + MAX_VALIDITY:
        raise DomainError(_("A listing can be valid for two years at the most."), code="valid_until")
    listing.quantity = check_fits(Listing, "quantity", listing.quantity, money=False)
    listing.price_min = check_fits(Listing, "price_min", listing.price_min)
    listing.price_max = check_fits(Listing, "price_max", listing.price_max)
    if listing.price_min is not None and listing.price_max is not None and listing.price_max < listing.price_min:
        raise DomainError(_("The upper price or budget is below the lower one."), code="price_max")
    if (
        listing.contact_person_id
        and listing.contact_person
        and listing.contact_person.enterprise_id != listing.enterprise_id
    ):
        raise DomainError(_("The contact person must work for the enterprise."), code="contact_person")


def _tokens(listing: Listing) -> str:
    return index_tokens(f"{listing.title} {listing.description}")


def _tell_poster(listing: Listing, to_status: str, actor: Any, note: str) -> None:
    title = DECISIONS.get(to_status)
    if title is None:
        return
    notifications.notify(
        users=contacts_of([listing.enterprise_id]), kind=f"exchange.listing.{to_status}", title=title,
        body=gettext_lazy("Reviewer's note: %(note)s") if note else "", params={"title": listing.title, "note": note},
        url=reverse("exchange:listing", args=[listing.pk]), target=listing, organization_id=listing.organization_id,
        actor=actor,
    )  # fmt: skip


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
    """Create a listing as a draft, submit it for review, or publish it when its reviewer posts it."""
    require(actor, CHANGE, enterprise, _("You may not post listings for this enterprise."))
    unknown = set(fields) - LISTING_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    reviewer = organization or reviewing_organization(enterprise)
    if reviewer is None:
        raise DomainError(_("The enterprise is not an active member of any organisation."), code="membership")
    listing = Listing(
        enterprise=enterprise, organization=reviewer, direction=direction, category=category,
        title=clean_text(title, multiline=False), valid_until=valid_until, external_id=external_id.strip(),
        created_by=actor if getattr(actor, "is_authenticated", False) else None, **_clean(fields),
    )  # fmt: skip
    validate(listing)
    listing.search_tokens = _tokens(listing)
    try:
        with transaction.atomic():
            listing.save()
    except IntegrityError as exc:
        raise DomainError(
            _("The enterprise already has a listing with external number %(number)s.") % {"number": external_id},
            code="external_id",
        ) from exc
    ListingStatusChange.objects.create(listing=listing, from_status="", to_status=S.DRAFT, actor=listing.created_by)
    audit.record(
        "exchange.listing.created", actor=actor, target=listing, organization_id=listing.organization_id,
        data={"direction": direction, "category": category, "enterprise": enterprise.pk},
    )  # fmt: skip
    if publish:
        if actor is not None and not can(actor, REVIEW, listing):
            raise NotAllowedError(_("Only staff who review the enterprise's listings may publish them directly."))
        listing = LISTING_TRANSITIONS.move(listing, S.PUBLISHED, actor=actor, changes={"published_at": timezone.now()})
    elif submit:
        listing = LISTING_TRANSITIONS.move(listing, S.PENDING, actor=actor)
    enqueue_on_commit("exchange.index_listing", listing.pk)
    return listing


@transaction.atomic
def update_listing(*, actor: Any, listing: Listing, **changes: Any) -> Listing:
    """Change a listing; a poster's edit of a published listing goes back to review."""
    require(actor, CHANGE, listing, _("You may not change this listing."))
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.status == S.CLOSED:
        raise DomainError(_("A closed listing cannot be changed."), code="closed")
    unknown = set(changes) - LISTING_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    diff: dict[str, Any] = {}
    for name, value in _clean(changes).items():
        old = getattr(listing, name)
        if old != value:
            diff[name] = [str(old), str(value)]
            setattr(listing, name, value)
    if not diff:
        return listing
    validate(listing)
    listing.search_tokens = _tokens(listing)
    listing.save(update_fields=[*diff, "quantity", "price_min", "price_max", "search_tokens", "updated_at"])
    audit.record(
        "exchange.listing.updated", actor=actor, target=listing, organization_id=listing.organization_id, data=diff
    )
    if listing.status == S.PUBLISHED and actor is not None and not can(actor, REVIEW, listing):
        listing = LISTING_TRANSITIONS.move(
            listing, S.PENDING, actor=actor, note=_("Changed after publication"), system=True
        )
    enqueue_on_commit("exchange.index_listing", listing.pk)
    return listing


def _check_move_right(actor: Any, listing: Listing, to_status: str) -> None:
    if actor is None:
        return
    if (listing.status, to_status) in REVIEW_MOVES:
        allowed = can(actor, REVIEW, listing)
    else:
        allowed = can(actor, CHANGE, listing) or can(actor, REVIEW, listing)
    if not allowed:
        raise NotAllowedError(_("You may not do this to the listing."), code="forbidden")


@transaction.atomic
def transition_listing(*, actor: Any, listing: Listing, to_status: str, note: str = "") -> Listing:
    """Move a listing (submit, withdraw, approve, return with a reason, close); the poster is told of decisions."""
    require(actor, VIEW, listing)
    if to_status not in S.values:
        raise DomainError(_("Unknown status."), code="status")
    note = note.strip()
    if to_status == S.REJECTED and not note:
        raise DomainError(_("Say what should be changed before returning the listing."), code="note")
    current = Listing.objects.get(pk=listing.pk)
    _check_move_right(actor, current, to_status)
    changes: dict[str, Any] = {}
    now = timezone.now()
    if to_status == S.PUBLISHED:
        changes.update(published_at=now, review_note="")
    elif to_status == S.REJECTED:
        changes["review_note"] = note[:300]
    elif to_status in {S.CLOSED, S.EXPIRED}:
        changes["closed_at"] = now

    def check(locked: Listing) -> None:
        if to_status in {S.PUBLISHED, S.PENDING}:
            validate(locked)  # e.g. an expired listing must get a new date before it goes back up

    moved = LISTING_TRANSITIONS.move(current, to_status, actor=actor, note=note, changes=changes, check=check)
    posted_by_reviewer = actor is not None and can(actor, CHANGE, moved) and not _is_contact(actor, moved)
    if (current.status, to_status) in REVIEW_MOVES or (to_status == S.CLOSED and posted_by_reviewer):
        _tell_poster(moved, to_status, actor, note)
    enqueue_on_commit("exchange.index_listing", moved.pk)
    return moved


def _is_contact(actor: Any, listing: Listing) -> bool:
    return any(user.pk == actor.pk for user in contacts_of([listing.enterprise_id]))


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
                # Claim with a conditional update: a concurrent run or a manual close wins cleanly.
                now = timezone.now()
                if not Listing.objects.filter(pk=listing_id, status=S.PUBLISHED).update(
                    status=S.EXPIRED, closed_at=now, updated_at=now
                ):
                    continue
                listing = Listing.objects.get(pk=listing_id)
                ListingStatusChange.objects.create(listing=listing, from_status=S.PUBLISHED, to_status=S.EXPIRED,
                                                   note="valid_until passed")  # fmt: skip
                audit.record("exchange.listing.expired", target=listing, organization_id=listing.organization_id)
                notifications.notify(
                    users=contacts_of([listing.enterprise_id]), kind="exchange.listing.expired",
                    title=gettext_lazy("Your listing “%(title)s” has expired"),
                    body=gettext_lazy("Give it a new date to put it on the board again."),
                    params={"title": listing.title}, url=reverse("exchange:listing", args=[listing.pk]),
                    target=listing, organization_id=listing.organization_id,
                )  # fmt: skip
                enqueue_on_commit("exchange.index_listing", listing_id)
                expired += 1


@transaction.atomic
def add_attachment(*, actor: Any, listing: Listing, upload: UploadedFile) -> ListingAttachment:
    """Attach a file after checking its whole content against its type, and its size; stored under a random name."""
    require(actor, CHANGE, listing, _("You may not change this listing."))
    kind, name = uploads.check_upload(upload, allowed=ATTACHMENT_TYPES, max_bytes=_attachment_limit())
    listing = Listing.objects.select_for_update().get(pk=listing.pk)
    if listing.attachments.count() >= MAX_ATTACHMENTS:
        raise DomainError(_("A listing can have %(count)d attachments at the most.") % {"count": MAX_ATTACHMENTS},
                          code="attachments")  # fmt: skip
    attachment = ListingAttachment(
        listing=listing, name=name, size=upload.size or 0, content_type=kind.content_type,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit.record("exchange.attachment.added", actor=actor, target=listing, organization_id=listing.organization_id,
                 data={"name": name, "size": upload.size})  # fmt: skip
    return attachment


def _attachment_limit() -> int:
    return int(getattr(settings, "LISTING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
