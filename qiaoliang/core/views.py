"""Home dashboard and health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from qiaoliang.orgs.models import Membership, Organization
from qiaoliang.orgs.selectors import dashboard_counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show counts per organisation kind and member level within the user's scope."""
    counts = dashboard_counts(request.user)
    kinds = [(label, counts["organizations_by_kind"].get(value, 0)) for value, label in Organization.Kind.choices]
    levels = [(label, counts["memberships_by_level"].get(value, 0)) for value, label in Membership.Level.choices]
    return render(request, "core/home.html", {"counts": counts, "kinds": kinds, "levels": levels})


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers (for the load balancer)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
