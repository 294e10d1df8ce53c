"""Keep cached scopes honest: every save or delete of what a scope is built from makes them all stale.

Bulk writes send no signals; the services that write roles, organisations or memberships in bulk call
`scope.invalidate_scopes()` themselves (tree moves, roster imports, the demo seed).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from qiaoliang.accounts.models import RoleAssignment
from qiaoliang.orgs.models import Membership, Organization, Zone
from qiaoliang.orgs.scope import invalidate_scopes


def _changed(sender: Any, **kwargs: Any) -> None:
    invalidate_scopes()


for _model in (RoleAssignment, Organization, Zone, Membership):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"orgs.scope.save.{_model.__name__}")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"orgs.scope.delete.{_model.__name__}")
m2m_changed.connect(_changed, sender=Zone.organizations.through, dispatch_uid="orgs.scope.zone_organizations")
