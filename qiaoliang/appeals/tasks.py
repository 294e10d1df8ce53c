"""Background work of appeals: retraining the routing classifiers, the daily deadline run."""

from __future__ import annotations

import datetime

from qiaoliang.appeals import evaluations, reports, routing, services
from qiaoliang.core.background import background


@background("appeals.retrain_if_due")
def retrain_if_due() -> dict[str, int]:
    """Train the routing classifiers again once enough new routings were confirmed."""
    return routing.train() if routing.due() else {}


@background("appeals.retrain")
def retrain() -> dict[str, int]:
    return routing.train()


@background("appeals.deadlines")
def deadlines() -> dict[str, int]:
    """Remind departments before deadlines and escalate overdue appeals; announce the evaluation rounds that opened
    and close those whose last day passed (run daily)."""
    return {**services.remind_and_escalate(), **evaluations.run_due()}


@background("appeals.announce_round")
def announce_round(round_id: int) -> int:
    """Tell an evaluation round's audience that it is open (once)."""
    return evaluations.announce_round(round_id) or 0


@background("appeals.cluster_topics")
def cluster_topics(user_id: int, start: str, end: str, min_size: int = 3) -> int:
    """Find the common problems of a period's appeals for a user's scope and cache them for the page."""
    return reports.compute_topics(user_id, datetime.date.fromisoformat(start), datetime.date.fromisoformat(end),
                                  min_size)  # fmt: skip
