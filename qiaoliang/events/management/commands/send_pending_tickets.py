"""Periodic: send the tickets a registration burst left unsent (a lost sweep, a cache that was cleared). Idempotent."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from qiaoliang.events import services
from qiaoliang.events.models import Registration


class Command(BaseCommand):
    help = "Send the unsent tickets of registrations older than a minute."

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - datetime.timedelta(minutes=1)
        event_ids = (
            Registration.objects.filter(ticket_sent_at__isnull=True, created_at__lt=cutoff)
            .exclude(status=Registration.Status.CANCELLED)
            .values_list("event_id", flat=True)
            .distinct()
        )
        sent = sum(services.send_pending_tickets(event_id=event_id) for event_id in list(event_ids))
        self.stdout.write(_("%(count)d tickets sent.") % {"count": sent})
