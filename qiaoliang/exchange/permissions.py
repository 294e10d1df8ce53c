"""Who may see and change listings, matches and emergency boards (registered with core.permissions.rules).

- A published listing is on the board for every signed-in user with a role (members, staff, providers).
- An enterprise's contacts see and edit their own listings in every status.
- Staff and secretaries see every listing of the enterprises in their scope and change those they manage;
  they review the listings their organisations review.
- A match is seen by the contacts of either side and by staff who manage either enterprise; the ranked
  suggestions of a listing are shown to the listing's side and its reviewers only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from qiaoliang.core.permissions import CHANGE, REVIEW, VIEW, VIEW_PERSONAL, register_capability, rules
from qiaoliang.exchange.models import CapacityDeclaration, EmergencyBoard, Listing, Match
from qiaoliang.orgs.models import Enterprise, Organization
from qiaoliang.orgs.selectors import get_scope

# Seeing the ranked suggestions of a listing (its side or its reviewers): the engine ranks every open
# listing, so what it returns must be narrowed to the listings and matches the user may see.
RANK = "rank"


def _enterprises(user: Any, action: str) -> QuerySet[Any]:
    return Enterprise.objects.for_user(user, action).values("pk")


def listings_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    if not scope.has_role:  # a signed-in account without any role sees no board
        return qs.none()
    return qs.filter(Q(enterprise_id__in=_enterprises(user, VIEW)) | Q(status=Listing.Status.PUBLISHED))


def listings_of_own_scope(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Listings whose poster's personal data the user may see: their own enterprise's, or those they manage."""
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(enterprise_id__in=_enterprises(user, VIEW_PERSONAL))


def listings_changeable(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(enterprise_id__in=_enterprises(user, CHANGE))


def listings_reviewed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_superuser:
        return qs
    return qs.filter(organization_id__in=Organization.objects.for_user(user, REVIEW).values("pk"))


def listings_ranked(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs.filter(
        Q(pk__in=listings_changeable(Listing.objects.all(), user).values("pk"))
        | Q(pk__in=listings_reviewed(Listing.objects.all(), user).values("pk"))
    )


rules.register(
    Listing,
    **{
        VIEW: listings_visible,
        VIEW_PERSONAL: listings_of_own_scope,
        CHANGE: listings_changeable,
        REVIEW: listings_reviewed,
        RANK: listings_ranked,
    },
)


def matches_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    ids = _enterprises(user, VIEW)
    return qs.filter(Q(need__enterprise_id__in=ids) | Q(offer__enterprise_id__in=ids))


def matches_changeable(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    ids = _enterprises(user, CHANGE)
    return qs.filter(Q(need__enterprise_id__in=ids) | Q(offer__enterprise_id__in=ids))


def matches_as_party(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """The two enterprises' own contacts: they talk, propose and confirm deals (staff broker, never sign)."""
    own = get_scope(user).own_enterprise_ids
    return qs.filter(Q(need__enterprise_id__in=own) | Q(offer__enterprise_id__in=own))


PARTY = "party"
rules.register(Match, **{VIEW: matches_visible, CHANGE: matches_changeable, PARTY: matches_as_party})


def boards_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if get_scope(user).has_role else qs.none()


def boards_managed(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    return qs if get_scope(user).is_staff else qs.none()


rules.register(EmergencyBoard, **{VIEW: boards_visible, CHANGE: boards_managed})


def declarations_visible(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    scope = get_scope(user)
    if scope.is_all:
        return qs
    return qs.filter(enterprise_id__in=_enterprises(user, VIEW))


rules.register(CapacityDeclaration, **{VIEW: declarations_visible})


def may_review_any(user: Any) -> bool:
    scope = get_scope(user)
    return scope.is_superuser or bool(scope.change_org_ids)


register_capability("exchange.use", lambda user: get_scope(user).has_role)
register_capability("exchange.review", may_review_any)
register_capability("exchange.introduce", may_review_any)
register_capability("exchange.manage_boards", lambda user: get_scope(user).is_staff)
register_capability(
    "exchange.post", lambda user: Enterprise.objects.for_user(user, CHANGE).filter(is_active=True).exists()
)
register_capability("exchange.party", lambda user: bool(get_scope(user).own_enterprise_ids))
