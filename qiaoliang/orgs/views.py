"""Web pages of the roster: organisations, zones, the member directory, enterprises and people.

Views stay thin: parse input, fetch through the user's scope, call one service, render. A list
answers an htmx request with its results partial only, so live search swaps just that part.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.core import audit, htmx
from qiaoliang.core.api import MAX_ID
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, REVIEW, can, get_for_user, has_capability
from qiaoliang.core.text import compact_text, is_pinyin_query, to_simplified
from qiaoliang.orgs import selectors, services
from qiaoliang.orgs.forms import (
    DirectoryFilterForm,
    EnterpriseCreateForm,
    EnterpriseEditForm,
    OrganizationForm,
)
from qiaoliang.orgs.models import Enterprise, Membership, Organization, Person, Position, Zone
from qiaoliang.orgs.selectors import DirectoryFilters, get_scope

PAGE_SIZE = 50


def _page_ids(objects: Iterable[Any]) -> list[int]:
    return [obj.pk for obj in objects]


def _record_personal_view(action: str, user: Any, target: Any = None, **data: Any) -> None:
    """Audit a page that showed unmasked mobile numbers or e-mail addresses."""
    organization_id = target.pk if isinstance(target, Organization) else None
    audit.record(action, actor=user, target=target, organization_id=organization_id, data=data)


# --- organisations ----------------------------------------------------------------


@login_required
def organization_tree(request: HttpRequest) -> HttpResponse:
    """Show the visible organisations in tree order with their active member counts."""
    organizations = selectors.organization_tree(request.user)
    return render(request, "orgs/tree.html", {"organizations": organizations})


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an organisation: details, breadcrumbs, posts, zones, partnerships and members."""
    user: Any = request.user
    organization = get_for_user(Organization.objects.select_related("region"), user, "view", pk=pk)
    members = htmx.paginate(request, selectors.organization_members(user, organization), PAGE_SIZE)
    context: dict[str, Any] = {"organization": organization, "members": members}
    if htmx.wants_partial(request):
        return htmx.render_list(request, "", "orgs/partials/organization_members.html", context)
    visible = Organization.objects.for_user(user, "view")
    context.update(
        ancestors=list(visible.filter(pk__in=organization.ancestor_ids()[:-1]).order_by("path")),
        children=list(visible.filter(parent=organization).order_by("path")),
        positions=list(selectors.organization_positions(organization).order_by("title", "person__name_pinyin")),
        zones=list(Zone.objects.for_user(user, "view").filter(organizations=organization)),
        partnerships=list(organization.partnerships.all()),
        may_change=can(user, "change", organization),
    )
    return htmx.render_list(request, "orgs/organization_detail.html", "", context)


@login_required
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Let staff and the secretaries of its subtree change an organisation's details."""
    user: Any = request.user
    organization = get_for_user(Organization.objects.all(), user, "change", pk=pk)
    form = OrganizationForm(request.POST or None, initial=OrganizationForm.initial_for(organization))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization(actor=request.user, organization=organization, **form.changes())
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The organisation was saved."))
            return redirect("orgs:organization", pk=organization.pk)
    return render(request, "orgs/organization_form.html", {"organization": organization, "form": form})


# --- zones --------------------------------------------------------------------------


@login_required
def zone_list(request: HttpRequest) -> HttpResponse:
    """List the zones the user may see with their organisations and chief convenors."""
    chiefs = Position.objects.filter(title=Position.Title.CHIEF_CONVENOR).select_related("person")
    zones = (
        Zone.objects.for_user(request.user, "view")  # type: ignore[arg-type]
        .select_related("federation")
        .annotate(organization_count=Count("organizations", distinct=True))
        .prefetch_related(Prefetch("positions", queryset=chiefs, to_attr="chief_convenors"))
        .order_by("code")
    )
    return render(request, "orgs/zone_list.html", {"zones": zones})


@login_required
def zone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a zone: its organisations, chief convenor, convenors and secretariat group."""
    user: Any = request.user
    zone = get_for_user(Zone.objects.select_related("federation"), user, "view", pk=pk)
    organizations = (
        Organization.objects.for_user(user, "view")
        .filter(member_of_zones=zone)
        .annotate(member_count=Count("memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)))
        .order_by("path")
    )
    positions = list(zone.positions.select_related("person", "person__enterprise").order_by("person__name_pinyin"))
    by_title = {title: [p for p in positions if p.title == title] for title in Position.Title.values}
    context = {
        "zone": zone,
        "organizations": organizations,
        "chief_convenors": by_title[Position.Title.CHIEF_CONVENOR],
        "convenors": by_title[Position.Title.CONVENOR],
        "secretariat": by_title[Position.Title.SECRETARIAT],
        "other_positions": [
            p
            for p in positions
            if p.title not in {Position.Title.CHIEF_CONVENOR, Position.Title.CONVENOR, Position.Title.SECRETARIAT}
        ],
    }
    return render(request, "orgs/zone_detail.html", context)


# --- member directory -------------------------------------------------------------------


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    """Search and filter the member enterprises the user may see, sorted by pinyin, 50 per page.

    The count stops at htmx.COUNT_LIMIT ("1,000+"): an exact count of a broad search would read every match.
    """
    user: Any = request.user
    filters = DirectoryFilters.from_mapping(request.GET)
    queryset = selectors.enterprise_directory(user, filters).only(*selectors.DIRECTORY_ROW_FIELDS)

    def paginator(object_list: Any, per_page: int) -> htmx.CappedPaginator:
        return htmx.CappedPaginator(
            object_list, per_page, parts=lambda: selectors.enterprise_directory_parts(user, filters)
        )

    page = htmx.paginate(request, queryset, PAGE_SIZE, paginator)
    scope = get_scope(user)
    organizations: list[Organization] = []
    visible_org_ids: set[int] | None = None
    if not htmx.wants_partial(request):
        organizations = list(
            Organization.objects.for_user(user, "view").only("pk", "name", "short_name", "depth", "path")
        )
    if not scope.is_all:
        visible_org_ids = (
            {org.pk for org in organizations}
            if organizations
            else set(Organization.objects.for_user(user, "view").values_list("pk", flat=True))
        )
    enterprises, shown = selectors.directory_rows(user, list(page.object_list), visible_org_ids)
    placeholder = 2**31 - 1  # one reverse() for the page, not one per row
    url = reverse("orgs:enterprise", args=[placeholder])
    for row in enterprises:
        row["url"] = url.replace(str(placeholder), str(row["pk"]))
    if shown:
        _record_personal_view("orgs.directory.personal_data_viewed", user, enterprises=shown)
    context: dict[str, Any] = {
        "page": page,
        "enterprises": enterprises,
        "filters": filters,
        "export_url": f"{reverse('orgs:directory_export')}?{urlencode(filters.as_query())}",
        "may_create": has_capability(user, "orgs.manage_members"),
    }
    if not htmx.wants_partial(request):
        context["form"] = DirectoryFilterForm(request.GET or None, organizations=organizations)
        context["has_filters"] = bool(filters.as_query())
    return htmx.render_list(request, "orgs/directory.html", "orgs/partials/directory_results.html", context)


# --- enterprises ----------------------------------------------------------------------


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an enterprise's profile, memberships and people; unmasked personal data is audited."""
    user: Any = request.user
    enterprise = get_for_user(Enterprise.objects.select_related("industry", "region"), user, "view", pk=pk)
    memberships = list(
        Membership.objects.for_user(user, "view")
        .filter(enterprise=enterprise)
        .select_related("organization")
        .order_by("organization__path")
    )
    people = list(
        Person.objects.for_user(user, "view")
        .filter(enterprise=enterprise)
        .order_by("-is_primary_contact", "name_pinyin")
    )
    positions = list(
        Position.objects.filter(person__in=[p.pk for p in people])
        .select_related("person", "organization", "zone")
        .order_by("person__name_pinyin", "title")
    )
    show_personal = can(user, "view_personal", enterprise)
    if show_personal and any(p.mobile or p.email for p in people):
        _record_personal_view(
            "orgs.enterprise.personal_data_viewed", user, target=enterprise, people=[p.pk for p in people]
        )
    for membership in memberships:
        membership.moves = (  # type: ignore[attr-defined]
            [(to, Membership.Status(to).label) for to in services.MEMBERSHIP_TRANSITIONS.targets(membership)]
            if can(user, "change", membership) else []
        )  # fmt: skip
    context = {
        "enterprise": enterprise,
        "memberships": memberships,
        "people": people,
        "positions": positions,
        "show_personal": show_personal,
        "may_change": can(user, "change", enterprise),
    }
    if can(user, REVIEW, enterprise):
        context.update(selectors.invitation_context(user, enterprise, people))
    return render(request, "orgs/enterprise_detail.html", context)


@login_required
@require_POST
def enterprise_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite a recorded enterprise to apply for membership of an organisation the user manages (a text message)."""
    user: Any = request.user
    enterprise = get_for_user(Enterprise.objects.all(), user, REVIEW, pk=pk)
    redirect_on_error(request, reverse("orgs:enterprise", args=[enterprise.pk]))
    chosen = str(request.POST.get("organization", ""))
    organization = get_for_user(
        Organization.objects.all(), user, CHANGE, pk=min(int(chosen), MAX_ID) if chosen.isdecimal() else 0
    )
    invitation = services.invite_to_join(
        actor=user, enterprise=enterprise, organization=organization, mobile=request.POST.get("mobile", "")[:20],
        note=request.POST.get("note", "")[:301],
    )  # fmt: skip
    messages.success(
        request,
        _("The invitation was sent to %(mobile)s; it is valid until %(date)s.")
        % {"mobile": invitation.mobile, "date": invitation.expires_at.date().isoformat()},
    )
    return redirect("orgs:enterprise", pk=enterprise.pk)


def _apply_domain_error(form: Any, exc: DomainError) -> None:
    field = exc.code if exc.code in form.fields else None
    form.add_error(field, exc.message)


@login_required
def enterprise_create(request: HttpRequest) -> HttpResponse:
    """Add a member enterprise to one of the organisations the user manages."""
    user: Any = request.user
    organizations = Organization.objects.for_user(user, "change").order_by("path")
    if not organizations.exists():
        raise PermissionDenied
    form = EnterpriseCreateForm(request.POST or None, organizations=organizations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        profile = form.profile_changes()
        try:
            enterprise = services.create_enterprise(
                actor=request.user,
                uscc=data["uscc"],
                organization=data["organization"],
                level=data["level"],
                joined_on=data["joined_on"],
                **profile,
            )
        except DomainError as exc:
            _apply_domain_error(form, exc)
        else:
            messages.success(request, _("The member enterprise was added."))
            return redirect("orgs:enterprise", pk=enterprise.pk)
    return render(request, "orgs/enterprise_form.html", {"form": form, "enterprise": None})


@login_required
def enterprise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Let the enterprise's managers change its profile."""
    user: Any = request.user
    enterprise = get_for_user(Enterprise.objects.all(), user, "change", pk=pk)
    form = EnterpriseEditForm(request.POST or None, initial=EnterpriseEditForm.initial_for(enterprise))
    reviewed = not can(user, "review", enterprise)
    if request.method == "POST" and form.is_valid():
        result = call_service(
            form, lambda: services.change_profile(actor=request.user, enterprise=enterprise, **form.profile_changes())
        )
        if result is not None:
            if result.change_request is not None:
                messages.info(request, _("Your changes are saved; the name, industry, region, size and ownership "
                                         "wait for the secretariat's review."))  # fmt: skip
            else:
                messages.success(request, _("The member enterprise was saved."))
            return redirect("orgs:enterprise", pk=enterprise.pk)
    context = {"form": form, "enterprise": enterprise, "key_fields_reviewed": reviewed}
    return render(request, "orgs/enterprise_form.html", context)


@login_required
@require_POST
def membership_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Suspend, end or reinstate a membership with a reason (its managers); the enterprise's contacts are told."""
    membership = get_for_user(Membership.objects.all(), request.user, "change", pk=pk)
    redirect_on_error(request, reverse("orgs:enterprise", args=[membership.enterprise_id]))
    services.transition_membership(
        actor=request.user, membership=membership, to_status=request.POST.get("to", ""),
        note=request.POST.get("note", "").strip()[:500],
    )  # fmt: skip
    messages.success(request, _("The membership was changed and the enterprise told."))
    return redirect("orgs:enterprise", pk=membership.enterprise_id)


# --- people --------------------------------------------------------------------------------


def search_people(queryset: QuerySet[Person], q: str) -> QuerySet[Person]:
    """Filter people by name (Simplified or Traditional) or by the start of its pinyin."""
    query = compact_text(q)
    if not query:
        return queryset
    condition = Q(name__contains=query) | Q(name__contains=to_simplified(q.strip()))
    if is_pinyin_query(query):
        condition |= Q(name_pinyin__startswith=query)
    return queryset.filter(condition)


@login_required
def people_list(request: HttpRequest) -> HttpResponse:
    """List the people the user may see, searchable by name or pinyin, with masked mobiles."""
    user: Any = request.user
    q = request.GET.get("q", "").strip()[:100]
    queryset = search_people(
        Person.objects.for_user(user, "view").select_related("enterprise").order_by("name_pinyin", "id"), q
    )
    page = htmx.paginate(request, queryset, PAGE_SIZE)
    people = list(page.object_list)
    allowed = set(
        Person.objects.for_user(user, "view_personal").filter(pk__in=_page_ids(people)).values_list("pk", flat=True)
    )
    for person in people:
        person.show_personal = person.pk in allowed  # type: ignore[attr-defined]
    shown = [p.pk for p in people if p.show_personal and p.mobile]  # type: ignore[attr-defined]
    if shown:
        _record_personal_view("orgs.people.personal_data_viewed", user, people=shown)
    context = {"page": page, "people": people, "q": q}
    return htmx.render_list(request, "orgs/people_list.html", "orgs/partials/people_results.html", context)


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a person with their enterprise and posts; unmasked contact details are audited."""
    user: Any = request.user
    person = get_for_user(Person.objects.select_related("enterprise"), user, "view", pk=pk)
    positions = list(person.positions.select_related("organization", "zone").order_by("-term_start", "title"))
    show_personal = can(user, "view_personal", person)
    if show_personal and (person.mobile or person.email):
        _record_personal_view("orgs.person.personal_data_viewed", user, target=person)
    context = {"person": person, "positions": positions, "show_personal": show_personal}
    return render(request, "orgs/person_detail.html", context)
