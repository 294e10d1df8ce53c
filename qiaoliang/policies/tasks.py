"""Background work of policies: recomputation after a publication, a rule change or a fact change; reminders."""

from __future__ import annotations

from qiaoliang.core.background import background
from qiaoliang.orgs.announcements import ENTERPRISES_CHANGED, ORGANIZATION_MOVED
from qiaoliang.policies.services import autogrant, decisions, library, questions


@background("policies.recompute_policy")
def recompute_policy(policy_id: int) -> dict[str, int]:
    """Answer every item of a policy for every enterprise it reaches; push the newly eligible."""
    return decisions.recompute_policy(policy_id)


@background("policies.recompute_item")
def recompute_item(item_id: int) -> dict[str, int]:
    return decisions.recompute_item(item_id)


@background("policies.recompute_enterprise")
def recompute_enterprise(enterprise_id: int, fields: list[str] | None = None) -> dict[str, int]:
    """Answer the items in force for one enterprise after its figures or honours changed (with `fields`, only
    the items whose rules read one of those fields)."""
    return decisions.recompute_enterprise(enterprise_id, fields=fields)


@background("policies.recompute_enterprises")
def recompute_enterprises(enterprise_ids: list[int], fields: list[str] | None = None) -> dict[str, int]:
    """After an import of figures: a few enterprises one by one, many with the batch evaluator over every item."""
    return decisions.recompute_enterprises(enterprise_ids, fields=fields)


@background("policies.enterprises_changed", on=(ENTERPRISES_CHANGED,))
def enterprises_changed(enterprise_ids: list[int], fields: list[str] | None = None) -> dict[str, int]:
    """After enterprises joined or left an organisation, or their profile changed: their answers again."""
    return decisions.enterprises_changed(enterprise_ids, fields)


@background("policies.organization_moved", on=(ORGANIZATION_MOVED,))
def organization_moved(organization_id: int, old_path: str, new_path: str) -> dict[str, int]:
    """After an organisation moved in the tree: the items that reach its members now, or did before, again."""
    return decisions.organization_moved(old_path, new_path)


@background("policies.remind_questions")
def remind_questions() -> int:
    """Tell answerers of questions due today or overdue (run daily)."""
    return questions.remind_overdue()


@background("policies.confirm_cases")
def confirm_cases(item_id: int, actor_id: int) -> int:
    """Confirm a long 免申即享 list: every enterprise on it is asked for its intent."""
    return autogrant.confirm_listed_cases(item_id, actor_id)


@background("policies.tell_withdrawn")
def tell_withdrawn(policy_id: int, reason: str, actor_id: int | None = None, change_id: int | None = None) -> int:
    """Tell the enterprises pushed an item of a withdrawn policy that it is withdrawn, and why."""
    return library.tell_withdrawn(policy_id, reason, actor_id, change_id)
