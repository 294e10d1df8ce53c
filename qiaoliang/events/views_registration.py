"""Registration pages: the public form (mobile checked by a code), registering with one's account or one's
colleagues, the ticket page (QR, cancel, survey), one's tickets, and the staff's list of registrations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from qiaoliang.core import audit, htmx, verification
from qiaoliang.core.api import MAX_ID
from qiaoliang.core.errors import redirect_on_error
from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.forms import call_service
from qiaoliang.core.permissions import CHANGE, can, get_for_user
from qiaoliang.core.sheets import XLSX_CONTENT_TYPE, write_workbook
from qiaoliang.events import selectors, services
from qiaoliang.events.forms import FeedbackForm, MemberRegistrationForm, PersonRegistrationForm, PublicRegistrationForm
from qiaoliang.events.models import Audience, Event, Registration
from qiaoliang.events.permissions import CHECKIN
from qiaoliang.events.tickets import qr_svg
from qiaoliang.events.views import _is_open, event_or_404, managed_event

PAGE_SIZE = 50


def _ticket_redirect(request: HttpRequest, result: services.RegistrationResult) -> HttpResponse:
    """Show the ticket; the page says what just happened (no flash message: a registration burst pays for none)."""
    registration = result.registration
    outcome = "registered" if result.created else "existing"
    return redirect(f"{reverse('events:ticket', args=[registration.ticket])}?{outcome}=1")


def register(request: HttpRequest, pk: int) -> HttpResponse:
    """Register for an event: with one's account (members) or with the public form (public events)."""
    # A registration (POST) loads the few columns registering reads: bursts come through here.
    event = event_or_404(request, pk, services.REGISTRATION_FIELDS if request.method == "POST" else ())
    user: Any = request.user
    signed_in = bool(getattr(user, "is_authenticated", False))
    if not signed_in and event.audience != Audience.PUBLIC:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    way = request.POST.get("as") if request.method == "POST" else None
    # Only the form that was sent is bound and checked; the other is built only for the page shown again.
    member_form = MemberRegistrationForm(request.POST, event=event) if way == "member" else None
    public_form = PublicRegistrationForm(request.POST, event=event) if way == "public" else None
    if member_form is not None and signed_in and member_form.is_valid():
        form = member_form
        result = call_service(form, lambda: services.register_self(actor=user, event=event, answers=form.answers()))
        if result is not None:
            return _ticket_redirect(request, result)
    if public_form is not None and public_form.is_valid():
        result = _register_public(request, event, public_form)
        if result is not None:
            return _ticket_redirect(request, result)
    member_form = member_form or MemberRegistrationForm(None, event=event)
    public_form = public_form or PublicRegistrationForm(None, event=event)
    context = {
        "event": event,
        "member_form": member_form,
        "public_form": public_form,
        "is_open": _is_open(event),
        "signed_in": signed_in,
        "own": selectors.own_registration(user, event),
        "counts": services.counts(event),
    }
    return render(request, "events/register.html", context)


def _register_public(request: HttpRequest, event: Any, form: PublicRegistrationForm) -> Any:
    data = form.cleaned_data
    key = data.get("submission_key") or ""
    if key and event.verify_mobile:
        # A form sent twice (a double tap, a retry after a timeout) finds what it made before its code, used once,
        # is checked again; without a code, the service's insert finds it through the unique (event, key) index.
        made = Registration.objects.filter(event=event, submission_key=key).first()
        if made is not None:
            return services.RegistrationResult(made, created=False)
    try:
        mobile = services.clean_mobile(data["mobile"])
        verified = False
        if event.verify_mobile:
            verification.check_code(purpose="registration", target=mobile, code=data.get("code") or "")
            verified = True
    except DomainError as exc:
        form.add_error("code" if exc.code == "code" and "code" in form.fields else "mobile", exc.message)
        return None
    return call_service(
        form,
        lambda: services.register_public(
            event=event,
            name=data["name"],
            mobile=mobile,
            company=data["company"],
            position=data["position"],
            answers=form.answers(),
            mobile_verified=verified,
            submission_key=key,
        ),
    )


@require_POST
def send_code(request: HttpRequest, pk: int) -> JsonResponse:
    """Text a code to the mobile number typed in a public event's form (rate-limited per number)."""
    event = event_or_404(request, pk)
    if event.audience != Audience.PUBLIC or not _is_open(event):
        return JsonResponse({"detail": _("The event does not take registrations."), "code": "not_open"}, status=400)
    try:
        mobile = services.clean_mobile(request.POST.get("mobile", ""))
        verification.send_code(purpose="registration", target=mobile)
    except DomainError as exc:
        return JsonResponse({"detail": exc.message, "code": exc.code}, status=400)
    return JsonResponse({"detail": _("The code is on its way; it is valid for 10 minutes.")})


@login_required
@require_POST
def register_colleague(request: HttpRequest, pk: int) -> HttpResponse:
    """Register a colleague (an enterprise contact) or anyone (the event's staff) from the event's page."""
    event = event_or_404(request, pk)
    redirect_on_error(request, reverse("events:detail", args=[event.pk]))
    form = PersonRegistrationForm(request.POST, event=event, with_company=can(request.user, CHANGE, event))
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, str(errors[0]))
        return redirect("events:detail", pk=event.pk)
    data = form.cleaned_data
    result = services.register_person(
        actor=request.user,
        event=event,
        name=data["name"],
        mobile=data["mobile"],
        company=data.get("company", ""),
        position=data["position"],
        answers=form.answers(),
    )
    registration = result.registration
    if not result.created:
        messages.info(request, _("%(name)s is already registered.") % {"name": registration.name})
    else:
        messages.success(
            request,
            _("%(name)s is registered (%(status)s); the ticket was sent by text message.")
            % {"name": registration.name, "status": registration.get_status_display()},
        )
    back = request.POST.get("back")
    if back == "registrations":
        return redirect("events:registrations", pk=event.pk)
    return redirect("events:detail", pk=event.pk)


def _by_ticket(ticket: str) -> Registration:
    code = services.normalize_ticket(ticket)
    registration = (
        Registration.objects.select_related("event", "event__organization", "checkin").filter(ticket=code).first()
        if code
        else None
    )
    if registration is None:
        raise Http404
    return registration


def ticket(request: HttpRequest, ticket: str) -> HttpResponse:
    """Show a ticket: the QR code to scan, the code to type, the event, and the buttons to cancel or answer."""
    registration = _by_ticket(ticket)
    event = registration.event
    context = {
        "registration": registration,
        "event": event,
        "qr": qr_svg(registration.ticket),
        "position": selectors.waiting_position(registration),
        "checkin": getattr(registration, "checkin", None),
        "survey_open": services.is_survey_open(registration),
        # Cancelling ends when the event starts (the service refuses it then): no button that only says no.
        "may_cancel": registration.is_active
        and not hasattr(registration, "checkin")
        and timezone.now() < event.starts_at
        and event.status != Event.Status.CANCELLED,
        "is_over": timezone.now() >= event.ends_at or event.status == Event.Status.CANCELLED,
        "just_registered": "registered" in request.GET,
        "already_registered": "existing" in request.GET,
    }
    return render(request, "events/ticket.html", context)


@require_POST
def ticket_cancel(request: HttpRequest, ticket: str) -> HttpResponse:
    """Cancel a registration from its ticket page (holding the ticket is the right to cancel it)."""
    registration = _by_ticket(ticket)
    redirect_on_error(request, reverse("events:ticket", args=[registration.ticket]))
    actor = request.user if getattr(request.user, "is_authenticated", False) else None
    services.cancel_registration(actor=actor, registration=registration, by_ticket=True)
    messages.success(request, _("The registration is cancelled; the seat goes to the next person waiting."))
    return redirect("events:ticket", ticket=registration.ticket)


def feedback(request: HttpRequest, ticket: str) -> HttpResponse:
    """Answer the short survey after an event, from the ticket."""
    registration = _by_ticket(ticket)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = request.user if getattr(request.user, "is_authenticated", False) else None
        done = call_service(
            form,
            lambda: services.submit_feedback(
                actor=actor,
                registration=registration,
                overall=data["overall"],
                content=data["content"],
                organisation=data["organisation"],
                comment=data["comment"],
            ),
        )
        if done is not None:
            messages.success(request, _("Thank you for your answers."))
            return redirect("events:ticket", ticket=registration.ticket)
    context = {
        "registration": registration,
        "event": registration.event,
        "form": form,
        "survey_open": services.is_survey_open(registration),
    }
    return render(request, "events/feedback.html", context)


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    """List the user's tickets and their enterprise's, and their matchmaking agendas."""
    user: Any = request.user
    page = htmx.paginate(request, selectors.my_tickets(user), PAGE_SIZE)
    participations = selectors.own_participations(user)
    return render(
        request,
        "events/tickets.html",
        {"page": page, "registrations": list(page.object_list), "participations": participations},
    )


# --- the staff's list -------------------------------------------------------------------------------------------------


@login_required
def registrations(request: HttpRequest, pk: int) -> HttpResponse:
    """List an event's registrations for its staff: search, status, check-in; add someone; export."""
    event = managed_event(request, pk, CHECKIN)
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()[:40]
    queryset = selectors.registrations(event, status=status, q=q)
    user: Any = request.user
    personal = can(user, CHANGE, event)
    if request.GET.get("export") == "xlsx" and personal:
        return _export(request, event, queryset)
    page = htmx.paginate(request, queryset, PAGE_SIZE)
    context = {
        "event": event,
        "page": page,
        "registrations": list(page.object_list),
        "status": status,
        "q": q,
        "counts": services.counts(event),
        "personal": personal,
        "manages": personal,
        "form": PersonRegistrationForm(event=event) if personal else None,
        "statuses": Registration.Status.choices,
    }
    return htmx.render_list(request, "events/registrations.html", "events/partials/registration_rows.html", context)


def _export(request: HttpRequest, event: Any, queryset: Any) -> HttpResponse:
    headers = [
        str(pgettext("person", "Name")),
        str(_("Mobile")),
        str(_("Company")),
        str(_("Position")),
        str(_("Status")),
        str(_("Ticket")),
        str(_("Registered at")),
        str(_("Checked in at")),
    ]
    questions = [(q["key"], q["label"]) for q in event.questions or []]
    headers += [label for _key, label in questions]

    def rows() -> Any:
        for registration in queryset.iterator(chunk_size=1000):
            checkin = getattr(registration, "checkin", None)
            yield [
                registration.name,
                registration.mobile,
                registration.company,
                registration.position,
                registration.get_status_display(),
                registration.ticket_display,
                registration.created_at.strftime("%Y-%m-%d %H:%M"),
                checkin.checked_in_at.strftime("%Y-%m-%d %H:%M") if checkin else "",
                *[registration.answers.get(key, "") for key, _label in questions],
            ]

    data, count = write_workbook(rows(), headers, title=str(_("Registrations")))
    audit.record(
        "events.registrations.exported",
        actor=request.user,
        target=event,
        organization_id=event.organization_id,
        data={"rows": count},
    )
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="registrations-{event.pk}.xlsx"'
    return response


@login_required
@require_POST
def registration_cancel(request: HttpRequest, pk: int, registration_id: int) -> HttpResponse:
    """Cancel a registration from the staff's list."""
    event = managed_event(request, pk)
    if registration_id > MAX_ID:
        raise Http404
    registration = get_for_user(Registration.objects.filter(event=event), request.user, CHANGE, pk=registration_id)
    redirect_on_error(request, reverse("events:registrations", args=[event.pk]))
    services.cancel_registration(actor=request.user, registration=registration)
    messages.success(request, _("%(name)s's registration is cancelled.") % {"name": registration.name})
    return redirect("events:registrations", pk=event.pk)
