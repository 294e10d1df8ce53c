"""Who may see and change listings and matches, in the vocabulary of core.permissions.

- A published listing is on the board for every signed-in user with a role (members, staff, providers).
- An enterprise's contacts see and edit their own listings in every status.
- Staff see every listing of the enterprises in their scope and change those they manage; they review
  listings owned by organisations they manage.
- A match is seen by the contacts of either side's enterprise and by staff who see either enterprise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from qiaoliang.core.permissions import CHANGE, VIEW_PERSONAL, get_scope

if TYPE_CHECKING:
    from qiaoliang.exchange.models import ListingQuerySet, MatchQuerySet

REVIEW = "review"


def _enterprise_ids(user: Any, action: str) -> Any:
    from qiaoliang.orgs.models import Enterprise

    return Enterprise.objects.for_user(user, action).values("pk")


def filter_listings(qs: ListingQuerySet, user: Any, action: str) -> ListingQuerySet:
    """Filter listings through the user's scope."""
    from qiaoliang.exchange.models import Listing
    from qiaoliang.orgs.models import Organization

    scope = get_scope(user)
    if not scope.is_authenticated:
        return qs.none()
    if action == REVIEW:
        if scope.is_all:
            return qs
        return qs.filter(organization_id__in=Organization.objects.for_user(user, CHANGE).values("pk"))
    if action in {CHANGE, "close"}:
        if scope.is_all:
            return qs
        return qs.filter(enterprise_id__in=_enterprise_ids(user, CHANGE))
    if scope.is_all:
        return qs
    if not scope.roles:  # a signed-in account without any role sees no board
        return qs.none()
    own_or_scoped = Q(enterprise_id__in=_enterprise_ids(user, "view"))
    if action == VIEW_PERSONAL:
        return qs.filter(own_or_scoped)
    return qs.filter(own_or_scoped | Q(status=Listing.Status.PUBLISHED))


def filter_matches(qs: MatchQuerySet, user: Any, action: str) -> MatchQuerySet:
    """Filter matches: either side's enterprise must be visible (or changeable) to the user."""
    scope = get_scope(user)
    if not scope.is_authenticated:
        return qs.none()
    if scope.is_all:
        return qs
    wanted = CHANGE if action != "view" else "view"
    ids = _enterprise_ids(user, wanted)
    return qs.filter(Q(need__enterprise_id__in=ids) | Q(offer__enterprise_id__in=ids))
