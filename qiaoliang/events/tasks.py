"""Background work of events: tickets and notices after commit, seats handed to the waiting list, schedule notices.

Each task takes ids, is idempotent and calls one service.
"""

from __future__ import annotations

from qiaoliang.core.background import background
from qiaoliang.events import services
from qiaoliang.events.models import Event


@background("events.send_ticket")
def send_ticket(registration_id: int) -> bool:
    """Send a new registration its ticket link (once)."""
    return services.send_ticket(registration_id=registration_id)


@background("events.send_tickets")
def send_tickets(event_id: int) -> int:
    """Send every unsent ticket of an event (one sweep serves a registration burst)."""
    return services.send_pending_tickets(event_id=event_id)


@background("events.tell_promoted")
def tell_promoted(registration_id: int) -> None:
    """Tell a person moved up from the waiting list."""
    services.tell_promoted(registration_id=registration_id)


@background("events.fill_free_seats")
def fill_free_seats(event_id: int) -> int:
    """Hand free seats to the waiting list, in order."""
    event = Event.objects.filter(pk=event_id).first()
    return services.fill_free_seats(event=event) if event is not None else 0


@background("events.tell_event_cancelled")
def tell_event_cancelled(event_id: int) -> int:
    """Tell everyone registered that the event was cancelled."""
    return services.tell_event_cancelled(event_id=event_id)


@background("events.tell_schedule")
def tell_schedule(event_id: int) -> int:
    """Tell the participants of a matchmaking meeting that their agendas are ready."""
    return services.tell_schedule(event_id=event_id)
