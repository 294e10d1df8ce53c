"""Membership applications (入会申请) and reviewed profile changes: the applicant's pages and the reviewers' queue."""

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
from django.views.decorators.http import require_POST

from qiaoliang.core import htmx
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.files import serve_private_file
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, can, get_for_user, has_capability
from qiaoliang.core.uploads import TYPES
from qiaoliang.orgs import selectors, services
from qiaoliang.orgs.forms import ApplicationForm, DecisionForm
from qiaoliang.orgs.models import Enterprise, EnterpriseChangeRequest, MembershipApplication
from qiaoliang.orgs.scope import get_scope

PAGE_SIZE = 30
A = MembershipApplication.Status


@login_required
def my_enterprise(request: HttpRequest) -> HttpResponse:
    """Open the profile of the user's enterprise (an enterprise contact's 'My enterprise')."""
    own = sorted(get_scope(request.user).own_enterprise_ids)
    if not own:
        raise PermissionDenied
    return redirect("orgs:enterprise", pk=own[0])


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    """Apply for membership: the enterprise, its contact, the business licence and the organisation chosen."""
    user: Any = request.user
    if get_scope(user).own_enterprise_ids and not request.GET.get("another"):
        messages.info(request, _("Your account is already an enterprise's contact; to join another organisation, "
                                 "fill in this form for it."))  # fmt: skip
    initial = {"contact_mobile": user.mobile or "", "contact_name": user.display_name, "contact_email": user.email}
    if str(request.GET.get("organization", "")).isdecimal():
        initial["organization"] = request.GET["organization"]
    token = str(request.GET.get("invite", ""))
    invitation = services.open_invitation(token) if token else None
    if token and invitation is None:
        messages.warning(request, _("This invitation link has expired or was used already; you can still apply."))
    if invitation is not None:  # filled in from the enterprise's record
        initial.update(ApplicationForm.initial_for_enterprise(invitation.enterprise, invitation.organization))
        initial["contact_mobile"] = initial["contact_mobile"] or invitation.mobile
    form = ApplicationForm(
        request.POST or None, request.FILES or None, organizations=selectors.accepting_organizations(), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        application = call_service(
            form,
            lambda: services.submit_application(actor=user, organization=data["organization"], uscc=data["uscc"],
                                                licence=data["licence"], invitation=invitation,
                                                **form.application_fields()),
            {"file_type": "licence", "file_size": "licence", "industry": "industry_code", "region": "region_code"},
        )  # fmt: skip
        if application is not None:
            messages.success(request, _("Your application was sent. The secretariat checks it and tells you here."))
            return redirect("orgs:application", pk=application.pk)
    return render(request, "orgs/apply.html", {"form": form, "invitation": invitation})


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show an application: the applicant changes and resends a returned one; the reviewer approves or returns."""
    user: Any = request.user
    application = get_for_user(
        MembershipApplication.objects.select_related("organization", "industry", "region", "enterprise"), user, VIEW,
        pk=pk,
    )  # fmt: skip
    may_review = can(user, REVIEW, application) and application.status == A.SUBMITTED
    may_edit = application.applicant_id == user.pk and application.status == A.RETURNED
    form = None
    if may_edit:
        form = ApplicationForm(
            request.POST or None, request.FILES or None, organizations=selectors.accepting_organizations(),
            initial=ApplicationForm.initial_for(application), licence_required=False,
        )  # fmt: skip
        form.fields["organization"].disabled = True
        form.fields["uscc"].disabled = True
        if request.method == "POST" and form.is_valid():
            changes = form.application_fields()
            resent = call_service(
                form,
                lambda: services.resubmit_application(actor=user, application=application,
                                                      licence=form.cleaned_data.get("licence"), **changes),
                {"file_type": "licence", "file_size": "licence"},
            )  # fmt: skip
            if resent is not None:
                messages.success(request, _("Your application was sent again."))
                return redirect("orgs:application", pk=application.pk)
    context = {
        "application": application,
        "history": list(application.history.select_related("actor").order_by("created_at", "id")),
        "may_review": may_review,
        "may_withdraw": application.applicant_id == user.pk and application.status in {A.SUBMITTED, A.RETURNED},
        "decision_form": DecisionForm(initial={"level": application.level}),
        "form": form,
        "existing_enterprise": Enterprise.objects.filter(uscc=application.uscc).first() if may_review else None,
    }
    return render(request, "orgs/application_detail.html", context)


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve, return (with a reason) or withdraw an application."""
    user: Any = request.user
    application = get_for_user(MembershipApplication.objects.all(), user, VIEW, pk=pk)
    redirect_on_error(request, reverse("orgs:application", args=[application.pk]))
    form = DecisionForm(request.POST)
    form.is_valid()
    note = form.cleaned_data.get("note", "")
    action = request.POST.get("action", "")
    if action == "approve":
        services.approve_application(actor=user, application=application, level=form.cleaned_data.get("level") or None,
                                     note=note)  # fmt: skip
        messages.success(request, _("The application was approved: the enterprise is a member and its contact can "
                                    "log in with their role."))  # fmt: skip
    elif action == "return":
        services.return_application(actor=user, application=application, reason=note)
        messages.info(request, _("The application was returned; the applicant is told why."))
    elif action == "withdraw":
        services.withdraw_application(actor=user, application=application)
        messages.info(request, _("The application was withdrawn."))
    else:
        raise Http404
    return redirect("orgs:application", pk=application.pk)


@login_required
def application_licence(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Send the business licence of an application to its applicant and reviewers."""
    application = get_for_user(MembershipApplication.objects.all(), request.user, VIEW, pk=pk)
    name = application.licence_name or "licence"
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    kind = TYPES.get(extension)
    return serve_private_file(application.licence, name=name,
                              content_type=kind.content_type if kind else "application/octet-stream")  # fmt: skip


@login_required
def applications(request: HttpRequest) -> HttpResponse:
    """The reviewers' queue: membership applications (oldest first) and profile changes waiting for review."""
    user: Any = request.user
    if not has_capability(user, "orgs.review_applications"):
        raise PermissionDenied
    tab = "changes" if request.GET.get("tab") == "changes" else "applications"
    status = request.GET.get("status", "submitted")
    if tab == "changes":
        queryset: Any = (
            EnterpriseChangeRequest.objects.for_user(user, REVIEW)
            .filter(status=EnterpriseChangeRequest.Status.PENDING)
            .select_related("enterprise", "requested_by")
            .order_by("created_at", "id")
        )
    else:
        queryset = MembershipApplication.objects.for_user(user, REVIEW).select_related("organization")
        if status in A.values:
            queryset = queryset.filter(status=status)
        queryset = queryset.order_by("created_at", "id")
    page = htmx.paginate(request, queryset, PAGE_SIZE)
    context = {"page": page, "items": list(page.object_list), "tab": tab, "status": status, "statuses": A.choices}
    return render(request, "orgs/applications.html", context)


@login_required
def change_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a reviewed profile change with old and new values; its reviewers approve or refuse it."""
    user: Any = request.user
    item = get_for_user(EnterpriseChangeRequest.objects.select_related("enterprise", "requested_by"), user, VIEW,
                        pk=pk)  # fmt: skip
    if request.method == "POST":
        redirect_on_error(request, reverse("orgs:change_request", args=[item.pk]))
        form = DecisionForm(request.POST)
        form.is_valid()
        services.decide_change_request(actor=user, request=item, approve=request.POST.get("action") == "approve",
                                       note=form.cleaned_data.get("note", ""))  # fmt: skip
        messages.success(request, _("The decision was saved and the requester told."))
        return redirect("orgs:applications")
    context = {
        "item": item,
        "rows": selectors.change_rows(item),
        "may_review": can(user, REVIEW, item) and item.status == EnterpriseChangeRequest.Status.PENDING,
        "may_change": can(user, CHANGE, item.enterprise),
        "decision_form": DecisionForm(),
    }
    return render(request, "orgs/change_request.html", context)
