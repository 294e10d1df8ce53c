"""What `orgs` announces to the apps above it (`core.background.announce_on_commit`), which act on it in the
background without `orgs` importing them (policies answers an enterprise's support items again, for instance).

`orgs.enterprises_changed` — arguments `(enterprise_ids: list[int], fields: list[str] | None)`:
- `["membership"]`: the enterprises joined an organisation, left it, were suspended or reinstated, or their
  organisation moved in the tree (so the organisations above them changed);
- the `Enterprise` fields whose values changed (`"region"`, `"industry"`, `"size"`, `"is_active"` …) after a
  profile change;
- `None`: anything may have changed.
Announced after commit, once per write, with the ids sorted; listeners are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable

from qiaoliang.core.background import announce_on_commit

ENTERPRISES_CHANGED = "orgs.enterprises_changed"
MEMBERSHIP = "membership"


def enterprises_changed(enterprise_ids: Iterable[int], fields: Iterable[str] | None) -> None:
    """Announce, after commit, that these enterprises' memberships or profile fields changed."""
    ids = sorted({int(pk) for pk in enterprise_ids})
    if ids:
        announce_on_commit(ENTERPRISES_CHANGED, ids, None if fields is None else sorted(set(fields)))
