"""The short survey after an event: three ratings from 1 to 5 and a comment, once per registration."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.core import audit
from qiaoliang.core.exceptions import DomainError
from qiaoliang.events.models import FeedbackResponse, Registration


def is_survey_open(registration: Registration) -> bool:
    """Tell whether a registration may answer the survey (confirmed, the event has started, not answered yet)."""
    return (
        registration.status == Registration.Status.CONFIRMED
        and timezone.now() >= registration.event.starts_at
        and not FeedbackResponse.objects.filter(registration=registration).exists()
    )


@transaction.atomic
def submit_feedback(
    *, actor: Any, registration: Registration, overall: int, content: int, organisation: int, comment: str = ""
) -> FeedbackResponse:
    """Store a registered person's answers (from their ticket page; holding the ticket is the right to answer)."""
    event = registration.event
    if registration.status != Registration.Status.CONFIRMED:
        raise DomainError(_("Only confirmed participants answer the survey."), code="status")
    if timezone.now() < event.starts_at:
        raise DomainError(_("The survey opens when the event starts."), code="too_early")
    ratings = [overall, content, organisation]
    if any(not isinstance(value, int) or not 1 <= value <= 5 for value in ratings):
        raise DomainError(_("Give each rating from 1 to 5."), code="overall")
    try:
        with transaction.atomic():
            response = FeedbackResponse.objects.create(
                event=event,
                registration=registration,
                overall=overall,
                content=content,
                organisation=organisation,
                comment=str(comment or "").strip()[:1000],
            )
    except IntegrityError as exc:
        raise DomainError(_("You have answered the survey already. Thank you!"), code="answered") from exc
    audit.record(
        "events.feedback.created",
        actor=actor,
        target=registration,
        organization_id=event.organization_id,
        data={"overall": overall},
    )
    return response
