"""What `orgs` announces to the apps above it (`core.background.announce_on_commit`), which act on it in the
background without `orgs` importing them (policies answers an enterprise's support items again, for instance).

`orgs.enterprises_changed` — arguments `(enterprise_ids: list[int], fields: list[str] | None)`:
- `["membership"]`: the enterprises joined an organisation, left it, were suspended or reinstated, or their
  organisation moved in the tree (so the organisations above them changed);
- the `Enterprise` fields whose values changed (`"region"`, `"industry"`, `"size"`, `"is_active"` …) after a
  profile change;
- `None`: anything may have changed.
Announced after commit, once per write, with the ids sorted; listeners are idempotent.

`orgs.organization_moved` — arguments `(organization_id: int, old_path: str, new_path: str)`: an organisation
and its subtree moved in the tree (`move_organization`), so the organisations above its members changed. Sent
instead of the members' ids, which may be many.
"""

from __future__ import annotations

from collections.abc import Iterable

from qiaoliang.core.background import announce_on_commit

ENTERPRISES_CHANGED = "orgs.enterprises_changed"
ORGANIZATION_MOVED = "orgs.organization_moved"
MEMBERSHIP = "membership"


def enterprises_changed(enterprise_ids: Iterable[int], fields: Iterable[str] | None) -> None:
    """Announce, after commit, that these enterprises' memberships or profile fields changed."""
    ids = sorted({int(pk) for pk in enterprise_ids})
    if ids:
        announce_on_commit(ENTERPRISES_CHANGED, ids, None if fields is None else sorted(set(fields)))


def organization_moved(organization_id: int, old_path: str, new_path: str) -> None:
    """Announce, after commit, that an organisation and its subtree moved from one path to another."""
    announce_on_commit(ORGANIZATION_MOVED, organization_id, old_path, new_path)
