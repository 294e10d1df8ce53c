"""Enterprise figures, declarations and honours: entered by the enterprise, reviewed by its organisation's staff."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qiaoliang.core import drafts
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.files import serve_private_file
from qiaoliang.core.permissions import VIEW, get_for_user, has_capability
from qiaoliang.core.sheets import XLSX_CONTENT_TYPE, write_workbook
from qiaoliang.orgs.models import Enterprise
from qiaoliang.orgs.selectors import get_scope
from qiaoliang.policies import importers, selectors
from qiaoliang.policies.forms import DeclarationForm, FactForm, HonourForm, form_errors
from qiaoliang.policies.models import EnterpriseFact, EnterpriseHonour
from qiaoliang.policies.services import facts as fact_service

REVIEW_ROWS = 50


def _enterprise_for(request: HttpRequest) -> Enterprise:
    """The enterprise whose figures are shown: one's own, or (staff) the one named by ?enterprise=."""
    user: Any = request.user
    scope = get_scope(user)
    wanted = request.GET.get("enterprise") or request.POST.get("enterprise")
    if wanted:
        enterprise = Enterprise.objects.filter(pk=int(wanted) if str(wanted).isdecimal() else 0).first()
        if enterprise is None:
            raise PermissionDenied
        if (
            enterprise.pk in scope.own_enterprise_ids
            or scope.is_all
            or enterprise.memberships.filter(organization_id__in=scope.manage_member_org_ids, status="active").exists()
        ):
            return enterprise
        raise PermissionDenied
    if not scope.own_enterprise_ids:
        raise PermissionDenied
    return Enterprise.objects.get(pk=min(scope.own_enterprise_ids))


@login_required
def facts(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise_for(request)
    draft = f"policies.fact.{{}}.{enterprise.pk}"  # a refused form's text, filled in again
    return render(request, "policies/facts.html", {
        "enterprise": enterprise, "data": selectors.own_facts(enterprise.pk),
        "fact_form": FactForm(initial=drafts.take(request, draft.format("figure"))
                              or {"field": request.GET.get("field", "revenue"), "year": request.GET.get("year")}),
        "declaration_form": DeclarationForm(initial=drafts.take(request, draft.format("declaration"))
                                            or {"key": request.GET.get("key", "")}),
        "honour_form": HonourForm(initial=drafts.take(request, draft.format("honour"))),
        "is_own": enterprise.pk in get_scope(request.user).own_enterprise_ids,
    })  # fmt: skip


def _back(enterprise: Enterprise, request: HttpRequest) -> str:
    own = enterprise.pk in get_scope(request.user).own_enterprise_ids
    return reverse("policies:facts") + ("" if own else f"?enterprise={enterprise.pk}")


@login_required
@require_POST
def fact_save(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    enterprise = _enterprise_for(request)
    back = _back(enterprise, request)
    redirect_on_error(request, back)
    kind = request.POST.get("kind", "figure")
    form: forms.Form
    form_class = {"declaration": DeclarationForm, "honour": HonourForm}.get(kind, FactForm)
    form = form_class(request.POST) if form_class is DeclarationForm else form_class(request.POST, request.FILES)
    draft = f"policies.fact.{kind if kind in ('declaration', 'honour') else 'figure'}.{enterprise.pk}"
    fields = [name for name in form.fields if name not in ("certificate", "evidence")]  # a file cannot be kept
    if not form.is_valid():
        drafts.keep(request, draft, request.POST, fields)
        messages.error(request, form_errors(form))
        return redirect(back)
    data = form.cleaned_data
    with drafts.kept_if_refused(request, draft, fields):
        if kind == "declaration":
            fact_service.set_fact(actor=user, enterprise=enterprise, field="declaration", key=data["key"],
                                  value=data["value"])  # fmt: skip
            messages.success(request, _("Declaration saved."))
        elif kind == "honour":
            fact_service.set_honour(actor=user, enterprise=enterprise, text="", code=data["code"],
                                    issuer=data["issuer"],
                                    certificate_number=data["certificate_number"], awarded_on=data["awarded_on"],
                                    valid_until=data["valid_until"], certificate=data.get("certificate"))  # fmt: skip
            messages.success(request, _("Honour saved; it counts once reviewed."))
        else:
            fact_service.set_fact(actor=user, enterprise=enterprise, field=data["field"], value=data["value"],
                                  year=data.get("year") or 0, evidence=data.get("evidence") or None)  # fmt: skip
            messages.success(request, _("Figure saved. Your policy check-up is being updated."))
    return redirect(back)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not has_capability(user, "policies.review_facts"):
        raise PermissionDenied
    fact_rows, honour_rows = selectors.review_queue(user)
    return render(request, "policies/review.html", {
        "facts": [(row, fact_service.describe(row)) for row in fact_rows[:REVIEW_ROWS]],
        "honours": [(row, fact_service.describe(row)) for row in honour_rows[:REVIEW_ROWS]],
        "fact_count": fact_rows.count(), "honour_count": honour_rows.count(),
    })  # fmt: skip


@login_required
def import_facts(request: HttpRequest) -> HttpResponse:
    """Staff import figures from an xlsx or CSV sheet: every cell checked, all written or none."""
    user: Any = request.user
    if not has_capability(user, "policies.review_facts"):
        raise PermissionDenied
    result = None
    if request.method == "POST" and request.FILES.get("file"):
        upload: Any = request.FILES["file"]
        result = importers.parse(upload, upload.name or "", user)
        if not result.file_error and not result.errors:
            importers.import_facts(actor=user, parsed=result)
            messages.success(request, _("%(figures)d figures of %(enterprises)d enterprises were imported "
                                        "(%(created)d new, %(changed)d changed); policy answers are being updated.")
                             % {"figures": result.figures, "enterprises": result.enterprises,
                                "created": result.created, "changed": result.changed})  # fmt: skip
            return redirect("policies:import_facts")
    return render(request, "policies/import_facts.html", {
        "result": result, "headers": importers.template_headers(), "max_rows": importers.MAX_ROWS,
        "errors": result.errors[:200] if result else [],
    })  # fmt: skip


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """The figures sheet's template: its header row."""
    if not has_capability(request.user, "policies.review_facts"):
        raise PermissionDenied
    content, _size = write_workbook([], importers.template_headers(), title="figures")
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="figures-template.xlsx"'
    return response


@login_required
@require_POST
def review(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user: Any = request.user
    model: type[EnterpriseFact | EnterpriseHonour] = EnterpriseHonour if kind == "honour" else EnterpriseFact
    row = cast(EnterpriseFact | EnterpriseHonour,
               get_for_user(model.objects.select_related("enterprise"), user, "review", pk=pk))  # fmt: skip
    redirect_on_error(request, reverse("policies:review"))
    approve = request.POST.get("decision") == "approve"
    try:
        seen: float | None = float(request.POST["seen"])
    except (KeyError, ValueError):
        seen = None
    fact_service.review(actor=user, obj=row, approve=approve, note=request.POST.get("note", ""), seen=seen)
    messages.success(request, _("Confirmed.") if approve else _("Returned to the enterprise with your reason."))
    return redirect("policies:review")


@login_required
@require_POST
def fact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a wrong figure or declaration (the service says who may)."""
    user: Any = request.user
    fact = EnterpriseFact.objects.select_related("enterprise").filter(pk=pk).first()
    if fact is None:
        raise Http404
    back = _back(fact.enterprise, request)
    redirect_on_error(request, back)
    fact_service.delete_fact(actor=user, fact=fact)
    messages.success(request, _("Removed. Your policy check-up is being updated."))
    return redirect(back)


@login_required
def evidence(request: HttpRequest, kind: str, pk: int) -> HttpResponseBase:
    user: Any = request.user
    model: type[EnterpriseFact | EnterpriseHonour] = EnterpriseHonour if kind == "honour" else EnterpriseFact
    row = cast(EnterpriseFact | EnterpriseHonour, get_for_user(model.objects.all(), user, VIEW, pk=pk))
    file = row.certificate if isinstance(row, EnterpriseHonour) else row.evidence
    if not file or not file.name:
        raise Http404
    extension = str(file.name).rsplit(".", 1)[-1].lower()
    content_type = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}.get(
        extension, "application/octet-stream"
    )
    return serve_private_file(file, name=f"{kind}-{row.pk}.{extension}", content_type=content_type)
