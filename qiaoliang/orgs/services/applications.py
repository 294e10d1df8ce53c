"""Online membership applications (入会申请): an enterprise applies, the organisation's secretary approves or
returns it with a reason; approval creates the enterprise (or reuses it), the membership, the contact person and
the applicant's enterprise-contact role, and everyone concerned is told."""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.core import audit, channels, notifications, uploads
from qiaoliang.core.background import enqueue_on_commit
from qiaoliang.core.exceptions import DomainError, NotAllowedError
from qiaoliang.core.permissions import CHANGE, REVIEW, forget, require
from qiaoliang.core.transitions import Transitions
from qiaoliang.orgs import recipients
from qiaoliang.orgs.models import (
    ACCEPTING_KINDS,
    Enterprise,
    Membership,
    MembershipApplication,
    MembershipApplicationStatusChange,
    MembershipInvitation,
    Organization,
    Person,
    enterprise_search_fields,
)
from qiaoliang.orgs.services.common import full_clean
from qiaoliang.orgs.services.members import (
    add_membership,
    clean_mobile,
    clean_uscc,
    create_person,
    transition_membership,
)

A = MembershipApplication.Status
APPLICATION_TRANSITIONS = Transitions(
    model=MembershipApplication,
    table={
        A.SUBMITTED: {A.APPROVED, A.RETURNED, A.WITHDRAWN},
        A.RETURNED: {A.SUBMITTED, A.WITHDRAWN},
        A.APPROVED: set(),
        A.WITHDRAWN: set(),
    },
    audit_prefix="orgs.application",
    history_model=MembershipApplicationStatusChange,
    history_fk="application",
)
APPLICATION_FIELDS = {
    "name", "industry", "region", "size", "ownership", "address", "main_business", "contact_name", "contact_mobile",
    "contact_email", "contact_job_title", "level", "statement",
}  # fmt: skip
LICENCE_TYPES = (".pdf", ".jpg", ".jpeg", ".png")


def _store_licence(application: MembershipApplication, licence: UploadedFile) -> None:
    _kind, name = uploads.check_upload(licence, allowed=LICENCE_TYPES)
    application.licence_name = name
    application.licence.save(name, licence, save=False)


def _tell_reviewers(application: MembershipApplication, actor: Any) -> None:
    notifications.notify(
        users=recipients.organization_managers(application.organization), kind="orgs.application.submitted",
        title=gettext_lazy("%(enterprise)s applies to join %(organization)s"),
        body=gettext_lazy("Check the business licence and approve or return the application."),
        params={"enterprise": application.name, "organization": application.organization.name},
        url=reverse("orgs:application", args=[application.pk]), target=application,
        organization_id=application.organization_id, actor=actor,
    )  # fmt: skip


def _check(application: MembershipApplication) -> None:
    application.uscc = clean_uscc(application.uscc)
    application.contact_mobile = clean_mobile(application.contact_mobile) or ""
    if not application.contact_mobile:
        raise DomainError(_("Give the contact's mobile number."), code="contact_mobile")
    if application.organization.kind not in ACCEPTING_KINDS or not application.organization.is_active:
        raise DomainError(_("This organisation does not take applications."), code="organization")
    if Membership.objects.filter(
        enterprise__uscc=application.uscc, organization=application.organization, status=Membership.Status.ACTIVE
    ).exists():
        raise DomainError(
            _("The enterprise is already a member of %(organization)s.") % {"organization": application.organization},
            code="uscc",
        )
    owner = Person.objects.filter(mobile=application.contact_mobile).exclude(enterprise__uscc=application.uscc).first()
    if owner is not None:
        raise DomainError(
            _("Mobile number %(mobile)s already belongs to a person of another enterprise.")
            % {"mobile": application.contact_mobile},
            code="contact_mobile",
        )
    full_clean(application, exclude=["licence", "applicant", "organization", "enterprise"])


INVITATION_DAYS = 30


def invitation_url(invitation: MembershipInvitation) -> str:
    """Return the link of an invitation: the application form, filled in from the enterprise's record."""
    return f"{str(settings.SITE_URL).rstrip('/')}{reverse('orgs:apply')}?invite={invitation.token}"


@transaction.atomic
def invite_to_join(
    *, actor: Any, enterprise: Enterprise, organization: Organization, mobile: str, note: str = ""
) -> MembershipInvitation:
    """Invite a recorded enterprise that is not a member of the organisation to apply: a text message to its
    contact with a link to the application form filled in from its record (valid INVITATION_DAYS days)."""
    require(actor, REVIEW, enterprise, _("You may not invite this enterprise."))
    require(actor, CHANGE, organization, _("You may not invite enterprises to this organisation."))
    if organization.kind not in ACCEPTING_KINDS or not organization.is_active:
        raise DomainError(_("This organisation does not take applications."), code="organization")
    if Membership.objects.filter(
        enterprise=enterprise, organization=organization, status=Membership.Status.ACTIVE
    ).exists():
        raise DomainError(
            _("The enterprise is already a member of %(organization)s.") % {"organization": organization.name},
            code="organization",
        )
    number = clean_mobile(mobile)
    if not number:
        raise DomainError(_("Give the mobile number to send the invitation to."), code="mobile")
    note = (note or "").strip()
    if len(note) > 300:
        raise DomainError(_("Keep the message within 300 characters."), code="note")
    now = timezone.now()
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()  # one invitation at a time per enterprise
    if MembershipInvitation.objects.filter(
        enterprise=enterprise, organization=organization, created_at__gt=now - datetime.timedelta(days=1)
    ).exists():
        raise DomainError(
            _("%(enterprise)s was invited to %(organization)s less than a day ago.")
            % {"enterprise": enterprise.name, "organization": organization.name},
            code="too_soon",
        )
    invitation = MembershipInvitation.objects.create(
        enterprise=enterprise, organization=organization, mobile=number, note=note, invited_by=actor,
        token=secrets.token_hex(16), expires_at=now + datetime.timedelta(days=INVITATION_DAYS),
    )  # fmt: skip
    audit.record("orgs.invitation.sent", actor=actor, target=enterprise, organization_id=organization.pk,
                 data={"organization": organization.pk, "mobile": number[:3] + "****" + number[-4:]})  # fmt: skip
    enqueue_on_commit("orgs.send_invitation", invitation.pk)  # the gateway is called by a worker, not the request
    return invitation


def send_invitation(*, invitation_id: int) -> bool:
    """Text an invitation's link to its mobile (the task `orgs.send_invitation`); False if it is gone or used."""
    invitation = (
        MembershipInvitation.objects.select_related("enterprise", "organization")
        .filter(pk=invitation_id, application__isnull=True)
        .first()
    )
    if invitation is None:
        return False
    text = _(
        "%(organization)s invites %(enterprise)s to join. %(note)sApply online (valid until %(date)s): %(url)s"
    ) % {
        "organization": invitation.organization.name,
        "enterprise": invitation.enterprise.name,
        "note": f"{invitation.note} " if invitation.note else "",
        "date": timezone.localdate(invitation.expires_at).isoformat(),
        "url": invitation_url(invitation),
    }
    channels.send_sms(invitation.mobile, text[:500])
    return True


def open_invitation(token: str) -> MembershipInvitation | None:
    """Return the unexpired, unused invitation of a link's token, or None."""
    token = str(token or "")[:32]
    if len(token) != 32:
        return None
    return (
        MembershipInvitation.objects.select_related("enterprise", "organization")
        .filter(token=token, application__isnull=True, expires_at__gt=timezone.now())
        .first()
    )


@transaction.atomic
def submit_application(
    *,
    actor: Any,
    organization: Organization,
    uscc: str,
    licence: UploadedFile,
    invitation: MembershipInvitation | None = None,
    **fields: Any,
) -> MembershipApplication:
    """Send an enterprise's application with its business licence (an account without a role yet); an invitation
    it answers is marked used."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAllowedError(_("Sign in to apply."))
    unknown = set(fields) - APPLICATION_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    application = MembershipApplication(applicant=actor, organization=organization, uscc=uscc, **fields)
    _check(application)
    _store_licence(application, licence)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:
        raise DomainError(
            _("An application of this enterprise to %(organization)s is already open.")
            % {"organization": organization.name},
            code="uscc",
        ) from exc
    MembershipApplicationStatusChange.objects.create(application=application, to_status=A.SUBMITTED, actor=actor)
    audit.record("orgs.application.submitted", actor=actor, target=application, organization_id=organization.pk,
                 data={"uscc": application.uscc, "invitation": invitation.pk if invitation else None})  # fmt: skip
    if invitation is not None:
        # Marked used only when it is the invitation of this enterprise to this organisation.
        MembershipInvitation.objects.filter(
            pk=invitation.pk, application__isnull=True, organization=organization, enterprise__uscc=application.uscc
        ).update(application=application)
    _tell_reviewers(application, actor)
    return application


@transaction.atomic
def resubmit_application(
    *, actor: Any, application: MembershipApplication, licence: UploadedFile | None = None, **changes: Any
) -> MembershipApplication:
    """Send a returned application again after changing it."""
    require(actor, CHANGE, application, _("You may not change this application."))
    application = MembershipApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != A.RETURNED:
        raise DomainError(_("Only a returned application can be changed and sent again."), code="status")
    unknown = set(changes) - APPLICATION_FIELDS
    if unknown:
        raise DomainError(_("These fields cannot be set here: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for name, value in changes.items():
        setattr(application, name, value)
    _check(application)
    update_fields = [*changes, "contact_mobile", "updated_at"]
    if licence is not None:
        _store_licence(application, licence)
        update_fields += ["licence", "licence_name"]
    application.save(update_fields=list(dict.fromkeys(update_fields)))
    application = APPLICATION_TRANSITIONS.move(application, A.SUBMITTED, actor=actor)
    _tell_reviewers(application, actor)
    return application


def withdraw_application(*, actor: Any, application: MembershipApplication) -> MembershipApplication:
    """Let the applicant withdraw an open application."""
    require(actor, CHANGE, application, _("You may not change this application."))
    return APPLICATION_TRANSITIONS.move(application, A.WITHDRAWN, actor=actor)


@transaction.atomic
def return_application(*, actor: Any, application: MembershipApplication, reason: str) -> MembershipApplication:
    """Return an application to the applicant with what must change (a reason is required)."""
    require(actor, REVIEW, application, _("You may not review this application."))
    if not reason.strip():
        raise DomainError(_("Say what the applicant should change."), code="reason")
    application = APPLICATION_TRANSITIONS.move(
        application, A.RETURNED, actor=actor, note=reason.strip(),
        changes={"review_note": reason.strip()[:500], "reviewed_by": actor, "reviewed_at": timezone.now()},
    )  # fmt: skip
    notifications.notify(
        users=[application.applicant], kind="orgs.application.returned",
        title=gettext_lazy("Your application to %(organization)s was returned for changes"),
        body=gettext_lazy("Reason: %(reason)s"),
        params={"organization": application.organization.name, "reason": reason.strip()},
        url=reverse("orgs:application", args=[application.pk]), target=application,
        organization_id=application.organization_id, actor=actor,
    )  # fmt: skip
    return application


@transaction.atomic
def approve_application(
    *, actor: Any, application: MembershipApplication, level: str | None = None, note: str = ""
) -> MembershipApplication:
    """Approve an application: the enterprise (new or recorded), its membership, its contact and the applicant's
    enterprise-contact role; the applicant is told."""
    require(actor, REVIEW, application, _("You may not review this application."))
    application = MembershipApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != A.SUBMITTED:
        raise APPLICATION_TRANSITIONS.refuse(application, A.APPROVED)
    organization = application.organization
    enterprise = Enterprise.objects.filter(uscc=application.uscc).first()
    if enterprise is None:
        enterprise = Enterprise(
            uscc=application.uscc, name=application.name, industry=application.industry, region=application.region,
            size=application.size, ownership=application.ownership, address=application.address,
            main_business=application.main_business, registered_by=organization,
        )  # fmt: skip
        for key, value in enterprise_search_fields(enterprise.name).items():
            setattr(enterprise, key, value)
        full_clean(enterprise)
        enterprise.save()
        audit.record("orgs.enterprise.created", actor=actor, target=enterprise, organization_id=organization.pk,
                     data={"uscc": enterprise.uscc, "application": application.pk})  # fmt: skip
    membership = Membership.objects.filter(enterprise=enterprise, organization=organization).first()
    if membership is None:
        add_membership(actor=actor, enterprise=enterprise, organization=organization,
                        level=level or application.level, joined_on=timezone.localdate())  # fmt: skip
    elif membership.status != Membership.Status.ACTIVE:
        transition_membership(actor=actor, membership=membership, to_status=Membership.Status.ACTIVE,
                              note=_("Application approved"))  # fmt: skip
    person = Person.objects.filter(mobile=application.contact_mobile).first()
    if person is None:
        person = create_person(
            actor=actor, name=application.contact_name, mobile=application.contact_mobile,
            email=application.contact_email, job_title=application.contact_job_title, enterprise=enterprise,
            is_primary_contact=not Person.objects.filter(enterprise=enterprise, is_primary_contact=True).exists(),
        )  # fmt: skip
    elif person.enterprise_id != enterprise.pk:
        raise DomainError(_("The contact's mobile number now belongs to another enterprise's person."),
                          code="contact_mobile")  # fmt: skip
    applicant = application.applicant
    RoleAssignment.objects.get_or_create(user=applicant, role=Role.ENTERPRISE_CONTACT, enterprise=enterprise)
    if applicant.person_id is None and not hasattr(person, "user"):
        applicant.person = person
        applicant.save(update_fields=["person"])
    forget(applicant)
    application = APPLICATION_TRANSITIONS.move(
        application, A.APPROVED, actor=actor, note=note,
        changes={"enterprise": enterprise, "review_note": note.strip()[:500], "reviewed_by": actor,
                 "reviewed_at": timezone.now()},
    )  # fmt: skip
    notifications.notify(
        users=[applicant], kind="orgs.application.approved",
        title=gettext_lazy("Welcome: %(enterprise)s is now a member of %(organization)s"),
        body=gettext_lazy("Your account is the enterprise's contact: post offers and needs, register for events, "
                          "send appeals."),
        params={"enterprise": enterprise.name, "organization": organization.name},
        url=reverse("core:home"), target=application, organization_id=organization.pk, actor=actor,
    )  # fmt: skip
    return application
