"""Who may see and run events, registrations and matchmaking meetings (registered with core.permissions.rules).

| who | sees | runs (change) |
| --- | --- | --- |
| federation staff, secretaries | their organisations' events in every status; events for them | their organisations' |
| zone convenors | as members, and their zones' meetings | their zones' meetings (碰头会), with minutes |
| co-organisers' staff | the event | check-in only |
| enterprise contacts | events whose audience includes them | their enterprise's registrations and meetings |
| department liaisons | events they speak at, members' events | nothing |
| any signed-in user | public events | their own registrations |

An event other than a draft is seen by its audience: everyone (public), every user with a role (members), or the
members and managers of the given organisations and the organisations under them (organizations). Anonymous
visitors see public events through `selectors.public_events`, never through these rules.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from qiaoliang.core.permissions import CHANGE, VIEW, VIEW_PERSONAL, register_capability, rules
from qiaoliang.events.models import (
    Audience,
    Event,
    EventSeries,
    FeedbackResponse,
    Meeting,
    MeetingRequest,
    OnlineImport,
    Participant,
    Registration,
    Speaker,
)
from qiaoliang.orgs.selectors import Scope, get_scope

CHECKIN = "checkin"  # scan tickets and tick the list: the organiser's and the co-organisers' staff
ANSWER = "answer"  # accept or decline a meeting request: the asked enterprise (and the organiser's staff)
OUTCOME = "outcome"  # record what came of a meeting: its two enterprises (and the organiser's staff)

OPEN_STATUSES = [Event.Status.PUBLISHED, Event.Status.CLOSED, Event.Status.CANCELLED]


def _managed(scope: Scope, prefix: str = "") -> Q:
    """Events the user runs: their organisations' events, their zones' meetings."""
    if scope.is_all:
        return Q()
    condition = Q(pk__in=[])
    if scope.change_org_ids:
        condition |= Q(**{f"{prefix}organization_id__in": scope.change_org_ids})
    if scope.zone_ids:
        condition |= Q(**{f"{prefix}zone_id__in": scope.zone_ids})
    return condition


def _co_organized(scope: Scope, field: str = "pk") -> Q:
    if not scope.change_org_ids:
        return Q(pk__in=[])
    through = Event.co_organizers.through.objects.filter(
        event_id=OuterRef(field), organization_id__in=scope.change_org_ids
    )
    return Q(Exists(through))


def _audience(scope: Scope, user: Any) -> Q:
    condition = Q(audience=Audience.PUBLIC)
    if scope.has_role:
        condition |= Q(audience=Audience.MEMBERS)
    if scope.view_org_ids:
        through = Event.audience_organizations.through.objects.filter(
            event_id=OuterRef("pk"), organization_id__in=scope.view_org_ids
        )
        condition |= Q(audience=Audience.ORGANIZATIONS) & Q(Exists(through))
    return condition


def events_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    involved = Q(Exists(Speaker.objects.filter(event_id=OuterRef("pk"), user=user))) | Q(
        Exists(Registration.objects.filter(event_id=OuterRef("pk"), user=user))
    )
    if scope.own_enterprise_ids:
        involved |= Q(
            Exists(Participant.objects.filter(event_id=OuterRef("pk"), enterprise_id__in=scope.own_enterprise_ids))
        )
    opened = Q(status__in=OPEN_STATUSES) & (_audience(scope, user) | involved)
    return qs.filter(_managed(scope) | _co_organized(scope) | opened)


def events_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(_managed(get_scope(user)))


def runs(user: Any, event: Event) -> bool:
    """`events_managed` for one loaded event (its organization_id and zone_id), without a query.

    For the registration hot path; a test holds it equal to the rule's query for every persona of the permission
    fixture, a superuser and another federation's staff. Running an event
    implies seeing it (`events_visible` includes `_managed`).
    """
    scope = get_scope(user)
    if not scope.is_authenticated:
        return False
    if scope.is_all:
        return True
    return event.organization_id in scope.change_org_ids or (
        event.zone_id is not None and event.zone_id in scope.zone_ids
    )


def events_checked_in(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed(scope) | _co_organized(scope))


rules.register(Event, **{VIEW: events_visible, CHANGE: events_managed, CHECKIN: events_checked_in})


def series_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if get_scope(user).is_authenticated else qs.none()


def series_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    return qs if scope.is_all else qs.filter(organization_id__in=scope.change_org_ids)


rules.register(EventSeries, **{VIEW: series_visible, CHANGE: series_managed})


def _checkin_events(scope: Scope) -> Q:
    """Registrations of the events the user runs or co-organises."""
    if scope.is_all:
        return Q()
    return _managed(scope, "event__") | _co_organized(scope, "event_id")


def registrations_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    own = Q(user=user) | Q(registered_by=user)
    if scope.own_enterprise_ids:
        own |= Q(enterprise_id__in=scope.own_enterprise_ids)
    return qs.filter(_checkin_events(scope) | own)


def registrations_personal(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Unmasked mobile numbers: the event's staff, the person themselves and whoever registered them."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_checkin_events(scope) | Q(user=user) | Q(registered_by=user))


rules.register(
    Registration,
    **{VIEW: registrations_visible, CHANGE: registrations_visible, VIEW_PERSONAL: registrations_personal},
)


def participants_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(event_id__in=Event.objects.for_user(user, VIEW).values("pk"))


def participants_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed(scope, "event__") | Q(enterprise_id__in=scope.own_enterprise_ids))


rules.register(Participant, **{VIEW: participants_visible, CHANGE: participants_managed})


def _sides(scope: Scope, a: str, b: str) -> Q:
    own = scope.own_enterprise_ids
    if not own:
        return Q(pk__in=[])
    return Q(**{f"{a}__enterprise_id__in": own}) | Q(**{f"{b}__enterprise_id__in": own})


def requests_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed(scope, "event__") | _sides(scope, "requester", "recipient"))


def requests_answered(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    own = scope.own_enterprise_ids
    return qs.filter(_managed(scope, "event__") | Q(recipient__enterprise_id__in=own or [-1]))


rules.register(MeetingRequest, **{VIEW: requests_visible, CHANGE: requests_visible, ANSWER: requests_answered})


def meetings_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed(scope, "event__") | _sides(scope, "a", "b"))


def meetings_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(_managed(get_scope(user), "event__"))


def meetings_of_sides(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(_managed(scope, "event__") | _sides(scope, "a", "b"))


rules.register(Meeting, **{VIEW: meetings_visible, CHANGE: meetings_managed, OUTCOME: meetings_of_sides})


def event_staff_only(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(_managed(get_scope(user), "event__"))


rules.register(FeedbackResponse, **{VIEW: event_staff_only})
rules.register(OnlineImport, **{VIEW: event_staff_only, CHANGE: event_staff_only})


def may_run_events(user: Any) -> bool:
    scope = get_scope(user)
    return scope.is_superuser or bool(scope.change_org_ids) or bool(scope.zone_ids)


register_capability("events.use", lambda user: get_scope(user).is_authenticated)
register_capability("events.manage", may_run_events)
register_capability("events.enterprise", lambda user: bool(get_scope(user).own_enterprise_ids))
register_capability("events.convene", lambda user: bool(get_scope(user).zone_ids))
register_capability("events.speak", lambda user: bool(get_scope(user).department_ids))
