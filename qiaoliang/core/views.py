"""Platform pages: each role's home (工作台), notifications and their channels, code pickers, the health check."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from qiaoliang.core import htmx, industries, notifications, regions
from qiaoliang.core.errors import safe_next
from qiaoliang.core.forms import BootstrapForm, call_service
from qiaoliang.core.models import Industry, Notification, Region
from qiaoliang.core.navigation import panels_for
from qiaoliang.core.text import compact_text

PAGE_SIZE = 30


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show the user's work: each app contributes the panels of the roles the user has."""
    return render(request, "core/home.html", {"panels": panels_for(request)})


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers (for the load balancer)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """List the user's notifications, newest first; POST marks one or all as read (and opens its link)."""
    user: Any = request.user
    if request.method == "POST":
        which = request.POST.get("read", "")
        ids = None if which == "all" else ([int(which)] if which.isdecimal() and len(which) < 19 else [])
        notifications.mark_read(user=user, ids=ids)
        return redirect(safe_next(request, "core:notifications"))
    unread_only = request.GET.get("unread") == "1"
    queryset = Notification.objects.filter(user=user)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    page = htmx.paginate(request, queryset.order_by("-created_at", "-id"), PAGE_SIZE)
    context = {"page": page, "items": list(page.object_list), "unread_only": unread_only}
    return render(request, "core/notifications.html", context)


class PreferenceForm(BootstrapForm):
    email = forms.BooleanField(label=gettext_lazy("By e-mail"), required=False)
    sms = forms.BooleanField(label=gettext_lazy("By text message"), required=False)
    wecom = forms.BooleanField(label=gettext_lazy("To a WeCom group robot"), required=False)
    wecom_webhook = forms.URLField(label=gettext_lazy("WeCom group robot webhook"), required=False, max_length=300,
                                   assume_scheme="https")  # fmt: skip
    muted_kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Do not send these by e-mail, text message or WeCom"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("exchange.match.suggested", gettext_lazy("New match suggestions")),
            ("exchange.match.message", gettext_lazy("Messages in match conversations")),
            ("exchange.listing", gettext_lazy("Decisions on my listings")),
            ("orgs", gettext_lazy("Membership and profile decisions")),
            ("events", gettext_lazy("Events and registrations")),
        ],
    )


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Let a user choose the channels besides the in-app list."""
    user: Any = request.user
    current = notifications.preference_for(user)
    initial = {"email": current.email, "sms": current.sms, "wecom": current.wecom,
               "wecom_webhook": current.wecom_webhook, "muted_kinds": current.muted_kinds}  # fmt: skip
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, lambda: notifications.save_preferences(user=user, **form.cleaned_data))
        if saved is not None:
            messages.success(request, _("Your notification settings were saved."))
            return redirect("core:notification_preferences")
    context = {"form": form, "has_email": bool(user.email), "has_mobile": bool(user.mobile)}
    return render(request, "core/notification_preferences.html", context)


def _region_label(code: str, full_name: str, last_year: int | None) -> str:
    if last_year is None:
        return f"{code} {full_name}"
    return _("%(code)s %(name)s (a former division, last published in %(year)s)") % {
        "code": code,
        "name": full_name,
        "year": last_year,
    }


@login_required
@require_GET
def code_options(request: HttpRequest, kind: str) -> HttpResponse:
    """Return the GB/T 4754 industries or GB/T 2260 regions matching what was typed (search-as-you-type pickers)."""
    if kind not in {"industries", "regions"}:
        raise Http404
    query = compact_text(request.GET.get("q", ""))[:20]
    rows: list[tuple[str, str]] = []
    if kind == "industries":
        match = industries.resolver().resolve(query) if query else None
        first = [match.industry] if match and match.industry else list(match.candidates) if match else []
        rows = [(item.code, str(item)) for item in first]
        queryset: Any = Industry.objects.all()
        if query:
            queryset = queryset.filter(Q(code__startswith=query.upper()) | Q(name__contains=query))
        rows += [(row.code, f"{row.code} {row.name}") for row in queryset.order_by("level", "code")[:20]]
    else:
        # What the importers would read first (杭州西湖 → 330106, 下城区 → its former code), then the name matches;
        # former divisions come after the current ones and say so.
        found = regions.resolver().resolve(query) if query else None
        places = [found.place] if found and found.place else list(found.candidates) if found else []
        rows = [(place.code, _region_label(place.code, place.full_name, place.last_year)) for place in places]
        queryset = Region.objects.all()
        if query:
            queryset = queryset.filter(
                Q(code__startswith=query) | Q(name__contains=query) | Q(full_name__contains=query)
            )
        ordered = queryset.order_by(F("last_year").asc(nulls_first=True), "level", "code")[:20]
        rows += [(row.code, _region_label(row.code, row.full_name, row.last_year)) for row in ordered]
    unique = dict(reversed(rows))  # the first label of each code, in first-seen order below
    rows = [(code, unique[code]) for code in dict.fromkeys(code for code, _label in rows)][:20]
    return render(request, "partials/code_options.html", {"rows": rows})
