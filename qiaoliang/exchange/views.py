"""Web pages of the resource exchange (供需对接): board, listings, review, matches, emergency boards, stats.

Views stay thin: parse input, fetch through the user's scope, call one service, render. A domain
refusal (`DomainError`) becomes a form error or a message; `NotAllowedError` becomes 403. Lists answer
an htmx request with their results partial only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from qiaoliang.core import htmx
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, can, get_for_user, get_scope
from qiaoliang.exchange import matching_service, selectors, services
from qiaoliang.exchange.forms import (
    AttachmentForm,
    BoardFilterForm,
    CapacityForm,
    EmergencyBoardForm,
    IntroduceForm,
    ListingForm,
    MatchStatusForm,
    ReviewForm,
    add_domain_error,
)
from qiaoliang.exchange.models import Category, EmergencyBoard, Listing, Match
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
MATCH_ACTIONS: dict[str, tuple[Any, str]] = {
    M.CONTACTED: (gettext_lazy("Mark as contacted"), "primary"),
    M.IN_TALKS: (gettext_lazy("In talks"), "info"),
    M.DEAL: (gettext_lazy("Record a deal"), "success"),
    M.DECLINED: (gettext_lazy("Decline"), "outline-danger"),
}


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _require_role(user: Any) -> None:
    """Keep accounts without any role (and so without a board) out of exchange pages."""
    scope = get_scope(user)
    if not scope.is_all and not scope.roles:
        raise Http404


def _listing_actions(user: Any, listing: Listing) -> list[dict[str, Any]]:
    """Return the status buttons the table allows and the user may press."""
    may_change = can(user, CHANGE, listing)
    may_review = can(user, "review", listing)
    actions = []
    for to_status, (label, style) in LISTING_ACTIONS.items():
        if not services.can_transition_listing(listing, to_status):
            continue
        needs_review = (listing.status, to_status) in services.REVIEW_MOVES
        if (needs_review and may_review) or (not needs_review and (may_change or may_review)):
            if to_status == S.PUBLISHED and listing.status == S.DRAFT:
                label = gettext_lazy("Publish")
            actions.append({"to": to_status, "label": label, "style": style})
    return actions


def _match_actions(user: Any, match: Match) -> list[dict[str, Any]]:
    if not can(user, CHANGE, match):
        return []
    return [
        {"to": to_status, "label": label, "style": style}
        for to_status, (label, style) in MATCH_ACTIONS.items()
        if services.can_transition_match(match, to_status)
    ]


# --- board ------------------------------------------------------------------------------


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """Search and filter the published offers and needs, urgent ones first, 20 per page."""
    user: Any = request.user
    _require_role(user)
    filters = BoardFilters.from_mapping(request.GET)
    page = htmx.paginate(request, selectors.board_listings(user, filters), PAGE_SIZE)
    listings = list(page.object_list)
    selectors.attach_contacts(user, listings)
    context: dict[str, Any] = {"page": page, "listings": listings, "filters": filters}
    if not htmx.wants_partial(request):
        organizations = list(Organization.objects.for_user(user, "view").only("pk", "name", "short_name", "depth"))
        context["form"] = BoardFilterForm(request.GET or None, organizations=organizations)
        context["has_filters"] = bool(filters.as_query())
    return htmx.render_list(request, "exchange/board.html", "exchange/partials/board_results.html", context)


# --- my listings, create, edit ------------------------------------------------------------


@login_required
def my_listings(request: HttpRequest) -> HttpResponse:
    """List the listings of the user's enterprise (or of the enterprises they manage), newest change first."""
    user: Any = request.user
    _require_role(user)
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
    form = ListingForm(request.POST or None, enterprises=enterprises, people=people)
    if request.method == "POST" and form.is_valid():
        enterprise = form.cleaned_data["enterprise"]
        publish = request.POST.get("action") == "publish" and selectors.may_publish_directly(user, enterprise)
        submit = request.POST.get("action") == "submit"
        fields = form.listing_fields()
        try:
            listing = services.create_listing(
                actor=user, enterprise=enterprise, submit=submit, publish=publish,
                direction=fields.pop("direction"), category=fields.pop("category"), title=fields.pop("title"),
                valid_until=fields.pop("valid_until"), **fields,
            )  # fmt: skip
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The listing was saved."))
            return redirect("exchange:listing", pk=listing.pk)
    may_publish = selectors.may_publish_directly(user, first_few[0])
    return render(request, "exchange/listing_form.html", {"form": form, "may_publish": may_publish})


@login_required
def listing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a listing; an enterprise's edit of a published listing goes back to review."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.select_related("enterprise"), user, CHANGE, pk=pk)
    people = selectors.contact_people([listing.enterprise_id])
    form = ListingForm(request.POST or None, initial=ListingForm.initial_for(listing), people=people, listing=listing)
    if request.method == "POST" and form.is_valid():
        try:
            listing = services.update_listing(actor=user, listing=listing, **form.listing_fields())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The listing was saved."))
            return redirect("exchange:listing", pk=listing.pk)
    return render(request, "exchange/listing_form.html", {"form": form, "listing": listing})


@login_required
@require_POST
def listing_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit, withdraw, close, approve or return a listing (the service checks table and rights)."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.all(), user, "view", pk=pk)
    to_status = request.POST.get("to", "")
    form = ReviewForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    if to_status not in S.values:
        messages.error(request, _("Unknown status."))
    else:
        try:
            services.transition_listing(actor=user, listing=listing, to_status=to_status, note=note)
        except NotAllowedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The listing is now: %(status)s.") % {"status": S(to_status).label})
    return redirect(_next_url(request, reverse("exchange:listing", args=[listing.pk])))


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a file to a listing (type and size checked by the service)."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.all(), user, CHANGE, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to attach."))
    else:
        try:
            services.add_attachment(actor=user, listing=listing, upload=form.cleaned_data["file"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The file was attached."))
    return redirect("exchange:listing", pk=listing.pk)


# --- review ---------------------------------------------------------------------------------


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """List the pending listings the user reviews, oldest first, with approve and return buttons."""
    user: Any = request.user
    if not selectors.may_review_any(user):
        raise PermissionDenied
    page = htmx.paginate(request, selectors.review_queue(user), PAGE_SIZE)
    return render(request, "exchange/review.html", {"page": page, "listings": list(page.object_list)})


# --- listing page and its matches ---------------------------------------------------------------


@login_required
def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a listing: details, contact (per its visibility), attachments, timeline and, for its side, matches."""
    user: Any = request.user
    queryset = Listing.objects.select_related(*selectors.LISTING_RELATED)
    listing = get_for_user(queryset, user, "view", pk=pk)
    selectors.attach_contacts(user, [listing])
    may_change = can(user, CHANGE, listing)
    may_review = can(user, "review", listing)
    context = {
        "listing": listing,
        "history": list(selectors.listing_history(listing)),
        "attachments": list(listing.attachments.all()),
        "may_change": may_change and listing.status != S.CLOSED,
        "may_see_matches": may_change or may_review,
        "actions": _listing_actions(user, listing),
        "attachment_form": AttachmentForm(),
        "match_count": selectors.match_list(user, listing_id=listing.pk).count() if may_change or may_review else 0,
    }
    return render(request, "exchange/listing_detail.html", context)


@login_required
def listing_matches(request: HttpRequest, pk: int) -> HttpResponse:
    """Rank the listings that fit this one (GET), or contact one of them (POST) — for its side and staff."""
    user: Any = request.user
    listing = get_for_user(Listing.objects.select_related("enterprise"), user, "view", pk=pk)
    if not (can(user, CHANGE, listing) or can(user, "review", listing)):
        raise PermissionDenied
    if request.method == "POST":
        return _contact(request, listing)
    ranked = matching_service.rank(listing, top_n=RANKED_MATCHES)
    stored = selectors.listing_matches_by_other(listing, [other.pk for other, _result in ranked])
    rows = [
        {
            "listing": other,
            "score": result.score,
            "percent": round(result.score * 100),
            "reasons": describe_all(result.reasons),
            "match": stored.get(other.pk),
        }
        for other, result in ranked
    ]
    context = {"listing": listing, "rows": rows, "may_contact": can(user, CHANGE, listing)}
    template = (
        "exchange/partials/listing_matches.html" if htmx.wants_partial(request) else "exchange/listing_matches.html"
    )
    return render(request, template, context)


def _contact(request: HttpRequest, listing: Listing) -> HttpResponse:
    user: Any = request.user
    other_id = request.POST.get("other", "")
    if not other_id.isdigit():
        raise Http404
    other = get_for_user(Listing.objects.published(), user, "view", pk=int(other_id))
    result = next((r for o, r in matching_service.rank(listing, top_n=50) if o.pk == other.pk), None)
    try:
        match = services.contact_match(
            actor=user, listing=listing, other=other,
            score=result.score if result else 0.0,
            reasons=[{"code": r.code, **r.params} for r in result.reasons] if result else [],
        )  # fmt: skip
    except NotAllowedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("exchange:listing", pk=listing.pk)
    messages.success(request, _("The match is marked as contacted. Record the talks and the deal here."))
    return redirect("exchange:match", pk=match.pk)


# --- matches --------------------------------------------------------------------------------


@login_required
def match_list(request: HttpRequest) -> HttpResponse:
    """List the matches of the user's enterprise, or all in a staff member's scope."""
    user: Any = request.user
    _require_role(user)
    status = request.GET.get("status", "")
    status = status if status in M.values else ""
    page = htmx.paginate(request, selectors.match_list(user, status), PAGE_SIZE)
    context = {"page": page, "matches": list(page.object_list), "status": status, "statuses": M.choices}
    return htmx.render_list(request, "exchange/matches.html", "exchange/partials/match_results.html", context)


def _match_context(user: Any, match: Match, form: MatchStatusForm | None = None) -> dict[str, Any]:
    both = [match.need, match.offer]
    selectors.attach_contacts(user, both)
    return {
        "match": match,
        "need": match.need,
        "offer": match.offer,
        "reasons": describe_all(match.reasons),
        "history": list(selectors.match_history(match)),
        "actions": _match_actions(user, match),
        "form": form or MatchStatusForm(),
        "percent": round(match.score * 100),
    }


@login_required
def match_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a match: both listings, reasons, contacts, timeline and the next steps."""
    user: Any = request.user
    match = get_for_user(Match.objects.select_related(*selectors.MATCH_RELATED), user, "view", pk=pk)
    return render(request, "exchange/match_detail.html", _match_context(user, match))


@login_required
@require_POST
def match_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a match: contacted, in talks, deal (amount in yuan or 万元, date) or declined (reason)."""
    user: Any = request.user
    match = get_for_user(Match.objects.select_related(*selectors.MATCH_RELATED), user, CHANGE, pk=pk)
    form = MatchStatusForm(request.POST)
    if form.is_valid():
        try:
            services.transition_match(
                actor=user, match=match, to_status=form.cleaned_data["to_status"],
                deal_amount=form.amount_in_yuan(), deal_date=form.cleaned_data["deal_date"],
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except NotAllowedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            field = {"deal_amount": "deal_amount", "deal_date": "deal_date", "reason": "reason"}.get(exc.code)
            form.add_error(field, exc.message)
        else:
            label = M(form.cleaned_data["to_status"]).label
            messages.success(request, _("The match is now: %(status)s.") % {"status": label})
            return redirect("exchange:match", pk=match.pk)
    return render(request, "exchange/match_detail.html", _match_context(user, match, form), status=400)


# --- introduce -----------------------------------------------------------------------------------


@login_required
def introduce(request: HttpRequest) -> HttpResponse:
    """Let staff introduce a need and an offer by hand (numbers, or picked from a search)."""
    user: Any = request.user
    if not selectors.may_review_any(user):
        raise PermissionDenied
    initial = {"need": request.GET.get("need"), "offer": request.GET.get("offer")}
    form = IntroduceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        visible = Listing.objects.for_user(user, "view").published()
        need = visible.filter(pk=form.cleaned_data["need"], direction="need").first()
        offer = visible.filter(pk=form.cleaned_data["offer"], direction="offer").first()
        if need is None:
            form.add_error("need", _("No published need with this number."))
        if offer is None:
            form.add_error("offer", _("No published offer with this number."))
        if need is not None and offer is not None:
            try:
                match = services.introduce(actor=user, need=need, offer=offer, note=form.cleaned_data["note"])
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The two enterprises were introduced and notified."))
                return redirect("exchange:match", pk=match.pk)
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "form": form,
        "q": query,
        "needs": list(selectors.introducible_listings(user, "need", query)[:10]),
        "offers": list(selectors.introducible_listings(user, "offer", query)[:10]),
    }
    return render(request, "exchange/introduce.html", context)


# --- emergency boards ----------------------------------------------------------------------------


@login_required
def emergency_boards(request: HttpRequest) -> HttpResponse:
    """List the emergency boards; federation staff open and close them."""
    user: Any = request.user
    _require_role(user)
    may_manage = get_scope(user).is_all
    form = EmergencyBoardForm(request.POST or None) if may_manage else None
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        try:
            if request.POST.get("action") == "close":
                board_obj = get_object_or_404(EmergencyBoard, pk=request.POST.get("board", "0") or 0)
                services.close_emergency_board(actor=user, board=board_obj)
                messages.success(request, _("The emergency board was closed."))
                return redirect("exchange:emergency")
            if form is not None and form.is_valid():
                board_obj = services.open_emergency_board(actor=user, **form.cleaned_data)
                messages.success(request, _("The emergency board is open."))
                return redirect("exchange:emergency_board", pk=board_obj.pk)
        except NotAllowedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            if form is not None:
                form.add_error(None, exc.message)
            else:
                messages.error(request, exc.message)
    context = {"boards": list(selectors.boards(user)), "form": form, "may_manage": may_manage}
    return render(request, "exchange/emergency_list.html", context)


@login_required
def emergency_board(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the live matching board (urgent needs and their best matches) and stock/capacity declarations."""
    user: Any = request.user
    _require_role(user)
    board_obj = get_object_or_404(EmergencyBoard, pk=pk)
    # Enterprise contacts declare for their own enterprise (staff would face a select of every member).
    enterprises = selectors.changeable_enterprises(user).filter(pk__in=get_scope(user).own_enterprise_ids)
    form = CapacityForm(request.POST or None, enterprises=enterprises)
    if request.method == "POST" and form.is_valid():
        try:
            services.declare_capacity(actor=user, board=board_obj, **form.cleaned_data)
        except NotAllowedError as exc:
            raise PermissionDenied(exc.message) from exc
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your stock and capacity were recorded."))
            return redirect("exchange:emergency_board", pk=board_obj.pk)
    context: dict[str, Any] = {
        "board": board_obj,
        "needs": selectors.emergency_needs(user, board_obj),
        "declarations": list(selectors.capacity_declarations(user, board_obj)[:200]),
        "is_staff_view": selectors.may_review_any(user),
    }
    if htmx.wants_partial(request):
        return htmx.render_list(request, "", "exchange/partials/emergency_live.html", context)
    context["form"] = form if board_obj.is_active and enterprises.exists() else None
    return htmx.render_list(request, "exchange/emergency_board.html", "", context)


# --- notifications and statistics ------------------------------------------------------------------


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """List the user's notifications; POST marks one or all as read."""
    user: Any = request.user
    if request.method == "POST":
        which = request.POST.get("read", "")
        ids = None if which == "all" else ([int(which)] if which.isdigit() else [])
        services.mark_notifications_read(user=user, ids=ids)
        return redirect(_next_url(request, reverse("exchange:notifications")))
    page = htmx.paginate(request, selectors.notifications(user), PAGE_SIZE)
    return render(request, "exchange/notifications.html", {"page": page, "notifications": list(page.object_list)})


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    """Show the deals brokered within the user's scope: count and amount, by category and month."""
    user: Any = request.user
    _require_role(user)
    deal_stats = selectors.deal_stats(user)
    categories = [
        {"label": Category(row["need__category"]).label, "count": row["count"], "amount": row["amount"]}
        for row in deal_stats.by_category
        if row["need__category"] in Category.values
    ]
    return render(request, "exchange/stats.html", {"stats": deal_stats, "categories": categories})
