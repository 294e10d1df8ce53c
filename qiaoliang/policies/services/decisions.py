"""Decisions: who qualifies for which support item, with reasons; recomputation and pushes.

- `checkup(enterprise)` answers every item in force for one enterprise (政策体检), live: eligible, not
  eligible or needs data, each condition with its result and source clause.
- `recompute_item(item)` answers one item for every enterprise with the batch evaluator, stores the eligible
  and near-miss pairs (`Eligibility`) and the counts, and pushes the newly eligible (after a policy is
  published, a rule changes or the nightly run).
- `recompute_enterprise(enterprise)` answers every item for one enterprise (after its facts change) and
  pushes what it newly qualifies for.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qiaoliang.core.notifications import notify
from qiaoliang.orgs.announcements import MEMBERSHIP
from qiaoliang.orgs.models import Enterprise, Membership, Organization
from qiaoliang.orgs.selectors import contacts_of
from qiaoliang.policies.facts import FactValue, HeldHonour, Snapshot
from qiaoliang.policies.models import (
    AutoGrantCase,
    Eligibility,
    EnterpriseFact,
    EnterpriseHonour,
    NamedThreshold,
    Policy,
    Push,
    Rule,
    SupportItem,
)
from qiaoliang.policies.rules import BatchEvaluator, Expression, Outcome, ThresholdBook, Tri, evaluate, fields_read
from qiaoliang.policies.rules import parse_expression as parse

# Enterprises per batch of a run (memory stays bounded at any number of enterprises). While a batch is stored,
# enterprises' own recomputations wait for it: a run of a few items (a publication) uses small batches, so that
# the wait stays under a second; a run of many (the nightly run) larger ones, which cost fewer statements.
BATCH = 5_000
LARGE_BATCH = 20_000
FEW_ITEMS = 50
RETRIES = 3  # a batch whose commit fails on an enterprise deleted meanwhile is read and answered again


def batch_size(items: int) -> int:
    return BATCH if items <= FEW_ITEMS else max(BATCH, LARGE_BATCH)


def threshold_book() -> ThresholdBook:
    return ThresholdBook({t.code: (t.name, t.expression) for t in NamedThreshold.objects.all()})


_PARSED: dict[tuple[int, str], Expression] = {}
_PARSED_MAX = 20_000


def jurisdiction(rule: Rule) -> dict[str, Any] | None:
    """The condition a policy's region adds to each of its rules: a district's policy is for its enterprises."""
    region = rule.item.policy.region
    if region is None:
        return None
    return {"field": "region", "op": "in", "value": [region.code],
            "label": _("Registered in %(region)s") % {"region": region.full_name or region.name}}  # fmt: skip


def _answer_key(rule: Rule) -> tuple[int, str]:
    """What an item's answers depend on: the rule version and its expression with the policy's jurisdiction."""
    where = jurisdiction(rule)
    data = rule.expression if where is None else {**rule.expression, "all": [[where], *rule.expression.get("all", [])]}
    return rule.pk, json.dumps(data, sort_keys=True, ensure_ascii=False)


def parse_rule(rule: Rule, book: ThresholdBook | None = None) -> Expression:
    """A stored rule's expression with its policy's jurisdiction, parsed once per process (a rule version's
    expression never changes)."""
    data = rule.expression
    where = jurisdiction(rule)
    if where is not None:
        data = {**data, "all": [[where], *data.get("all", [])]}
    if rule.pk is None:
        return parse(data, thresholds=book or threshold_book())
    key = (rule.pk, json.dumps(data, sort_keys=True, ensure_ascii=False))  # ids recur across test databases
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        parsed = _PARSED[key] = parse(data, thresholds=book or threshold_book())
    return parsed


def rules_in_force(on: datetime.date, items: Iterable[int] | None = None) -> list[Rule]:
    """The active rule of every item of a published policy whose dates include the day."""
    qs = (
        Rule.objects.filter(status=Rule.Status.ACTIVE, item__policy__status=Policy.Status.PUBLISHED)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=on))
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=on))
        .filter(Q(item__policy__expires_on__isnull=True) | Q(item__policy__expires_on__gte=on))
        .select_related("item", "item__policy", "item__policy__organization", "item__policy__region", "clause")
    )
    if items is not None:
        qs = qs.filter(item_id__in=list(items))
    return list(qs.order_by("item__policy_id", "item__position", "item_id"))


_IN_FORCE: dict[Any, list[Rule]] = {}


def rules_in_force_cached(on: datetime.date) -> list[Rule]:
    """`rules_in_force(on)` for every item, kept per process while the library does not change (one aggregate
    query checks it): recomputing one enterprise then costs its snapshot and the evaluations, not 500 rows of
    rules, items, policies and organisations."""
    signature = (
        on,
        tuple(Rule.objects.filter(status=Rule.Status.ACTIVE).aggregate(n=Count("pk"), ids=Sum("pk")).values()),
        Rule.objects.aggregate(top=Max("pk"))["top"],
        Policy.objects.aggregate(changed=Max("updated_at"), n=Count("pk"))["changed"],
        SupportItem.objects.aggregate(top=Max("pk"), n=Count("pk"))["n"],
    )
    found = _IN_FORCE.get(signature)
    if found is None:
        _IN_FORCE.clear()
        found = _IN_FORCE[signature] = rules_in_force(on)
    return found


# --------------------------------------------------------------------------- snapshots


def snapshots(enterprise_ids: Sequence[int]) -> list[Snapshot]:
    """Snapshots of the enterprises, in the given order, with three queries of plain tuples whatever their number."""
    ids = list(enterprise_ids)
    profiles = {
        row[0]: row
        for row in Enterprise.objects.filter(pk__in=ids).values_list(
            "pk", "region_id", "industry_id", "industry__section", "size", "ownership", "founded_on", "employees"
        )
    }
    reviewed = EnterpriseFact.Status.REVIEWED
    snaps: dict[int, Snapshot] = {}
    for pk in ids:
        row = profiles.get(pk)
        if row is None:
            continue
        snap = Snapshot(enterprise_id=pk, region=row[1] or "", industry=row[2] or "", industry_section=row[3] or "",
                        size=row[4] or "", ownership=row[5] or "", founded_on=row[6])  # fmt: skip
        if row[7] is not None:
            snap.standing["employees"] = FactValue(Decimal(row[7]), True)
        snaps[pk] = snap
    # The batch's ids are ascending: one range scan of the index, rows of other enterprises skipped below.
    low, high = (min(ids), max(ids)) if ids else (0, -1)
    dense = high - low < 4 * len(ids) + 100  # a batch of consecutive ids: a range; a page's scattered ids: a list
    where = {"enterprise_id__gte": low, "enterprise_id__lte": high} if dense else {"enterprise_id__in": ids}
    facts = (
        EnterpriseFact.objects.filter(**where)
        .exclude(status=EnterpriseFact.Status.REJECTED)
        .values_list("enterprise_id", "field", "key", "year", "value", "status")
    )
    for enterprise_id, field_code, key, year, value, status in facts.iterator(chunk_size=20_000):
        found = snaps.get(enterprise_id)
        if found is None:
            continue
        snap = found
        fact = FactValue(value, status == reviewed, year or None)
        if field_code == "declaration":
            snap.declarations[key] = fact
        elif field_code in ("declared_money", "declared_number"):
            snap.figures[f"{field_code}:{key}"] = fact
        elif year:
            snap.yearly.setdefault(field_code, {})[year] = fact
        else:
            snap.standing[field_code] = fact
    honours = (
        EnterpriseHonour.objects.filter(**where)
        .exclude(status=EnterpriseFact.Status.REJECTED)
        .values_list("enterprise_id", "code", "status", "valid_until")
    )
    for enterprise_id, code, status, valid_until in honours.iterator(chunk_size=20_000):
        if enterprise_id in snaps:
            snaps[enterprise_id].honours.append(HeldHonour(code, status == reviewed, valid_until))
    return [snaps[pk] for pk in ids if pk in snaps]


def snapshot_of(enterprise: Enterprise) -> Snapshot:
    return snapshots([enterprise.pk])[0]


# --------------------------------------------------------------------------- one enterprise (政策体检)


@dataclass
class ItemAnswer:
    item: SupportItem
    rule: Rule
    outcome: Outcome

    @property
    def decision(self) -> str:
        return self.outcome.decision


def checkup(enterprise: Enterprise, *, on: datetime.date | None = None) -> list[ItemAnswer]:
    """Answer every item in force for one enterprise, with each condition's result."""
    on = on or timezone.localdate()
    book = threshold_book()
    snap = snapshot_of(enterprise)
    paths = member_paths(enterprise.pk)
    answers = []
    for rule in rules_in_force_cached(on):
        if reaches(rule, paths):
            answers.append(ItemAnswer(rule.item, rule, evaluate(parse_rule(rule, book), snap, on, book)))
    order = {"eligible": 0, "needs_data": 1, "ineligible": 2}
    answers.sort(key=lambda a: (order[a.decision], 0 if a.outcome.near_miss else 1, a.item.policy_id, a.item.pk))
    return answers


def member_paths(enterprise_id: int) -> list[str]:
    """The tree paths of the organisations the enterprise is an active member of (none when it is inactive:
    an item's recomputation skips inactive enterprises too)."""
    return list(Membership.objects.filter(enterprise_id=enterprise_id, status=Membership.Status.ACTIVE,
                                          enterprise__is_active=True)
                .values_list("organization__path", flat=True))  # fmt: skip


def path_ids(path: str) -> list[int]:
    """The organisations of a tree path, from the root down (`00000001/00000007/` → [1, 7])."""
    return [int(part) for part in path.split("/") if part]


def reaches(rule: Rule, paths: Sequence[str]) -> bool:
    """Whether an item's policy is for an enterprise with these memberships (its organisation or one above them).

    By the organisation's id, not its path: a rule list cached by a worker keeps the path of the time, and an
    organisation moved since has another one; the members' paths are read fresh.
    """
    organization_id = rule.item.policy.organization_id
    return any(organization_id in path_ids(path) for path in paths)


def answer_for(enterprise: Enterprise, item: SupportItem, *, on: datetime.date | None = None) -> ItemAnswer | None:
    """The enterprise's answer for one item; None when no rule is in force or the item is not for its members."""
    on = on or timezone.localdate()
    found = rules_in_force(on, [item.pk])
    if not found or not reaches(found[0], member_paths(enterprise.pk)):
        return None
    book = threshold_book()
    return ItemAnswer(item, found[0], evaluate(parse_rule(found[0], book), snapshot_of(enterprise), on, book))


def outcomes_for(item: SupportItem, enterprise_ids: Sequence[int], *, on: datetime.date | None = None
                 ) -> dict[int, Outcome]:  # fmt: skip
    """Live answers of one item for a page of enterprises (reasons, provisional, tier): four queries."""
    on = on or timezone.localdate()
    found = rules_in_force(on, [item.pk])
    if not found or not enterprise_ids:
        return {}
    book = threshold_book()
    expression = parse_rule(found[0], book)
    return {snap.enterprise_id: evaluate(expression, snap, on, book) for snap in snapshots(list(enterprise_ids))}


# --------------------------------------------------------------------------- recomputation and pushes


def _store_batch(item: SupportItem, rule: Rule, expression: Expression, batch: BatchEvaluator,
                 now: datetime.datetime, span: Span) -> tuple[list[int], int, int, int]:  # fmt: skip
    """Store one item's eligible enterprises of a batch; return (eligible ids, change of the count, needs data,
    near misses). Call with the item locked (`lock_items`), in the transaction that read the batch and its reach.

    The item's stored answers of the batch's span (a range of ids, or the chosen enterprises) are replaced by the
    eligible enterprises among those the item reaches (`batch`): an enterprise that left, or became inactive,
    loses its answer. Only eligible pairs are stored, bare: their reasons are computed when a page shows them,
    and near misses are counted here and explained live in each enterprise's check-up. PostgreSQL takes the
    rows by COPY.
    """
    groups = batch.group_states(expression)
    states = groups.min(axis=0)
    near = int((((groups == Tri.FALSE).sum(axis=0) == 1) & ((groups != Tri.TRUE).sum(axis=0) == 1)).sum())
    unknown = int((states == Tri.UNKNOWN).sum())
    snaps = batch.snapshots
    eligible_ids = [snaps[int(i)].enterprise_id for i in np.nonzero(states == Tri.TRUE)[0]]
    deleted = _clear_span([item.pk], span).get(item.pk, 0)
    _insert(item.pk, rule.pk, eligible_ids, now)
    return eligible_ids, len(eligible_ids) - deleted, unknown, near


def _clear_span(item_ids: Iterable[int], span: Span) -> dict[int, int]:
    """Delete the items' stored answers in the span (one statement, or one per 5,000 chosen enterprises);
    return {item: rows deleted}."""
    ids = sorted(item_ids)
    if not ids:
        return {}
    where = [f"item_id IN ({', '.join(['%s'] * len(ids))})"]
    params: list[int] = list(ids)
    if span.low is not None:
        where.append("enterprise_id >= %s")
        params.append(span.low)
    if span.high is not None:
        where.append("enterprise_id <= %s")
        params.append(span.high)
    chunks: list[list[int] | None] = [None]
    if span.chosen is not None:
        chunks = [span.chosen[start : start + 5000] for start in range(0, len(span.chosen), 5000)]
    deleted: Counter[int] = Counter()
    with connection.cursor() as cursor:
        for chunk in chunks:
            clause, values = list(where), list(params)
            if chunk is not None:
                clause.append(f"enterprise_id IN ({', '.join(['%s'] * len(chunk))})")
                values += chunk
            cursor.execute(f"DELETE FROM policies_eligibility WHERE {' AND '.join(clause)} RETURNING item_id", values)
            deleted.update(row[0] for row in cursor.fetchall())
    return dict(deleted)


@dataclass(frozen=True)
class Span:
    """The enterprises of one batch of a run: ids from `low` to `high` (None: unbounded), or exactly `chosen`."""

    low: int | None = None
    high: int | None = None
    chosen: list[int] | None = None

    def reach(self, organization_ids: Iterable[int]) -> dict[int, set[int]]:
        """The active enterprises of the span that are active members of each organisation or of one below it,
        read now: the organisations' paths are read again (one moved during the run is found at its new place),
        the span's memberships under them in one query (by the indexed path prefix), matched by id."""
        wanted = set(organization_ids)
        found: dict[int, set[int]] = {pk: set() for pk in wanted}
        paths = list(Organization.objects.filter(pk__in=wanted).values_list("path", flat=True))
        if not paths:
            return found
        under = Q()
        for path in paths:
            under |= Q(organization__path__startswith=path)
        members = Membership.objects.filter(under, status=Membership.Status.ACTIVE, enterprise__is_active=True)
        if self.low is not None:
            members = members.filter(enterprise_id__gte=self.low)
        if self.high is not None:
            members = members.filter(enterprise_id__lte=self.high)
        parts = [None] if self.chosen is None else [self.chosen[i : i + 5000] for i in range(0, len(self.chosen), 5000)]
        for part in parts:
            rows = members if part is None else members.filter(enterprise_id__in=part)
            for enterprise_id, path in rows.order_by().values_list("enterprise_id", "organization__path"):
                for organization_id in path_ids(path):
                    if organization_id in wanted:
                        found[organization_id].add(enterprise_id)
        return found


def _spans(everyone: list[int], chosen: Sequence[int] | None, size: int) -> list[Span]:
    """Batches of `size` enterprises. A full run's ranges cover every id (the first from the lowest, the last to
    the highest), so each stored answer falls in exactly one of them; an import's are its enterprises."""
    if chosen is not None:
        ids = sorted(set(chosen))
        return [Span(chosen=ids[start : start + size]) for start in range(0, len(ids), size)]
    starts = everyone[size::size]
    lows: list[int | None] = [None, *starts]
    highs: list[int | None] = [pk - 1 for pk in starts] + [None]
    return [Span(low=low, high=high) for low, high in zip(lows, highs, strict=True)]


def _insert(item_id: int, rule_id: int, enterprise_ids: list[int], now: datetime.datetime) -> None:
    if not enterprise_ids:
        return
    if connection.vendor == "postgresql":
        stamp = now.isoformat()
        with (
            connection.cursor() as cursor,
            cursor.copy(  # type: ignore[attr-defined]
                "COPY policies_eligibility (item_id, enterprise_id, rule_id, computed_at) FROM STDIN"
            ) as copy,
        ):
            for enterprise_id in enterprise_ids:
                copy.write_row((item_id, enterprise_id, rule_id, stamp))
        return
    Eligibility.objects.bulk_create(
        [Eligibility(item_id=item_id, enterprise_id=pk, rule_id=rule_id, computed_at=now)
         for pk in enterprise_ids],
        batch_size=2000,
    )  # fmt: skip


ELIGIBILITY_LOCK = 7301  # first key of the advisory locks over the items' stored answers (second: the bucket)
ENTERPRISE_LOCK = 7302  # first key of the advisory lock over one enterprise's recomputation
LOCK_BUCKETS = 64  # items share this many locks: an enterprise's recomputation never holds more than 64


def lock_items(item_ids: Iterable[int], *, shared: bool = False) -> None:
    """Hold the stored answers of these items until the transaction ends (PostgreSQL; SQLite serialises writes).

    An item's recomputation deletes a range of its answers and COPYs the new ones in, holding its items' lock
    exclusively. An enterprise's recomputation holds the locks of every item it answers, shared, before it reads
    its own stored answers: so it never reads an answer that the item's recomputation has deleted but not yet
    written again, its inserts never land between that delete and the COPY (which then failed on the unique
    key), and two enterprises' recomputations run side by side. Items share `LOCK_BUCKETS` locks (item id
    modulo), taken in ascending order, so the shared lock table stays small and no two writers wait on each other.
    """
    buckets = sorted({int(pk) % LOCK_BUCKETS for pk in item_ids})
    if not buckets or connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("lock_items needs a transaction")
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:  # unnest keeps the array's (ascending) order
        cursor.execute(f"SELECT {function}(%s, b) FROM unnest(%s::int[]) AS b", [ELIGIBILITY_LOCK, buckets])


def _lock_enterprise(enterprise_id: int) -> None:
    """One recomputation of an enterprise at a time (two at once would write the same rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ENTERPRISE_LOCK, enterprise_id % 2_147_483_647])


def recount_eligible(item_ids: Iterable[int]) -> None:
    """Set the items' eligible counts from their stored answers (call with the items locked)."""
    ids = sorted(set(item_ids))
    if not ids:
        return
    stored = (
        Eligibility.objects.filter(item_id=OuterRef("pk")).order_by().values("item_id")
        .annotate(n=Count("pk")).values("n")
    )  # fmt: skip
    SupportItem.objects.filter(pk__in=ids).update(eligible_count=Coalesce(Subquery(stored), 0))


def _delete_answers(enterprise_id: int, item_ids: Iterable[int]) -> list[int]:
    """Delete the enterprise's stored answers of these items; return the items whose answer was deleted."""
    ids = sorted(item_ids)
    if not ids:
        return []
    with connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(f"DELETE FROM policies_eligibility WHERE enterprise_id = %s AND item_id IN ({marks}) "
                       "RETURNING item_id", [enterprise_id, *ids])  # fmt: skip
        return [row[0] for row in cursor.fetchall()]


def _insert_answers(enterprise_id: int, rules: Sequence[Rule], now: datetime.datetime) -> list[int]:
    """Store the enterprise's answers under these rules (one per item); return the items whose answer was new."""
    if not rules:
        return []
    inserted = []
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        for rule in rules:  # the items an enterprise newly qualifies for: a handful
            cursor.execute("INSERT INTO policies_eligibility (item_id, enterprise_id, rule_id, computed_at) "
                           "VALUES (%s, %s, %s, %s) ON CONFLICT (item_id, enterprise_id) DO NOTHING RETURNING item_id",
                           [rule.item_id, enterprise_id, rule.pk, stamp])  # fmt: skip
            inserted += [row[0] for row in cursor.fetchall()]
    return inserted


def lock_item_rows(item_ids: Iterable[int]) -> None:
    """Lock the items' rows in id order (every writer of several items' counts does so first: no deadlock)."""
    ids = sorted(item_ids)
    if ids:
        list(SupportItem.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))


def _shift_counts(deltas: dict[int, int]) -> None:
    """Add to the items' eligible counts (rows locked in id order first: two writers never wait on each other)."""
    changes = {pk: delta for pk, delta in deltas.items() if delta}
    if not changes:
        return
    ids = sorted(changes)
    lock_item_rows(ids)
    shift = Case(*(When(pk=pk, then=Value(delta)) for pk, delta in sorted(changes.items())), default=Value(0))
    SupportItem.objects.filter(pk__in=ids).update(eligible_count=Greatest(F("eligible_count") + shift, Value(0)))


def recompute_items(item_ids: Sequence[int], *, on: datetime.date | None = None, push: bool = True,
                    enterprise_ids: Sequence[int] | None = None) -> dict[str, int]:  # fmt: skip
    """Answer items for every enterprise their policies reach (or for the chosen ones), loading each batch once.

    Stores the eligible pairs and the counts per item, lists 免申即享 cases, and pushes the newly eligible.
    Enterprises are read in batches (ids ascending), so memory stays bounded; which enterprises an item reaches
    is read again for each batch under the items' locks, so a member that leaves or joins while the run goes on
    is answered as it is when its batch is stored (its own recomputation waits for the batch).
    """
    on = on or timezone.localdate()
    now = timezone.now()
    book = threshold_book()
    items = {i.pk: i for i in SupportItem.objects.filter(pk__in=list(item_ids))
             .select_related("policy", "policy__organization")}  # fmt: skip
    rules = {r.item_id: r for r in rules_in_force(on, list(items))}
    totals = {"eligible": 0, "needs_data": 0, "near_miss": 0, "pushed": 0}
    idle = [pk for pk in items if pk not in rules]
    if idle:
        with transaction.atomic():
            lock_items(idle)
            idle = sorted(set(idle) - {r.item_id for r in rules_in_force(on, idle)})  # published again meanwhile?
            lock_item_rows(idle)
            Eligibility.objects.filter(item_id__in=idle).delete()
            SupportItem.objects.filter(pk__in=idle).update(eligible_count=0, needs_data_count=0, near_miss_count=0,
                                                           computed_at=now)  # fmt: skip
    if not rules:
        return totals
    parsed = {item_id: parse_rule(rule, book) for item_id, rule in rules.items()}
    by_organization: dict[int, list[int]] = {}  # by id: an organisation may move in the tree during the run
    for item_id in rules:
        by_organization.setdefault(items[item_id].policy.organization_id, []).append(item_id)
    # The batches' bounds: the enterprises the items reach now (each batch reads its own reach again).
    everyone: list[int] = []
    if enterprise_ids is None:
        paths = {items[i].policy.organization.path for i in rules}
        everyone = sorted(set().union(*(_enterprise_ids_under(path) for path in paths)))
    counts = {item_id: [0, 0, 0] for item_id in rules}
    live = set(rules)  # items whose rule is still the one in force
    started = {item_id: _answer_key(rule) for item_id, rule in rules.items()}
    for span in _spans(everyone, enterprise_ids, batch_size(len(rules))):
        for attempt in range(1, RETRIES + 1):
            try:
                found = _answer_span(span, items, rules, parsed, by_organization, live, started, on, now, book)
            except IntegrityError:  # an enterprise of the batch was deleted before it committed: read it again
                if attempt == RETRIES:
                    raise
                continue
            live = found.live
            for item_id, figures in found.counts.items():
                for position, value in enumerate(figures):
                    counts[item_id][position] += value
            break
    for item_id, (eligible, unknown, near) in counts.items():
        if item_id not in live:
            continue
        with transaction.atomic():  # the eligible count is the stored answers', whoever else wrote some meanwhile
            lock_items([item_id])
            if enterprise_ids is None:
                SupportItem.objects.filter(pk=item_id).update(needs_data_count=unknown, near_miss_count=near,
                                                              computed_at=now)  # fmt: skip
            recount_eligible([item_id])
        item = items[item_id]
        totals["eligible"] += eligible
        totals["needs_data"] += unknown
        totals["near_miss"] += near
        # told from the answers stored under this run's rule (read back in chunks: nothing is held per item), and
        # only while it is in force: an enterprise recomputed since, or a version put in force since (its own
        # run tells), is not told what this run found
        for chunk in _stored_chunks(item, rules[item_id].pk, enterprise_ids):
            if item.delivery == SupportItem.Delivery.AUTOMATIC:
                _list_cases(item, chunk, rule_id=rules[item_id].pk, stored=True)
            if push:
                totals["pushed"] += push_item(item, chunk, rule_id=rules[item_id].pk, stored=True)
    return totals


@dataclass
class _SpanResult:
    live: set[int]
    counts: dict[int, tuple[int, int, int]]  # item → (eligible, needs data, near misses) in the span


def _answer_span(span: Span, items: dict[int, SupportItem], rules: dict[int, Rule], parsed: dict[int, Expression],
                 by_organization: dict[int, list[int]], live: set[int], started: dict[int, tuple[int, str]],
                 on: datetime.date, now: datetime.datetime, book: ThresholdBook) -> _SpanResult:  # fmt: skip
    """Read, answer and store one batch of a run, in one transaction, under its items' locks held exclusively: an
    enterprise's recomputation waits for it and then answers from figures at least as new, or ran before and its
    figures are read here."""
    with transaction.atomic():
        lock_items(live)
        # an item whose rule, policy region or dates changed since the run began is left to the newer run that
        # the change queued
        fresh = {r.item_id: _answer_key(r) for r in rules_in_force(on, live)}
        live = {i for i in live if fresh.get(i) == started[i]}
        lock_item_rows(live)  # their counts move below: rows locked in id order, before anything else
        wanted = [pk for pk, path_items in by_organization.items() if live.intersection(path_items)]
        reach = span.reach(wanted)
        by_id = {snap.enterprise_id: snap for snap in snapshots(sorted(set().union(set(), *reach.values())))}
        deltas: dict[int, int] = {}
        counts: dict[int, tuple[int, int, int]] = {}
        empty: list[int] = []  # items that reach nobody in the span: their answers there go, in one statement
        for organization_id, reached in reach.items():
            subset = [by_id[pk] for pk in sorted(reached) if pk in by_id]
            mine = [item_id for item_id in by_organization[organization_id] if item_id in live]
            if not subset:
                empty += mine
                continue
            batch = BatchEvaluator(subset, on, book)  # one per batch and organisation: its columns serve every item
            for item_id in mine:
                ids, delta, unknown, near = _store_batch(items[item_id], rules[item_id], parsed[item_id], batch,
                                                          now, span)  # fmt: skip
                deltas[item_id] = delta
                counts[item_id] = (len(ids), unknown, near)
        for item_id, deleted in _clear_span(empty, span).items():
            deltas[item_id] = -deleted
        _shift_counts(deltas)  # the count stays the number of rows at every commit
        _check_references_now()
    return _SpanResult(live, counts)


def _check_references_now() -> None:
    """Check the deferred foreign keys now (PostgreSQL): an enterprise deleted since the batch read it fails the
    batch here, where it can be rolled back and read again, even inside an outer transaction (there the commit
    that would check them is the caller's)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # runs the pending checks
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys are initially deferred


def _stored_chunks(item: SupportItem, rule_id: int, chosen: Sequence[int] | None, size: int = 5000
                   ) -> Iterable[list[int]]:  # fmt: skip
    """The enterprises stored eligible for the item under the rule, in chunks by id (only the chosen ones)."""
    stored = Eligibility.objects.filter(item=item, rule_id=rule_id).order_by("enterprise_id")
    if chosen is not None:
        ids = sorted(set(chosen))
        for start in range(0, len(ids), size):
            found = list(stored.filter(enterprise_id__in=ids[start : start + size])
                         .values_list("enterprise_id", flat=True))  # fmt: skip
            if found:
                yield found
        return
    last = 0
    while True:
        found = list(stored.filter(enterprise_id__gt=last).values_list("enterprise_id", flat=True)[:size])
        if not found:
            return
        yield found
        last = found[-1]


def recompute_item(item_id: int, *, on: datetime.date | None = None, push: bool = True) -> dict[str, int]:
    return recompute_items([item_id], on=on, push=push)


def recompute_policy(policy_id: int, *, push: bool = True) -> dict[str, int]:
    """After a policy is published, changed or withdrawn: its items for every enterprise it reaches."""
    return recompute_items(list(SupportItem.objects.filter(policy_id=policy_id).values_list("pk", flat=True)),
                           push=push)  # fmt: skip


def _enterprise_ids_under(path: str) -> list[int]:
    return list(
        Membership.objects.filter(status=Membership.Status.ACTIVE, organization__path__startswith=path,
                                  enterprise__is_active=True)
        .values_list("enterprise_id", flat=True).distinct()
    )  # fmt: skip


_READS: dict[tuple[int, str], frozenset[str]] = {}


def _reads(rule: Rule, expression: Expression, book: ThresholdBook) -> frozenset[str]:
    key = (rule.pk, json.dumps(rule.expression, sort_keys=True, ensure_ascii=False))
    found = _READS.get(key)
    if found is None:
        if len(_READS) >= _PARSED_MAX:
            _READS.clear()
        found = _READS[key] = fields_read(expression, book)
    return found


def recompute_enterprise(enterprise_id: int, *, fields: Iterable[str] | None = None, on: datetime.date | None = None,
                         push: bool = True) -> dict[str, int]:  # fmt: skip
    """Answer the items in force for one enterprise; update its stored answers; push what it newly qualifies for.

    With `fields` (the fields whose figures or honours changed), only the rules that read one of them are
    evaluated: the others' answers cannot have changed. Without, every item is answered again.
    """
    on = on or timezone.localdate()
    now = timezone.now()
    changed = None if fields is None else frozenset(fields)
    book = threshold_book()
    answered: list[int] = []
    eligible: dict[int, Rule] = {}
    with transaction.atomic():
        # Read and write under the locks: this enterprise's recomputations one at a time, and every item's stored
        # answers held (shared) so that no item's recomputation stores between this one's read and its write.
        _lock_enterprise(enterprise_id)
        lock_items(range(LOCK_BUCKETS), shared=True)
        org_paths = member_paths(enterprise_id)
        snap: Snapshot | None = None
        for attempt in (1, 2):
            used: dict[int, int] = {}
            answered, eligible = [], {}
            for rule in rules_in_force_cached(on) if attempt == 1 else rules_in_force(on):
                if not reaches(rule, org_paths):
                    continue
                expression = parse_rule(rule, book)
                if changed is not None and not (_reads(rule, expression, book) & changed):
                    continue
                if snap is None:
                    found = snapshots([enterprise_id])
                    if not found:
                        raise Enterprise.DoesNotExist(enterprise_id)
                    snap = found[0]
                answered.append(rule.item_id)
                used[rule.item_id] = rule.pk
                if evaluate(expression, snap, on, book).state == Tri.TRUE:
                    eligible[rule.item_id] = rule
            active = dict(Rule.objects.filter(status=Rule.Status.ACTIVE, item_id__in=list(used))
                          .values_list("item_id", "pk"))  # fmt: skip
            if all(active.get(item_id) == pk for item_id, pk in used.items()):
                break
            _IN_FORCE.clear()  # a version came into force that the process's list missed: read it again
        stored = Eligibility.objects.filter(enterprise_id=enterprise_id)
        if changed is not None:
            stored = stored.filter(item_id__in=answered)
        before = set(stored.values_list("item_id", flat=True))
        gained, lost = set(eligible) - before, before - set(eligible)
        removed = _delete_answers(enterprise_id, lost)
        added = _insert_answers(enterprise_id, [eligible[item_id] for item_id in sorted(gained)], now)
        kept = set(eligible) & before
        if kept:  # answered again under another version of the rule: the stored answer names the new one
            stale = [item_id for item_id, rule_id in Eligibility.objects.filter(
                enterprise_id=enterprise_id, item_id__in=kept).values_list("item_id", "rule_id")
                if rule_id != eligible[item_id].pk]  # fmt: skip
            for item_id in stale:
                Eligibility.objects.filter(enterprise_id=enterprise_id, item_id=item_id).update(
                    rule_id=eligible[item_id].pk, computed_at=now
                )
        # the items' eligible counts follow (an item's list and the statistics read them)
        _shift_counts({**dict.fromkeys(removed, -1), **dict.fromkeys(added, 1)})
    newly = [rule.item for item_id, rule in eligible.items() if item_id not in before]
    pushed = 0
    if push and newly:
        already = set(Push.objects.filter(enterprise_id=enterprise_id, item__in=newly)
                      .values_list("item_id", flat=True))  # fmt: skip
        for item in newly:
            if item.pk not in already:
                pushed += push_item(item, [enterprise_id], rule_id=eligible[item.pk].pk)
            if item.delivery == SupportItem.Delivery.AUTOMATIC:
                _list_cases(item, [enterprise_id], rule_id=eligible[item.pk].pk)
    return {"answered": len(answered), "eligible": len(eligible), "pushed": pushed}


# What a snapshot reads of an enterprise's profile (`snapshots`): a change to another field answers nothing anew.
PROFILE_FIELDS = frozenset({"region", "industry", "size", "ownership", "founded_on", "employees", "is_active"})


def enterprises_changed(enterprise_ids: Sequence[int], fields: Iterable[str] | None) -> dict[str, int]:
    """After `orgs` announced that enterprises joined or left organisations, or that their profile changed:
    answer every item in force for them again (which items reach them, or what they are, may have changed),
    store the answers, and push what they newly qualify for."""
    if fields is not None and not set(fields) & (PROFILE_FIELDS | {MEMBERSHIP}):
        return {"answered": 0, "eligible": 0, "pushed": 0}
    ids = sorted(set(enterprise_ids))
    existing = [
        pk
        for start in range(0, len(ids), 5000)
        for pk in Enterprise.objects.filter(pk__in=ids[start : start + 5000]).values_list("pk", flat=True)
    ]
    if len(existing) < len(ids):  # deleted: their answers went with them, the items' counts follow
        _recount_counted_items()
    return recompute_enterprises(existing)


def _recount_counted_items() -> int:
    """Recount every item that counts eligible enterprises, one item per transaction under its lock."""
    ids = list(SupportItem.objects.filter(eligible_count__gt=0).order_by("pk").values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            lock_items([pk])
            recount_eligible([pk])
    return len(ids)


def organization_moved(old_path: str, new_path: str) -> dict[str, int]:
    """After `orgs` announced that an organisation moved in the tree: the items of the organisations that reached
    its members before and not after, or after and not before, answered again for everyone they reach."""
    on = timezone.localdate()
    items = [
        rule.item_id for rule in rules_in_force(on)
        if old_path.startswith(rule.item.policy.organization.path)
        != new_path.startswith(rule.item.policy.organization.path)
    ]  # fmt: skip
    return recompute_items(items, on=on)


ONE_BY_ONE = 50  # above this many enterprises, the batch evaluator over every item is faster


def recompute_enterprises(enterprise_ids: Sequence[int], *, fields: Iterable[str] | None = None,
                          on: datetime.date | None = None, push: bool = True) -> dict[str, int]:  # fmt: skip
    """Answer the items in force for several enterprises (after an import of their figures)."""
    ids = sorted(set(enterprise_ids))
    if len(ids) <= ONE_BY_ONE:
        totals = {"answered": 0, "eligible": 0, "pushed": 0}
        for pk in ids:
            for key, value in recompute_enterprise(pk, fields=fields, on=on, push=push).items():
                totals[key] += value
        return totals
    on = on or timezone.localdate()
    changed = None if fields is None else frozenset(fields)
    book = threshold_book()
    items = [
        rule.item_id for rule in rules_in_force_cached(on)
        if changed is None or _reads(rule, parse_rule(rule, book), book) & changed
    ]  # fmt: skip
    return recompute_items(items, on=on, push=push, enterprise_ids=ids)


PUSH_TITLE = gettext_lazy("You may qualify for: %(item)s")
PUSH_BODY = gettext_lazy("%(policy)s. Open the policy check-up to see why, and how to apply.")


def _in_force(item: SupportItem, rule_id: int | None = None) -> bool:
    """The item's policy is published and a rule of it (this one, when given) is in force (a withdrawal or a
    new version may have come in meanwhile)."""
    rules = Rule.objects.filter(item=item, status=Rule.Status.ACTIVE, item__policy__status=Policy.Status.PUBLISHED)
    return (rules if rule_id is None else rules.filter(pk=rule_id)).exists()


def _stored_under(item: SupportItem, rule_id: int | None, enterprise_ids: Sequence[int]) -> list[int]:
    """The enterprises, in order, whose stored answer for the item is eligible under the rule (all when no rule)."""
    ids = list(enterprise_ids)
    if rule_id is None:
        return ids
    kept: set[int] = set()
    for start in range(0, len(ids), 5000):
        kept.update(Eligibility.objects.filter(item=item, rule_id=rule_id, enterprise_id__in=ids[start : start + 5000])
                    .values_list("enterprise_id", flat=True))  # fmt: skip
    return [pk for pk in ids if pk in kept]


def push_item(item: SupportItem, enterprise_ids: Sequence[int], *, rule_id: int | None = None,
              stored: bool = False) -> int:  # fmt: skip
    """Tell the contacts of newly eligible enterprises, once per enterprise and item (preferences respected).

    With `rule_id`, only while that version is in force and for the enterprises still stored eligible under it
    (`stored`: the ids were just read from those answers).
    """
    if not enterprise_ids or not _in_force(item, rule_id):
        return 0
    if not stored:
        enterprise_ids = _stored_under(item, rule_id, enterprise_ids)
    already: set[int] = set()
    for start in range(0, len(enterprise_ids), 5000):
        already.update(Push.objects.filter(item=item, enterprise_id__in=enterprise_ids[start : start + 5000])
                       .values_list("enterprise_id", flat=True))  # fmt: skip
    new_ids = [pk for pk in enterprise_ids if pk not in already]
    if not new_ids:
        return 0
    policy = item.policy
    url = reverse("policies:checkup")
    run = uuid.uuid4()  # the rows this call inserts carry it: two workers at once never tell an enterprise twice
    count = 0
    for start in range(0, len(new_ids), 1000):
        chunk = new_ids[start : start + 1000]
        with transaction.atomic():
            Push.objects.bulk_create(
                [Push(item=item, enterprise_id=pk, organization_id=policy.organization_id, run=run) for pk in chunk],
                ignore_conflicts=True,
            )
            ours = list(Push.objects.filter(item=item, enterprise_id__in=chunk, run=run)
                        .values_list("enterprise_id", flat=True))  # fmt: skip
            contacts = contacts_of(ours) if ours else []
            if contacts:
                notify(users=contacts, kind="policies.push", title=PUSH_TITLE, body=PUSH_BODY,
                       params={"item": item.name, "policy": policy.title}, url=url, target=item,
                       organization_id=policy.organization_id)  # fmt: skip
        count += len(ours)
    return count


def mark_pushes_opened(enterprise_ids: Iterable[int]) -> int:
    """The enterprise opened its check-up, where every push leads: its pushes count as opened."""
    ids = list(enterprise_ids)
    if not ids:
        return 0
    return Push.objects.filter(enterprise_id__in=ids, opened_at__isnull=True).update(opened_at=timezone.now())


def _list_cases(item: SupportItem, enterprise_ids: Sequence[int], *, rule_id: int | None = None,
                stored: bool = False) -> None:  # fmt: skip
    """免申即享: every eligible enterprise gets a case, listed for staff to confirm (existing ones kept); with
    `rule_id` and `stored`, as `push_item`."""
    if not enterprise_ids or not _in_force(item, rule_id):
        return
    if not stored:
        enterprise_ids = _stored_under(item, rule_id, enterprise_ids)
    if not enterprise_ids:
        return
    AutoGrantCase.objects.bulk_create(
        [AutoGrantCase(item=item, enterprise_id=pk, organization_id=item.policy.organization_id,
                       amount=item.max_amount) for pk in enterprise_ids],
        ignore_conflicts=True, batch_size=2000,
    )  # fmt: skip
