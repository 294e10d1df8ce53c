"""Web pages of the resource exchange (供需对接): board, listings, review, matches and their conversation,
introductions, emergency boards, statistics.

Views stay thin: parse input, fetch through the user's scope, call one service, render. A service's refusal
becomes a form error (`core.forms.call_service`) or, uncaught, a message and a way back (`core.errors`);
`NotAllowedError` is a 403. Lists answer an htmx request with their results partial only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiaoliang.core import audit, htmx
from qiaoliang.core.errors import redirect_on_error, safe_next
from qiaoliang.core.files import serve_private_file
from qiaoliang.core.forms import call_service
from qiaoliang.core.navigation import panels_for
from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, can, get_for_user, has_capability
from qiaoliang.exchange import matching_service, selectors, services
from qiaoliang.exchange.forms import (
    AttachmentForm,
    BoardFilterForm,
    CapacityForm,
    DealForm,
    DeclineForm,
    EmergencyBoardForm,
    IntroduceForm,
    ListingForm,
    MatchStatusForm,
    MessageForm,
    ReviewForm,
)
from qiaoliang.exchange.models import Category, EmergencyBoard, Listing, ListingAttachment, Match
from qiaoliang.exchange.permissions import PARTY, RANK
from qiaoliang.exchange.reasons import describe_all
from qiaoliang.exchange.selectors import BoardFilters
from qiaoliang.orgs.models import Organization

PAGE_SIZE = 20
RANKED_MATCHES = 10
S = Listing.Status
M = Match.Status

# Buttons of a listing page: target status → (label, Bootstrap style). Which are shown is read from
# services.LISTING_TRANSITIONS and the user's rights, never decided here.
LISTING_ACTIONS: dict[str, tuple[Any, str]] = {
    S.PENDING: (gettext_lazy("Submit for review"), "primary"),
    S.PUBLISHED: (gettext_lazy("Approve and publish"), "success"),
    S.REJECTED: (gettext_lazy("Return for changes"), "warning"),
    S.DRAFT: (gettext_lazy("Withdraw to draft"), "outline-secondary"),
    S.CLOSED: (gettext_lazy("Close"), "outline-danger"),
}


def _require_use(user: Any) -> None:
    """Keep accounts without any role (and so without a board) out of exchange pages."""
    if not has_capability(user, "exchange.use"):
        raise PermissionDenied


def _listing_actions(user: Any, listing: Listing) -> list[dict[str, Any]]:
    """Return the status buttons the table allows and the user may press."""
    may_change = can(user, CHANGE, listing)
    may_review = can(user, REVIEW, listing)
    actions = []
    for to_status, (label, style) in LISTING_ACTIONS.items():
        if not services.can_transition_listing(listing, to_status):
            continue
        needs_review = (listing.status, to_status) in services.REVIEW_MOVES
        if (needs_review and may_review) or (not needs_review and (may_change or may_review)):
            if to_status == S.PUBLISHED and listing.status == S.DRAFT:
                label = gettext_lazy("Publish")
            actions.append({"to": to_status, "label": label, "style": style, "needs_note": to_status == S.REJECTED})
    return actions


# --- board ------------------------------------------------------------------------------


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Search and filter the published offers and needs, urgent ones first, 20 per page."""
    user: Any = request.user
    _require_use(user)
    filters = BoardFilters.from_mapping(request.GET)
    page = htmx.paginate(request, selectors.board_listings(user, filters), PAGE_SIZE)
    listings = list(page.object_list)
    selectors.attach_contacts(user, listings)
    context: dict[str, Any] = {"page": page, "listings": listings, "filters": filters}
    if not htmx.wants_partial(request):
        organizations = list(Organization.objects.for_user(user, VIEW).only("pk", "name", "short_name", "depth"))
        context["form"] = BoardFilterForm(request.GET or None, organizations=organizations)
        context["has_filters"] = bool(filters.as_query())
    return htmx.render_list(request, "exchange/board.html", "exchange/partials/board_results.html", context)


# --- my listings, create, edit ------------------------------------------------------------


@login_required
def my_listings(request: HttpRequest) -> HttpResponse:
    """List the listings of the user's enterprise (or of the enterprises they manage), newest change first."""
    user: Any = request.user
    if not has_capability(user, "exchange.post"):
        raise PermissionDenied
    status = request.GET.get("status", "")
    status = status if status in S.values else ""
    page = htmx.paginate(request, selectors.my_listings(user, status), PAGE_SIZE)
    context = {"page": page, "listings": list(page.object_list), "status": status, "statuses": S.choices}
    return htmx.render_list(request, "exchange/mine.html", "exchange/partials/mine_results.html", context)


@login_required
def listing_create(request: HttpRequest) -> HttpResponse:
    """Post an offer or need: a draft, submitted for review, or published at once by its reviewer."""
    user: Any = request.user
    enterprises = selectors.changeable_enterprises(user)
    first_few = list(enterprises[:50])
    if not first_few:
        raise PermissionDenied
    # Without a script to follow the chosen enterprise, offer the people of the first enterprises only.
    people = selectors.contact_people([e.pk for e in first_few])
    initial = ListingForm.initial_from_enterprise(first_few[0]) if len(first_few) == 1 else {}
    form = ListingForm(request.POST or None, enterprises=enterprises, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        enterprise = form.cleaned_data["enterprise"]
        publish = request.POST.get("action") == "publish" and selectors.may_publish_directly(user, enterprise)
        submit = request.POST.get("action") == "submit"
        fields = form.listing_fields()
        listing = call_service(
            form,
            lambda: services.create_listing(
                actor=user, enterprise=enterprise, submit=submit, publish=publish,
                direction=fields.pop("direction"), category=fields.pop("category"), title=fields.pop("title"),
                valid_until=fields.pop("valid_until"), **fields,
            ),
            ListingForm.ERROR_FIELDS,
        )  # fmt: skip
        if listing is not None:
            messages.success(request, _("The listing was saved."))
            return redirect("exchange:listing", pk=listing.pk)
    may_publish = selectors.may_publish_directly(user, first_few[0])
    return render(request, "exchange/listing_form.html", {"form": form, "may_publish": may_publish})


@login_required
def listing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a listing; a poster's edit of a published listing goes back to review."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.select_related("enterprise"), user, CHANGE, pk=pk)
    people = selectors.contact_people([listing.enterprise_id])
    form = ListingForm(request.POST or None, initial=ListingForm.initial_for(listing), people=people, listing=listing)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form, lambda: services.update_listing(actor=user, listing=listing, **form.listing_fields()),
            ListingForm.ERROR_FIELDS,
        )  # fmt: skip
        if saved is not None:
            messages.success(request, _("The listing was saved."))
            return redirect("exchange:listing", pk=listing.pk)
    return render(request, "exchange/listing_form.html", {"form": form, "listing": listing})


@login_required
@require_POST
def listing_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit, withdraw, close, approve or return a listing (the service checks table, rights and the reason)."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.all(), user, VIEW, pk=pk)
    redirect_on_error(request, reverse("exchange:listing", args=[listing.pk]))
    to_status = request.POST.get("to", "")
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    services.transition_listing(actor=user, listing=listing, to_status=to_status, note=note)
    messages.success(request, _("The listing is now: %(status)s.") % {"status": S(to_status).label})
    return redirect(safe_next(request, reverse("exchange:listing", args=[listing.pk])))


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a file to a listing (its whole content, type and size checked by the service)."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.all(), user, CHANGE, pk=pk)
    redirect_on_error(request, reverse("exchange:listing", args=[listing.pk]))
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to attach."))
    else:
        services.add_attachment(actor=user, listing=listing, upload=form.cleaned_data["file"])
        messages.success(request, _("The file was attached."))
    return redirect("exchange:listing", pk=listing.pk)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponseBase:
    """Send an attachment to a user who may see its listing (through the web server in production)."""
    listing = get_for_user(Listing.objects.all(), request.user, VIEW, pk=pk)
    attachment = ListingAttachment.objects.filter(listing=listing, pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return serve_private_file(attachment.file, name=attachment.name, content_type=attachment.content_type)


# --- review ---------------------------------------------------------------------------------


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """List the pending listings the user reviews, urgent first, then oldest, with approve and return buttons."""
    user: Any = request.user
    if not has_capability(user, "exchange.review"):
        raise PermissionDenied
    page = htmx.paginate(request, selectors.review_queue(user), PAGE_SIZE)
    return render(request, "exchange/review.html", {"page": page, "listings": list(page.object_list)})


# --- listing page and its matches ---------------------------------------------------------------


@login_required
def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a listing: details, contact (per its visibility), attachments, timeline and, for its side, matches."""
    user: Any = request.user
    queryset = Listing.objects.select_related(*selectors.LISTING_RELATED)
    listing = get_for_user(queryset, user, VIEW, pk=pk)
    selectors.attach_contacts(user, [listing])
    may_change = can(user, CHANGE, listing)
    may_rank = can(user, RANK, listing)
    context = {
        "listing": listing,
        "history": list(selectors.listing_history(listing)),
        "attachments": list(listing.attachments.all()),
        "may_change": may_change and listing.status != S.CLOSED,
        "may_see_matches": may_rank,
        "actions": _listing_actions(user, listing),
        "attachment_form": AttachmentForm(),
        "match_count": selectors.match_list(user, listing_id=listing.pk).count() if may_rank else 0,
    }
    return render(request, "exchange/listing_detail.html", context)


@login_required
def listing_matches(request: HttpRequest, pk: int) -> HttpResponse:
    """Rank the listings that fit this one (GET), or contact one of them (POST) — for its side and reviewers."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.select_related("enterprise"), user, VIEW, pk=pk)
    if not can(user, RANK, listing):
        raise PermissionDenied
    if request.method == "POST":
        return _contact(request, listing)
    rows = selectors.ranked_matches(user, listing, top=RANKED_MATCHES)
    context = {"listing": listing, "rows": rows, "may_contact": can(user, CHANGE, listing)}
    template = (
        "exchange/partials/listing_matches.html" if htmx.wants_partial(request) else "exchange/listing_matches.html"
    )
    return render(request, template, context)


def _contact(request: HttpRequest, listing: Listing) -> HttpResponse:
    user: Any = request.user
    other_id = request.POST.get("other", "")
    if not other_id.isdecimal() or int(other_id) > 2**63 - 1:
        raise Http404
    other = get_for_user(Listing.objects.published(), user, VIEW, pk=int(other_id))
    result = next((r for o, r in matching_service.rank(listing, top_n=50) if o.pk == other.pk), None)
    match = services.contact_match(
        actor=user, listing=listing, other=other, score=result.score if result else 0.0,
        reasons=[{"code": r.code, **r.params} for r in result.reasons] if result else [],
    )  # fmt: skip
    messages.success(request, _("You asked to talk. The other side is told; write to them in the conversation."))
    return redirect("exchange:match", pk=match.pk)


# --- matches and their conversation ---------------------------------------------------------------


@login_required
def match_list(request: HttpRequest) -> HttpResponse:
    """List the matches of the user's enterprise, or all in a staff member's scope."""
    user: Any = request.user
    _require_use(user)
    status = request.GET.get("status", "")
    status = status if status in M.values else ""
    page = htmx.paginate(request, selectors.match_list(user, status), PAGE_SIZE)
    context = {"page": page, "matches": list(page.object_list), "status": status, "statuses": M.choices}
    return htmx.render_list(request, "exchange/matches.html", "exchange/partials/match_results.html", context)


def _match_context(request: HttpRequest, match: Match, **forms: Any) -> dict[str, Any]:
    user: Any = request.user
    side = services.side_of(user, match)
    both_agreed = match.status in {M.IN_TALKS, M.DEAL}
    for listing in (match.need, match.offer):
        listing.contact = selectors.contact_for(listing)  # type: ignore[attr-defined]
        own = side and getattr(listing, "direction", "") == side
        listing.contact_visible = bool(own or both_agreed or selectors.manages(user, listing))  # type: ignore[attr-defined]
    revealed = [listing.pk for listing in (match.need, match.offer) if listing.contact_visible and listing.contact]  # type: ignore[attr-defined]
    if revealed and match.status in {M.IN_TALKS, M.DEAL}:
        audit.record("exchange.match.contact_revealed", actor=user, target=match,
                     organization_id=match.need.organization_id, data={"listings": revealed})  # fmt: skip
    is_party = bool(side)
    may_write = match.status not in {M.DEAL, M.DECLINED} and (is_party or can(user, CHANGE, match))
    return {
        "match": match,
        "need": match.need,
        "offer": match.offer,
        "side": side,
        "reasons": describe_all(match.reasons),
        "history": list(selectors.match_history(match)),
        "messages_list": list(selectors.match_messages(match)),
        "percent": round(match.score * 100),
        "is_party": is_party,
        "my_agreed": bool(side and getattr(match, f"{side}_agreed_at")),
        "may_write": may_write,
        "may_propose": is_party and match.status == M.IN_TALKS and not match.proposed_side,
        "may_confirm": is_party and match.status == M.IN_TALKS and match.proposed_side not in {"", side},
        "my_proposal": is_party and match.proposed_side == side,
        "may_decline": match.status not in {M.DEAL, M.DECLINED} and (is_party or can(user, CHANGE, match)),
        "is_open": match.status not in {M.DEAL, M.DECLINED},
        "message_form": forms.get("message_form") or MessageForm(),
        "deal_form": forms.get("deal_form") or DealForm(),
        "decline_form": forms.get("decline_form") or DeclineForm(),
    }


def _fetch_match(request: HttpRequest, pk: int, action: str = VIEW) -> Match:
    match = get_for_user(Match.objects.select_related(*selectors.MATCH_RELATED), request.user, action, pk=pk)
    redirect_on_error(request, reverse("exchange:match", args=[match.pk]))
    return match


@login_required
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a match: both listings, why they fit, the conversation, the next steps and the timeline."""
    match = _fetch_match(request, pk)
    return render(request, "exchange/match_detail.html", _match_context(request, match))


def _back_to(match: Match) -> HttpResponse:
    return redirect(reverse("exchange:match", args=[match.pk]) + "#conversation")


@login_required
@require_POST
def match_message(request: HttpRequest, pk: int) -> HttpResponse:
    """Post a message in the conversation."""
    match = _fetch_match(request, pk)
    form = MessageForm(request.POST)
    posted: Any = form.is_valid() and call_service(
        form, lambda: services.post_message(actor=request.user, match=match, body=form.cleaned_data["body"])
    )
    if posted:
        return _back_to(match)
    context = _match_context(request, match, message_form=form)
    return render(request, "exchange/match_detail.html", context, status=400)


@login_required
@require_POST
def match_talk(request: HttpRequest, pk: int) -> HttpResponse:
    """Agree to talk for the user's side (both sides agreeing shows the contacts)."""
    match = _fetch_match(request, pk, PARTY)
    services.agree_to_talk(actor=request.user, match=match)
    messages.success(request, _("You agreed to talk; the other side is told."))
    return _back_to(match)


@login_required
@require_POST
def match_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose the deal (the other side confirms it)."""
    match = _fetch_match(request, pk, PARTY)
    form = DealForm(request.POST)
    proposed: Any = form.is_valid() and call_service(
        form,
        lambda: services.propose_deal(actor=request.user, match=match, amount=form.amount_in_yuan(),
                                      date=form.cleaned_data["deal_date"]),
    )  # fmt: skip
    if proposed:
        messages.success(request, _("The deal was proposed; it counts once the other side confirms it."))
        return _back_to(match)
    return render(request, "exchange/match_detail.html", _match_context(request, match, deal_form=form), status=400)


@login_required
@require_POST
def match_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm the other side's proposed deal."""
    match = _fetch_match(request, pk, PARTY)
    services.confirm_deal(actor=request.user, match=match)
    messages.success(request, _("The deal is confirmed and counted."))
    return _back_to(match)


@login_required
@require_POST
def match_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw (or turn down) a proposed deal."""
    match = _fetch_match(request, pk, PARTY)
    services.withdraw_proposal(actor=request.user, match=match, reason=request.POST.get("reason", "")[:300])
    messages.info(request, _("The proposed deal was withdrawn."))
    return _back_to(match)


@login_required
@require_POST
def match_decline(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline the match with a reason."""
    match = _fetch_match(request, pk)
    form = DeclineForm(request.POST)
    declined: Any = form.is_valid() and call_service(
        form, lambda: services.decline_match(actor=request.user, match=match, reason=form.cleaned_data["reason"])
    )
    if declined:
        messages.info(request, _("The match was declined; the other side is told."))
        return _back_to(match)
    return render(request, "exchange/match_detail.html", _match_context(request, match, decline_form=form), status=400)


@login_required
@require_POST
def match_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a match by target status (talk, deal, declined): the one-form path older pages and scripts use."""
    match = _fetch_match(request, pk)
    form = MatchStatusForm(request.POST)
    moved: Any = form.is_valid() and call_service(
        form,
        lambda: services.move_match(
            actor=request.user, match=match, to_status=form.cleaned_data["to_status"],
            deal_amount=form.amount_in_yuan(), deal_date=form.cleaned_data["deal_date"],
            reason=form.cleaned_data["reason"],
        ),
        {"deal_amount": "deal_amount", "deal_date": "deal_date", "reason": "reason"},
    )  # fmt: skip
    if moved:
        return _back_to(match)
    deal_form = DealForm(request.POST)
    deal_form.is_valid()
    for field, errors in form.errors.items():
        for error in errors:
            deal_form.add_error(field if field in deal_form.fields else None, error)
    return render(request, "exchange/match_detail.html", _match_context(request, match, deal_form=deal_form),
                  status=400)  # fmt: skip


# --- introduce -----------------------------------------------------------------------------------


@login_required
def introduce(request: HttpRequest) -> HttpResponse:
    """Let staff introduce a need and an offer picked from two searches (牵线对接)."""
    user: Any = request.user
    if not has_capability(user, "exchange.introduce"):
        raise PermissionDenied
    initial = {"need": request.GET.get("need") or None, "offer": request.GET.get("offer") or None}
    form = IntroduceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        visible = Listing.objects.for_user(user, VIEW).published()
        need = visible.filter(pk=form.cleaned_data["need"], direction="need").first()
        offer = visible.filter(pk=form.cleaned_data["offer"], direction="offer").first()
        if need is None:
            form.add_error(None, _("Pick a published need."))
        if offer is None:
            form.add_error(None, _("Pick a published offer."))
        if need is not None and offer is not None:
            match = call_service(
                form, lambda: services.introduce(actor=user, need=need, offer=offer, note=form.cleaned_data["note"])
            )
            if match is not None:
                messages.success(request, _("The two enterprises were introduced and notified."))
                return redirect("exchange:match", pk=match.pk)
    need_query = request.GET.get("need_q", "").strip()[:100]
    offer_query = request.GET.get("offer_q", "").strip()[:100]
    chosen_need = selectors.introducible_listing(user, "need", request.POST.get("need") or request.GET.get("need"))
    chosen_offer = selectors.introducible_listing(user, "offer", request.POST.get("offer") or request.GET.get("offer"))
    context = {
        "form": form,
        "need_q": need_query,
        "offer_q": offer_query,
        "chosen_need": chosen_need,
        "chosen_offer": chosen_offer,
        "needs": list(selectors.introducible_listings(user, "need", need_query)[:10]),
        "offers": list(selectors.introducible_listings(user, "offer", offer_query)[:10]),
        "suggested_offers": selectors.ranked_matches(user, chosen_need, top=5) if chosen_need else [],
    }
    return render(request, "exchange/introduce.html", context)


# --- emergency boards ----------------------------------------------------------------------------


@login_required
def emergency_boards(request: HttpRequest) -> HttpResponse:
    """List the emergency boards; federation staff open and close them."""
    user: Any = request.user
    _require_use(user)
    may_manage = has_capability(user, "exchange.manage_boards")
    form = EmergencyBoardForm(request.POST or None) if may_manage else None
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if request.POST.get("action") == "close":
            board_obj = get_for_user(EmergencyBoard.objects.all(), user, CHANGE, pk=_int(request.POST.get("board")))
            services.close_emergency_board(actor=user, board=board_obj)
            messages.success(request, _("The emergency board was closed."))
            return redirect("exchange:emergency")
        if form is not None and form.is_valid():
            opened = call_service(form, lambda: services.open_emergency_board(actor=user, **form.cleaned_data))
            if opened is not None:
                messages.success(request, _("The emergency board is open."))
                return redirect("exchange:emergency_board", pk=opened.pk)
    context = {"boards": list(selectors.boards(user)), "form": form, "may_manage": may_manage}
    return render(request, "exchange/emergency_list.html", context)


def _int(value: Any) -> int:
    text = str(value or "")
    if not text.isdecimal() or int(text) > 2**63 - 1:
        raise Http404
    return int(text)


@login_required
def emergency_board(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the live board: each urgent need of its category with the offers that fit it, and declarations."""
    user: Any = request.user
    board_obj = get_for_user(EmergencyBoard.objects.all(), user, VIEW, pk=pk)
    # Enterprise contacts declare for their own enterprise (staff would face a select of every member).
    enterprises = selectors.own_enterprises(user)
    form = CapacityForm(request.POST or None, enterprises=enterprises)
    if request.method == "POST" and form.is_valid():
        declared = call_service(
            form, lambda: services.declare_capacity(actor=user, board=board_obj, **form.cleaned_data)
        )
        if declared is not None:
            messages.success(request, _("Your stock and capacity were recorded."))
            return redirect("exchange:emergency_board", pk=board_obj.pk)
    context: dict[str, Any] = {
        "board": board_obj,
        "needs": selectors.emergency_needs(user, board_obj),
        "declarations": list(selectors.capacity_declarations(user, board_obj)[:200]),
        "is_staff_view": has_capability(user, "exchange.review"),
    }
    if htmx.wants_partial(request):
        return htmx.render_list(request, "", "exchange/partials/emergency_live.html", context)
    context["form"] = form if board_obj.is_active and enterprises.exists() else None
    return htmx.render_list(request, "exchange/emergency_board.html", "", context)


# --- statistics ------------------------------------------------------------------------------------------


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    """Show the confirmed deals within the user's scope: count and amount, by category and month."""
    user: Any = request.user
    _require_use(user)
    deal_stats = selectors.deal_stats(user)
    categories = [
        {"label": Category(row["need__category"]).label, "count": row["count"], "amount": row["amount"]}
        for row in deal_stats.by_category
        if row["need__category"] in Category.values
    ]
    context = {"stats": deal_stats, "categories": categories, "sections": panels_for(request, "exchange.stats")}
    return render(request, "exchange/stats.html", context)
