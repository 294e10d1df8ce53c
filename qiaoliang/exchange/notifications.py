"""Tell both sides of a new strong match: an in-app notification and an e-mail."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.exchange.models import Match, Notification


def recipients_for_enterprise(enterprise_id: int) -> list:
    """Return the active users who are contacts of an enterprise."""
    return [
        assignment.user
        for assignment in RoleAssignment.objects.filter(
            role=Role.ENTERPRISE_CONTACT, enterprise_id=enterprise_id, user__is_active=True
        ).select_related("user")
    ]


def notify_match(match_id: int, *, reason: str = "suggested") -> int:
    """Notify the contacts of both enterprises once per match (idempotent); return notifications written."""
    with transaction.atomic():
        claimed = Match.objects.filter(pk=match_id, is_notified=False).update(is_notified=True)
        if not claimed:
            return 0
        match = Match.objects.select_related("need", "offer", "need__enterprise", "offer__enterprise").get(pk=match_id)
        url = reverse("exchange:match", args=[match.pk])
        messages = []
        written = 0
        with translation.override(settings.LANGUAGE_CODE):
            for own, other in ((match.need, match.offer), (match.offer, match.need)):
                if reason == "introduced":
                    title = _("The federation introduced you to %(enterprise)s about “%(title)s”") % {
                        "enterprise": other.enterprise.name,
                        "title": own.title,
                    }
                else:
                    title = _("New match for “%(title)s”: %(other)s (%(enterprise)s)") % {
                        "title": own.title,
                        "other": other.title,
                        "enterprise": other.enterprise.name,
                    }
                for user in recipients_for_enterprise(own.enterprise_id):
                    Notification.objects.create(user=user, verb=reason, title=title[:200], url=url, match=match)
                    written += 1
                    if user.email:
                        body = _("%(title)s\n\nOpen the match: %(url)s") % {"title": title, "url": url}
                        messages.append((title[:150], body, settings.DEFAULT_FROM_EMAIL, [user.email]))
        if messages:
            transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=False))
    return written
