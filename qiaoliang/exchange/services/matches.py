"""Writes for matches: suggestions, introductions, the conversation between the two enterprises, and a deal one
side proposes and the other confirms.

    suggested ──(one side agrees to talk)──▶ contacted ──(the other agrees)──▶ in talks ──(confirmed)──▶ deal
        └──────────────────────── declined (either side, with a reason) ◀───────────────┘

Each side's contact details are shown to the other only once both have agreed to talk. Staff broker
(introduce, read, post) but never agree or sign for an enterprise. Every step tells the other side.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core import audit, notifications
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.numbers import check_fits
from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, can, require
from qiaoliang.core.transitions import Transitions
from qiaoliang.exchange.models import Listing, Match, MatchMessage, MatchStatusChange, Side
from qiaoliang.orgs.selectors import contacts_of, get_scope

M = Match.Status
MATCH_TRANSITIONS = Transitions(
    model=Match,
    table={
        M.SUGGESTED: {M.CONTACTED, M.IN_TALKS, M.DECLINED},
        M.CONTACTED: {M.IN_TALKS, M.DECLINED},
        M.IN_TALKS: {M.DEAL, M.DECLINED},
        M.DEAL: set(),
        M.DECLINED: set(),
    },
    audit_prefix="exchange.match",
    history_model=MatchStatusChange,
    history_fk="match",
    organization=lambda match: None,
)
MESSAGE_MAX = 2000


def can_transition_match(match: Match, to_status: str) -> bool:
    """Tell whether the table allows the match move."""
    return MATCH_TRANSITIONS.allows(match, to_status)


def pair(a: Listing, b: Listing) -> tuple[Listing, Listing]:
    """Return (need, offer) of two listings of opposite directions."""
    if a.direction == b.direction:
        raise DomainError(_("An offer can only be matched with a need."), code="direction")
    return (a, b) if a.direction == "need" else (b, a)


def side_of(actor: Any, match: Match) -> str:
    """Return the side (need/offer) the actor speaks for, or '' for staff and others."""
    own = get_scope(actor).own_enterprise_ids if actor is not None else set()
    need_enterprise = match.need.enterprise_id
    offer_enterprise = match.offer.enterprise_id
    if need_enterprise in own:
        return Side.NEED
    if offer_enterprise in own:
        return Side.OFFER
    return ""


def other_side(side: str) -> str:
    return Side.OFFER if side == Side.NEED else Side.NEED


def _listing_of(match: Match, side: str) -> Listing:
    return match.need if side == Side.NEED else match.offer


def _url(match: Match) -> str:
    return reverse("exchange:match", args=[match.pk])


def _tell(match: Match, sides: list[str], actor: Any, kind: str, title: Any, body: Any = "", **params: Any) -> None:
    users = contacts_of([_listing_of(match, side).enterprise_id for side in sides])
    notifications.notify(
        users=users, kind=kind, title=title, body=body,
        params={"need": match.need.title, "offer": match.offer.title, **params},
        url=_url(match), target=match, organization_id=match.need.organization_id, actor=actor,
    )  # fmt: skip


def _event(match: Match, actor: Any, side: str, text: Any, **params: Any) -> None:
    """Write a step of the conversation ("X agreed to talk") in the site's language: both sides read it."""
    with translation.override(settings.LANGUAGE_CODE):
        body = str(text) % params if params else str(text)
    MatchMessage.objects.create(match=match, sender=actor if getattr(actor, "is_authenticated", False) else None,
                                side=side, kind=MatchMessage.Kind.EVENT, body=body[:MESSAGE_MAX])  # fmt: skip


def _locked(match: Match) -> Match:
    return Match.objects.select_for_update().select_related("need", "offer", "need__enterprise",
                                                            "offer__enterprise").get(pk=match.pk)  # fmt: skip


def _party_side(actor: Any, match: Match) -> str:
    side = side_of(actor, match)
    if not side:
        raise NotAllowedError(_("Only the two enterprises of a match may do this."), code="forbidden")
    return side


# --- suggestions and introductions ---------------------------------------------------------------------------


@transaction.atomic
def record_suggestions(*, listing: Listing, results: list[tuple[Listing, float, list[dict[str, Any]]]]) -> list[Match]:
    """Store the engine's suggestions for a listing (system); keep the status of matches already under way.

    New suggestions at or above MATCH_NOTIFY_SCORE are pushed to both sides.
    """
    created: list[Match] = []
    for other, score, reasons in results:
        need, offer = pair(listing, other)
        if need.enterprise_id == offer.enterprise_id:
            continue
        match, was_created = Match.objects.get_or_create(
            need=need, offer=offer, defaults={"score": score, "reasons": reasons}
        )
        if was_created:
            created.append(match)
        elif match.status == M.SUGGESTED and (abs(match.score - score) > 1e-6 or match.reasons != reasons):
            Match.objects.filter(pk=match.pk).update(score=score, reasons=reasons, updated_at=timezone.now())
    threshold = float(settings.MATCH_NOTIFY_SCORE)
    for match in created:
        if match.score >= threshold or (match.need.is_urgent and match.score >= float(settings.MATCH_SUGGEST_SCORE)):
            notify_suggestion(match)
    return created


def notify_suggestion(match: Match) -> None:
    """Tell both sides of a strong new match, once (claimed with a conditional update)."""
    if not Match.objects.filter(pk=match.pk, is_notified=False).update(is_notified=True):
        return
    match = Match.objects.select_related("need", "offer", "need__enterprise", "offer__enterprise").get(pk=match.pk)
    for side in (Side.NEED, Side.OFFER):
        own, other = _listing_of(match, side), _listing_of(match, other_side(side))
        notifications.notify(
            users=contacts_of([own.enterprise_id]), kind="exchange.match.suggested",
            title=gettext_lazy("New match for “%(title)s”: %(other)s (%(enterprise)s)"),
            params={"title": own.title, "other": other.title, "enterprise": other.enterprise.name},
            url=_url(match), target=match, organization_id=own.organization_id,
        )  # fmt: skip


@transaction.atomic
def introduce(*, actor: Any, need: Listing, offer: Listing, note: str = "") -> Match:
    """Let staff introduce two enterprises (牵线对接): a match they vouch for, opened as a conversation."""
    need, offer = pair(need, offer)
    if need.enterprise_id == offer.enterprise_id:
        raise DomainError(_("An enterprise cannot be matched with itself."), code="same_enterprise")
    if actor is not None and not (can(actor, REVIEW, need) or can(actor, REVIEW, offer)):
        raise NotAllowedError(_("Only staff who serve one of the enterprises may introduce them."))
    require(actor, VIEW, need)
    require(actor, VIEW, offer)
    match, created = Match.objects.get_or_create(
        need=need, offer=offer, defaults={"score": 1.0, "reasons": [{"code": "introduced"}], "introduced_by": actor}
    )
    if not created and match.introduced_by_id is None:
        Match.objects.filter(pk=match.pk).update(introduced_by=actor, updated_at=timezone.now())
    match = _locked(match)
    MatchStatusChange.objects.create(match=match, from_status="", to_status=match.status, actor=actor, note=note[:500])
    _event(match, actor, "", gettext_lazy("The federation introduced the two enterprises. %(note)s"),
           note=note.strip())  # fmt: skip
    audit.record("exchange.match.introduced", actor=actor, target=match, organization_id=need.organization_id,
                 data={"need": need.pk, "offer": offer.pk})  # fmt: skip
    Match.objects.filter(pk=match.pk).update(is_notified=True)
    _tell(match, [Side.NEED, Side.OFFER], actor, "exchange.match.introduced",
          gettext_lazy("The federation introduced you: “%(need)s” and “%(offer)s”"),
          gettext_lazy("%(note)s Open the conversation to talk."), note=note.strip())  # fmt: skip
    return match


# --- the conversation ---------------------------------------------------------------------------------------


@transaction.atomic
def contact_match(
    *, actor: Any, listing: Listing, other: Listing, score: float = 0.0, reasons: list[dict[str, Any]] | None = None
) -> Match:
    """Contact a ranked match (联系): store the pair if new and agree to talk for the actor's side."""
    require(actor, CHANGE, listing, _("You may not change this match."))
    require(actor, VIEW, other)
    need, offer = pair(listing, other)
    if need.enterprise_id == offer.enterprise_id:
        raise DomainError(_("An enterprise cannot be matched with itself."), code="same_enterprise")
    if other.status != Listing.Status.PUBLISHED:
        raise DomainError(_("That listing is no longer on the board."), code="closed")
    match, _created = Match.objects.get_or_create(
        need=need, offer=offer, defaults={"score": score, "reasons": reasons or []}
    )
    return agree_to_talk(actor=actor, match=match)


@transaction.atomic
def agree_to_talk(*, actor: Any, match: Match) -> Match:
    """Record that the actor's side wants to talk; when both have, the talks start and contacts are shown."""
    match = _locked(match)
    side = _party_side(actor, match)
    if match.status in {M.DEAL, M.DECLINED}:
        raise MATCH_TRANSITIONS.refuse(match, M.IN_TALKS)
    field = f"{side}_agreed_at"
    if getattr(match, field) is not None:
        return match
    now = timezone.now()
    Match.objects.filter(pk=match.pk).update(**{field: now, "updated_at": now})
    setattr(match, field, now)
    both = match.need_agreed_at is not None and match.offer_agreed_at is not None
    enterprise = _listing_of(match, side).enterprise.name
    if both:
        match = MATCH_TRANSITIONS.move(match, M.IN_TALKS, actor=actor)
        _event(match, actor, side,
               gettext_lazy("%(enterprise)s agreed to talk: contact details are now shown to both sides."),
               enterprise=enterprise)  # fmt: skip
        _tell(match, [other_side(side)], actor, "exchange.match.in_talks",
              gettext_lazy("%(enterprise)s agreed to talk about “%(need)s”"),
              gettext_lazy("Both sides agreed: the contact details are shown on the match page."),
              enterprise=enterprise)  # fmt: skip
    else:
        if match.status == M.SUGGESTED:
            match = MATCH_TRANSITIONS.move(match, M.CONTACTED, actor=actor)
        _event(match, actor, side, gettext_lazy("%(enterprise)s would like to talk."), enterprise=enterprise)
        _tell(match, [other_side(side)], actor, "exchange.match.contacted",
              gettext_lazy("%(enterprise)s would like to talk about “%(need)s” / “%(offer)s”"),
              gettext_lazy("Reply in the conversation or agree to talk to exchange contact details."),
              enterprise=enterprise)  # fmt: skip
    return match


@transaction.atomic
def post_message(*, actor: Any, match: Match, body: str) -> MatchMessage:
    """Post a message in a match's conversation (either enterprise, or staff who broker it); the others are told."""
    match = _locked(match)
    side = side_of(actor, match)
    if not side:
        require(actor, CHANGE, match, _("Only the two enterprises and their staff may write here."))
    text = body.strip()
    if not text:
        raise DomainError(_("Write a message."), code="body")
    if len(text) > MESSAGE_MAX:
        raise DomainError(_("A message can be %(max)d characters long at the most.") % {"max": MESSAGE_MAX},
                          code="body")  # fmt: skip
    if match.status in {M.DEAL, M.DECLINED}:
        raise DomainError(_("The conversation of a closed match is read-only."), code="closed")
    message = MatchMessage.objects.create(match=match, sender=actor, side=side, body=text)
    if side and getattr(match, f"{side}_agreed_at") is None:
        agree_to_talk(actor=actor, match=match)  # writing is agreeing to talk
    Match.objects.filter(pk=match.pk).update(updated_at=timezone.now())
    recipients: list[str] = [other_side(side)] if side else [Side.NEED.value, Side.OFFER.value]
    _tell(match, recipients, actor, "exchange.match.message",
          gettext_lazy("New message about “%(need)s” / “%(offer)s”"), "%(text)s", text=text[:200])  # fmt: skip
    return message


@transaction.atomic
def propose_deal(*, actor: Any, match: Match, amount: Decimal | None, date: datetime.date | None) -> Match:
    """Propose the deal (amount in yuan, date); it counts once the other side confirms it."""
    match = _locked(match)
    side = _party_side(actor, match)
    if match.status != M.IN_TALKS:
        raise DomainError(_("A deal can be proposed once both sides have agreed to talk."), code="status")
    amount = check_fits(Match, "deal_amount", amount, code="deal_amount")
    if amount is None or amount <= 0:
        raise DomainError(_("Give the deal amount in yuan."), code="deal_amount")
    if date is None:
        raise DomainError(_("Give the date of the deal."), code="deal_date")
    if date > timezone.localdate():
        raise DomainError(_("The deal date cannot be in the future."), code="deal_date")
    now = timezone.now()
    Match.objects.filter(pk=match.pk).update(proposed_by=actor, proposed_side=side, proposed_amount=amount,
                                             proposed_date=date, proposed_at=now, updated_at=now)  # fmt: skip
    match.refresh_from_db()
    _event(match, actor, side, gettext_lazy("Deal proposed: %(amount)s yuan on %(date)s. The other side confirms it."),
           amount=f"{amount:,.2f}", date=date.isoformat())  # fmt: skip
    audit.record("exchange.match.deal_proposed", actor=actor, target=match, data={"amount": str(amount),
                 "date": date.isoformat(), "side": side})  # fmt: skip
    _tell(match, [other_side(side)], actor, "exchange.match.deal_proposed",
          gettext_lazy("A deal was proposed for “%(need)s”: please confirm"),
          gettext_lazy("Amount %(amount)s yuan, date %(date)s."), amount=f"{amount:,.2f}",
          date=date.isoformat())  # fmt: skip
    return match


@transaction.atomic
def confirm_deal(*, actor: Any, match: Match) -> Match:
    """Confirm the other side's proposal: the match becomes a deal and counts in the statistics, once."""
    match = _locked(match)
    side = _party_side(actor, match)
    if not match.proposed_side or match.proposed_at is None:
        raise DomainError(_("There is no proposed deal to confirm."), code="no_proposal")
    if match.proposed_side == side:
        raise DomainError(_("The other side confirms a deal you proposed."), code="same_side")
    match = MATCH_TRANSITIONS.move(
        match, M.DEAL, actor=actor,
        changes={"deal_amount": match.proposed_amount, "deal_date": match.proposed_date, "confirmed_by": actor,
                 "confirmed_at": timezone.now()},
        data={"amount": str(match.proposed_amount)},
    )  # fmt: skip
    _event(match, actor, side, gettext_lazy("Deal confirmed: %(amount)s yuan."), amount=f"{match.deal_amount:,.2f}")
    _tell(match, [other_side(side)], actor, "exchange.match.deal",
          gettext_lazy("Deal confirmed: “%(need)s” / “%(offer)s”"),
          gettext_lazy("Amount %(amount)s yuan."), amount=f"{match.deal_amount:,.2f}")  # fmt: skip
    return match


@transaction.atomic
def withdraw_proposal(*, actor: Any, match: Match, reason: str = "") -> Match:
    """Withdraw or turn down a proposed deal (either side); the talks go on."""
    match = _locked(match)
    side = _party_side(actor, match)
    if not match.proposed_side:
        raise DomainError(_("There is no proposed deal."), code="no_proposal")
    cleared = {"proposed_by": None, "proposed_side": "", "proposed_amount": None, "proposed_date": None,
               "proposed_at": None, "updated_at": timezone.now()}  # fmt: skip
    Match.objects.filter(pk=match.pk).update(**cleared)
    match.refresh_from_db()
    _event(match, actor, side, gettext_lazy("The proposed deal was withdrawn. %(reason)s"), reason=reason.strip())
    _tell(match, [other_side(side)], actor, "exchange.match.proposal_withdrawn",
          gettext_lazy("The proposed deal for “%(need)s” was withdrawn"), "%(reason)s",
          reason=reason.strip())  # fmt: skip
    return match


@transaction.atomic
def decline_match(*, actor: Any, match: Match, reason: str) -> Match:
    """Decline a match with a reason (either enterprise, or the staff who manage one); the other side is told."""
    match = _locked(match)
    side = side_of(actor, match)
    if not side:
        require(actor, CHANGE, match, _("You may not change this match."))
    if not reason.strip():
        raise DomainError(_("Say why the match was declined."), code="reason")
    match = MATCH_TRANSITIONS.move(match, M.DECLINED, actor=actor, note=reason.strip(),
                                   changes={"declined_reason": reason.strip()[:300]})  # fmt: skip
    _event(match, actor, side, gettext_lazy("Declined: %(reason)s"), reason=reason.strip())
    sides: list[str] = [other_side(side)] if side else [Side.NEED.value, Side.OFFER.value]
    _tell(match, sides, actor, "exchange.match.declined",
          gettext_lazy("The match “%(need)s” / “%(offer)s” was declined"), gettext_lazy("Reason: %(reason)s"),
          reason=reason.strip())  # fmt: skip
    return match


def move_match(
    *,
    actor: Any,
    match: Match,
    to_status: str,
    deal_amount: Decimal | None = None,
    deal_date: datetime.date | None = None,
    reason: str = "",
) -> Match:
    """Move a match by its target status (the API's single endpoint): talk, propose or confirm a deal, decline."""
    if to_status in {M.CONTACTED, M.IN_TALKS}:
        return agree_to_talk(actor=actor, match=match)
    if to_status == M.DEAL:
        current = Match.objects.get(pk=match.pk)
        side = _party_side(actor, current)
        if current.proposed_side and current.proposed_side != side:
            if deal_amount is not None and check_fits(Match, "deal_amount", deal_amount) != current.proposed_amount:
                raise DomainError(_("The amount differs from the proposal; propose your amount instead."),
                                  code="deal_amount")  # fmt: skip
            return confirm_deal(actor=actor, match=current)
        return propose_deal(actor=actor, match=current, amount=deal_amount, date=deal_date)
    if to_status == M.DECLINED:
        return decline_match(actor=actor, match=match, reason=reason)
    raise DomainError(_("Unknown status."), code="status")
