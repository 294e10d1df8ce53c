"""Place the accepted 1:1 meetings of a 资源信息交流会 into time slots and tables.

Pure Python (no Django): the management command `schedule_meetings` and the benchmark call it directly.

The problem
-----------
Participants are vertices, accepted meeting requests are edges (a pair requested twice, in either order,
is one meeting), slots are colours. A schedule is a partial edge colouring: every slot is a matching (no one
double-booked) of at most `tables` meetings, a participant is never placed in a slot it is unavailable in,
and pinned meetings keep their slot and table. The goal is to place as many meetings as possible: the
maximum k-edge-colourable subgraph problem with lists and colour-class capacities, NP-hard in general.
Tables carry no constraint beyond their number, so they are numbered after the slots are chosen: in each
slot the pinned tables stay, the others are filled from the lowest free number in request order.

The algorithm
-------------
Let n participants, m distinct meetings, k slots and Δ the largest number of meetings of one participant.

1. Validate and pre-process: pins are checked (pair accepted and pinned once, slot and table in range,
   table free, participants available and not double-booked) and taken out of the problem — their
   participants become blocked in their slot, their slot loses a table. Each meeting gets the bitmask of
   slots where both participants are free and a table is left. O(n·k + m).
2. Start from the better of two constructions: first fit (the baseline, O(m·k)) and a greedy that places
   the most constrained meeting first (fewest feasible slots, then the tightest participant, by a lazy
   heap) into its least contested slot (the one fewest undecided neighbouring meetings could still use,
   weighted by 1/their options). O(m·Δ·k·log m).
3. Augmenting paths per slot: the meetings in slot s form a matching; a breadth-first search from the
   participants free in s alternates unplaced meetings allowed in s and slot-s meetings, and flipping a path
   that ends at another participant free in s places one meeting more (the slot-s meetings on it are
   ejected and re-offered to every slot). Repeated for all slots until none is found. O(n + m) per search.
   This is what fixes over-subscribed instances, where the question is *which* requests of a busy
   participant to keep.
4. Kempe chains: for each unplaced meeting u–v with slot α free at u and β free at v, swap α and β along the
   α/β path from v (if it does not end at u, its far end is available in the colour it receives and the
   tables allow), which frees α at v too. O(k²·path) per meeting. This is what fixes fully placeable
   instances, where everybody's free slots just do not line up.
5. Tabu search over partial schedules (after PartialCol, Blöchliger & Zufferey 2008) until the upper bound is
   reached, 2,000 + 40·m iterations pass without improvement, or the time limit: a move puts an unplaced
   meeting into a slot and ejects what conflicts (at most its two participants' meetings there, plus one
   random meeting if the slot has no table left); the cheapest non-tabu slot wins, an ejected meeting may
   not go back for rand(10) + 0.6·unplaced iterations. Each ejection seeds a bounded augmenting-path search
   from the participant it freed and a Kempe placement of the ejected meeting, so a move is often an
   improving ejection chain; ejected meetings are moved next with probability 0.7. One iteration in ten is
   a plateau Kempe swap at a participant of an unplaced meeting (it changes which slot that participant has
   free, letting the search leave the α/β component that ejection moves are confined to), and every 1,000
   iterations every slot gets a global augmenting-path round. A move costs O(k + Δ) plus its bounded
   searches (50 participants per augmenting search, Kempe chains of at most 30–60 meetings). The best
   schedule seen is returned, so the result is never below the start (hence never below first fit).
   Memory is O(n·k + m·k).

Upper bound: the pins plus the least of (a) meetings with a common free slot, (b) Σ over slots of
min(tables left, meetings allowed there, ½ participants who could meet there) and (c) a fractional
b-matching where each participant meets at most once per slot it could use (max flow, Dinic, on the
bipartite double cover, halved; O(m·√n)). It equals m when everything can be placed, and the search stops
as soon as it reaches it.

Determinism: one `random.Random(seed)` drives every choice, so the result depends only on the problem and the
seed — unless `time_limit` cuts the search short, when it depends on how far the search got (the time is only
checked to stop). At 1,000 participants, 16 slots and 7,000 meetings, fully placeable instances are placed
completely in under a second; over-subscribed ones (skewed demand) reach the bound in 1–7 s or stop at the
time limit a meeting short of it (see bench/bench_scheduler.py and bench/results/*-scheduler.md).

JSON contract
-------------
Input:  {"slots": 16, "tables": 500, "participants": [{"id": "p1", "unavailable": [0, 3]}, ...],
         "meetings": [["p1", "p2"], ...], "pinned": [{"a": "p1", "b": "p2", "slot": 4, "table": 17}]}
Output: {"meetings": [{"a": "p1", "b": "p2", "slot": 4, "table": 17}, ...], "unplaced": [["p5", "p9"], ...]}
Slots and tables are numbered from 0; every participant of a meeting must be listed; "pinned" is optional.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from heapq import heappop, heappush
from typing import Any

__all__ = [
    "Meeting",
    "Placement",
    "Problem",
    "Schedule",
    "ScheduleError",
    "dump_schedule",
    "first_fit",
    "load_problem",
    "schedule",
    "upper_bound",
    "validate",
]

FREE = -1
BLOCKED = -2
_STALL_BASE = 2_000  # tabu iterations without improvement before giving up, plus ...
_STALL_PER_MEETING = 40  # ... this many per meeting


class ScheduleError(ValueError):
    """Raise when a problem cannot be scheduled as given (bad pins, unknown participants, self-pairs...)."""

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("; ".join(self.errors))


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True, eq=False)
class Meeting:
    """An unordered pair of participant ids: Meeting("p1", "p2") == Meeting("p2", "p1")."""

    a: str
    b: str

    @property
    def key(self) -> tuple[str, str]:
        """Return the pair in canonical (sorted) order."""
        return _key(self.a, self.b)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Meeting) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


@dataclass(frozen=True)
class Placement:
    """A meeting of participants `a` and `b` at `table` in `slot` (both numbered from 0)."""

    a: str
    b: str
    slot: int
    table: int

    @property
    def key(self) -> tuple[str, str]:
        """Return the pair in canonical (sorted) order."""
        return _key(self.a, self.b)


@dataclass
class Problem:
    """What to schedule.

    `unavailable` is also the roster: every participant needs an entry (an empty frozenset when it is
    available in every slot); a meeting or pin naming anyone else is an error. `meetings` are the
    accepted requests; the same pair requested twice (in either order) is one meeting. `pinned` are
    meetings placed by hand: they keep their slot and table.
    """

    slots: int
    tables: int
    unavailable: dict[str, frozenset[int]]
    meetings: list[tuple[str, str]]
    pinned: list[Placement] = field(default_factory=list)


@dataclass
class Schedule:
    """The placed meetings (sorted by slot, then table) and the meetings left out (in request order)."""

    placed: list[Placement]
    unplaced: list[tuple[str, str]]


# -- preparation ---------------------------------------------------------------------------------------------------


class _Prepared:
    """Integer form of a validated problem, with the pinned meetings taken out.

    Participants are 0..n-1; `blocked[v]` is the bitmask of the slots where v is unavailable or already in a
    pinned meeting; `cap[s]` is the number of tables left in slot s. Free meetings are 0..m-1 with endpoints
    `ea[e]`, `eb[e]` and `pairs[e]` (ids in first-requested order); `allowed[e]` is the bitmask of slots where
    both endpoints are unblocked and a table is left.
    """

    def __init__(self, problem: Problem) -> None:
        errors: list[str] = []
        k, tables = problem.slots, problem.tables
        if not isinstance(k, int) or k < 0:
            errors.append(f"slots must be a non-negative integer, got {k!r}")
            k = 0
        if not isinstance(tables, int) or tables < 0:
            errors.append(f"tables must be a non-negative integer, got {tables!r}")
            tables = 0
        self.k = k
        self.tables = tables
        self.names: list[str] = list(problem.unavailable)
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        self.blocked: list[int] = []
        for name in self.names:
            mask = 0
            for s in problem.unavailable[name]:
                if isinstance(s, int) and 0 <= s < k:
                    mask |= 1 << s
                else:
                    errors.append(f"participant {name}: unavailable slot {s!r} is not in 0..{k - 1}")
            self.blocked.append(mask)

        # Distinct meetings in request order.
        seen: dict[tuple[str, str], tuple[str, str]] = {}
        for pair in problem.meetings:
            if isinstance(pair, Meeting):
                a, b = pair.a, pair.b
            else:
                a, b = pair
            if a == b:
                errors.append(f"meeting {a}–{b}: a participant cannot meet itself")
                continue
            unknown = [x for x in (a, b) if x not in self.index]
            if unknown:
                errors.append(f"meeting {a}–{b}: unknown participant {', '.join(unknown)}")
                continue
            seen.setdefault(_key(a, b), (a, b))
        self.all_pairs: list[tuple[str, str]] = list(seen.values())

        # Pins: kept as given, validated.
        self.pinned: list[Placement] = list(problem.pinned)
        pinned_keys: dict[tuple[str, str], Placement] = {}
        booked: dict[tuple[str, int], Placement] = {}
        table_used: dict[tuple[int, int], Placement] = {}
        self.pinned_tables: list[set[int]] = [set() for _ in range(k)]
        for pin in self.pinned:
            label = f"pinned meeting {pin.a}–{pin.b} (slot {pin.slot}, table {pin.table})"
            ok = True
            if pin.key not in seen:
                errors.append(f"{label}: {pin.a}–{pin.b} is not an accepted meeting")
                ok = False
            elif pin.key in pinned_keys:
                errors.append(f"{label}: the pair is already pinned (slot {pinned_keys[pin.key].slot})")
                ok = False
            if not (isinstance(pin.slot, int) and 0 <= pin.slot < k):
                errors.append(f"{label}: slot {pin.slot!r} is not in 0..{k - 1}")
                continue
            if not (isinstance(pin.table, int) and 0 <= pin.table < tables):
                errors.append(f"{label}: table {pin.table!r} is not in 0..{tables - 1}")
                ok = False
            elif (pin.slot, pin.table) in table_used:
                other = table_used[pin.slot, pin.table]
                errors.append(f"{label}: table {pin.table} in slot {pin.slot} is already used by {other.a}–{other.b}")
                ok = False
            for x in (pin.a, pin.b):
                if x not in self.index:
                    continue
                if self.blocked[self.index[x]] >> pin.slot & 1 and (x, pin.slot) not in booked:
                    errors.append(f"{label}: participant {x} is unavailable in slot {pin.slot}")
                    ok = False
                elif (x, pin.slot) in booked:
                    other = booked[x, pin.slot]
                    errors.append(
                        f"{label}: participant {x} is double-booked in slot {pin.slot} (also in {other.a}–{other.b})"
                    )
                    ok = False
            if ok:
                pinned_keys[pin.key] = pin
                table_used[pin.slot, pin.table] = pin
                self.pinned_tables[pin.slot].add(pin.table)
                for x in (pin.a, pin.b):
                    booked[x, pin.slot] = pin
                    self.blocked[self.index[x]] |= 1 << pin.slot
        if errors:
            raise ScheduleError(errors)

        self.cap: list[int] = [tables - len(self.pinned_tables[s]) for s in range(k)]
        full = sum(1 << s for s in range(k) if self.cap[s] > 0)  # a slot with no table left is closed to all
        self.ea: list[int] = []
        self.eb: list[int] = []
        self.pairs: list[tuple[str, str]] = []
        self.allowed: list[int] = []
        for a, b in self.all_pairs:
            if _key(a, b) in pinned_keys:
                continue
            u, v = self.index[a], self.index[b]
            self.ea.append(u)
            self.eb.append(v)
            self.pairs.append((a, b))
            self.allowed.append(full & ~(self.blocked[u] | self.blocked[v]))
        self.m = len(self.ea)
        self.n = len(self.names)
        self.adj: list[list[int]] = [[] for _ in range(self.n)]
        for e in range(self.m):
            self.adj[self.ea[e]].append(e)
            self.adj[self.eb[e]].append(e)

    def to_schedule(self, colour: list[int]) -> Schedule:
        """Turn a slot per free meeting (-1 = unplaced) into a Schedule; tables fill the lowest free numbers."""
        placed = list(self.pinned)
        next_table = [0] * self.k
        unplaced_keys: set[tuple[str, str]] = set()
        for e in range(self.m):
            s = colour[e]
            a, b = self.pairs[e]
            if s < 0:
                unplaced_keys.add(_key(a, b))
                continue
            t = next_table[s]
            taken = self.pinned_tables[s]
            while t in taken:
                t += 1
            next_table[s] = t + 1
            placed.append(Placement(a, b, s, t))
        placed.sort(key=lambda p: (p.slot, p.table))
        unplaced = [pair for pair in self.all_pairs if _key(*pair) in unplaced_keys]
        return Schedule(placed=placed, unplaced=unplaced)


# -- baseline ------------------------------------------------------------------------------------------------------


def _first_fit_colours(prep: _Prepared) -> list[int]:
    busy = prep.blocked[:]
    room = prep.cap[:]
    colour = [-1] * prep.m
    for e in range(prep.m):
        u, v = prep.ea[e], prep.eb[e]
        free = prep.allowed[e] & ~(busy[u] | busy[v])
        while free:
            low = free & -free
            s = low.bit_length() - 1
            if room[s] > 0:
                colour[e] = s
                room[s] -= 1
                busy[u] |= low
                busy[v] |= low
                break
            free ^= low
    return colour


def first_fit(problem: Problem) -> Schedule:
    """Schedule naively: pins first, then each meeting in request order into the first slot that fits."""
    prep = _Prepared(problem)
    return prep.to_schedule(_first_fit_colours(prep))


# -- greedy --------------------------------------------------------------------------------------------------------


def _greedy_colours(prep: _Prepared, rng: random.Random) -> list[int]:
    """Place the most constrained meeting first (fewest feasible slots), into its least contested slot."""
    k, m = prep.k, prep.m
    ea, eb, adj, allowed = prep.ea, prep.eb, prep.adj, prep.allowed
    busy = prep.blocked[:]
    room = prep.cap[:]
    open_mask = sum(1 << s for s in range(k) if room[s] > 0)
    colour = [-1] * m
    done = [False] * m
    left = [len(adj[v]) for v in range(prep.n)]  # meetings of v not yet decided

    def feasible(e: int) -> int:
        return allowed[e] & ~(busy[ea[e]] | busy[eb[e]]) & open_mask

    def slack(v: int) -> int:
        return (k - busy[v].bit_count()) - left[v]

    def priority(e: int) -> tuple[int, int, float]:
        return (feasible(e).bit_count(), min(slack(ea[e]), slack(eb[e])), rng.random())

    heap = [(*priority(e), e) for e in range(m)]
    heap.sort()
    while heap:
        fc, sl, _r, e = heappop(heap)
        if done[e]:
            continue
        current = priority(e)
        if current[:2] != (fc, sl):
            heappush(heap, (*current, e))
            continue
        done[e] = True
        u, v = ea[e], eb[e]
        left[u] -= 1
        left[v] -= 1
        options = feasible(e)
        if not options:
            continue  # the neighbours' slack only grew: their heap entries are re-keyed lazily when popped
        # Least-constraining slot: the one the fewest undecided neighbouring meetings could still use.
        nbrs = [(fm, f) for f in adj[u] + adj[v] if not done[f] and (fm := feasible(f)) & options]
        best_s, best_w = -1, 0.0
        bits = options
        while bits:
            low = bits & -bits
            bits ^= low
            w = 0.0
            for fm, _f in nbrs:
                if fm & low:
                    w += 1.0 / fm.bit_count()
            if best_s < 0 or w < best_w:
                best_s, best_w = low.bit_length() - 1, w
        s = best_s
        bit = 1 << s
        colour[e] = s
        busy[u] |= bit
        busy[v] |= bit
        room[s] -= 1
        if room[s] == 0:
            open_mask &= ~bit
        for fm, f in nbrs:
            if fm & bit:
                heappush(heap, (*priority(f), f))
    return colour


# -- local search --------------------------------------------------------------------------------------------------


class _Search:
    """Improve a slot assignment: Kempe-chain repairs, then tabu search over partial assignments."""

    def __init__(self, prep: _Prepared, colour: list[int], rng: random.Random) -> None:
        self.prep = prep
        self.rng = rng
        k = prep.k
        self.k = k
        self.ea = prep.ea
        self.eb = prep.eb
        self.cap = prep.cap
        self.colour = colour[:]
        self.occ: list[list[int]] = []
        for v in range(prep.n):
            row = [FREE] * k
            for s in range(k):
                if prep.blocked[v] >> s & 1:
                    row[s] = BLOCKED
            self.occ.append(row)
        self.cnt = [0] * k
        self.members: list[list[int]] = [[] for _ in range(k)]
        self.pos = [-1] * prep.m
        self.unplaced: list[int] = []
        self.upos = [-1] * prep.m
        self.allowed_slots = [[s for s in range(k) if prep.allowed[e] >> s & 1] for e in range(prep.m)]
        self.uadj: list[set[int]] = [set() for _ in range(prep.n)]  # unplaced (placeable) meetings per participant
        for e in range(prep.m):
            s = colour[e]
            if s >= 0:
                self._put(e, s)
            elif self.allowed_slots[e]:
                self._mark_unplaced(e)
        self.best = self.colour[:]
        self.best_left = len(self.unplaced)
        self.aug_limit = 50  # participants reached by an augmenting-path search seeded in the tabu loop
        self.kempe_limit = 30  # longest Kempe chain tried for an ejected meeting
        self.swap_limit = 60  # longest Kempe chain in a plateau swap
        self.p_swap = 0.1  # share of tabu iterations that are plateau swaps
        self.augment_every = 1000  # tabu iterations between global augmenting-path rounds
        self.iterations = 0

    # primitive moves
    def _put(self, e: int, s: int) -> None:
        self.colour[e] = s
        self.occ[self.ea[e]][s] = e
        self.occ[self.eb[e]][s] = e
        self.cnt[s] += 1
        self.pos[e] = len(self.members[s])
        self.members[s].append(e)

    def _take(self, e: int) -> None:
        s = self.colour[e]
        self.colour[e] = -1
        self.occ[self.ea[e]][s] = FREE
        self.occ[self.eb[e]][s] = FREE
        self.cnt[s] -= 1
        lst = self.members[s]
        i = self.pos[e]
        last = lst.pop()
        if last != e:
            lst[i] = last
            self.pos[last] = i
        self.pos[e] = -1

    def _mark_unplaced(self, e: int) -> None:
        self.upos[e] = len(self.unplaced)
        self.unplaced.append(e)
        self.uadj[self.ea[e]].add(e)
        self.uadj[self.eb[e]].add(e)

    def _mark_placed(self, e: int) -> None:
        i = self.upos[e]
        last = self.unplaced.pop()
        if last != e:
            self.unplaced[i] = last
            self.upos[last] = i
        self.upos[e] = -1
        self.uadj[self.ea[e]].discard(e)
        self.uadj[self.eb[e]].discard(e)

    def _save_if_better(self) -> None:
        if len(self.unplaced) < self.best_left:
            self.best_left = len(self.unplaced)
            self.best = self.colour[:]

    # Kempe chains
    def _chain(self, start: int, alpha: int, beta: int, limit: int) -> tuple[list[int], int] | None:
        """Walk the alpha/beta path from `start` (which lacks beta), starting with its alpha meeting.

        Return the meetings on the path and its far end if swapping alpha and beta along it is feasible (the
        far end is not blocked in the slot it receives); None otherwise or when the path is longer than `limit`.
        The path cannot come back to `start`, which has only one of the two slots.
        """
        occ, ea, eb = self.occ, self.ea, self.eb
        path: list[int] = []
        x, c, d = start, alpha, beta
        while True:
            f = occ[x][c]
            if f < 0:
                break
            path.append(f)
            if len(path) > limit:
                return None
            x = ea[f] + eb[f] - x
            c, d = d, c
        # x lacks slot c; its last path meeting (in d) would move to c.
        if occ[x][c] == BLOCKED:
            return None
        return path, x

    def _kempe_place(self, e: int, limit: int) -> bool:
        """Place unplaced meeting e directly or after one alpha/beta swap; return whether it was placed."""
        if self._fill_any(e):
            return True
        occ, cnt, cap, k = self.occ, self.cnt, self.cap, self.k
        u, v = self.ea[e], self.eb[e]
        best: tuple[int, int, list[int]] | None = None
        for x, y in ((u, v), (v, u)):
            ox, oy = occ[x], occ[y]
            for alpha in range(k):
                if ox[alpha] != FREE or oy[alpha] < 0:
                    continue
                for beta in range(k):
                    if oy[beta] != FREE or ox[beta] < 0:
                        continue
                    walk = self._chain(y, alpha, beta, limit if best is None else len(best[2]) - 1)
                    if walk is None or walk[1] == x:
                        continue
                    path = walk[0]
                    if len(path) % 2:
                        if cnt[beta] + 1 > cap[beta]:
                            continue
                    elif cnt[alpha] + 1 > cap[alpha]:
                        continue
                    best = (alpha, beta, path)
        if best is None:
            return False
        alpha, beta, path = best
        for f in path:
            self._take(f)
        for i, f in enumerate(path):
            self._put(f, beta if i % 2 == 0 else alpha)
        self._put(e, alpha)
        self._mark_placed(e)
        return True

    def _kempe_swap(self, x: int, alpha: int, gamma: int, limit: int) -> bool:
        """Free slot gamma at x (which is free in alpha) by swapping alpha and gamma along x's chain."""
        walk = self._chain(x, gamma, alpha, limit)
        if walk is None:
            return False
        path = walk[0]
        if len(path) % 2 and self.cnt[alpha] + 1 > self.cap[alpha]:
            return False
        for f in path:
            self._take(f)
        for i, f in enumerate(path):
            self._put(f, alpha if i % 2 == 0 else gamma)
        return True

    def kempe_pass(self, limit: int, deadline: float) -> None:
        """Try to place each unplaced meeting with a direct placement or one Kempe swap, until no progress."""
        progress = True
        while progress and self.unplaced and time.perf_counter() < deadline:
            progress = False
            for e in sorted(self.unplaced):
                if time.perf_counter() > deadline:
                    break
                if self.upos[e] >= 0 and self._kempe_place(e, limit):
                    progress = True
        self._save_if_better()

    # augmenting paths within one slot
    def _augment(self, s: int, roots: list[int], limit: int) -> bool:
        """Grow the matching of slot s by one along an alternating path of unplaced and slot-s meetings.

        Breadth-first search from `roots` (participants free in slot s): an unplaced meeting y–z allowed in s
        leads to z; if z is free in s the path ends there, otherwise it continues past z's slot-s meeting z–w
        to w, which would be freed by ejecting it. Flipping the path places one meeting more in slot s (the
        ejected ones become unplaced). Blossoms are not handled, so some augmenting paths are missed.
        """
        if self.cnt[s] >= self.cap[s]:
            return False
        occ, ea, eb, uadj = self.occ, self.ea, self.eb, self.uadj
        allowed = self.prep.allowed
        bit = 1 << s
        root: dict[int, int] = {}
        back: dict[int, tuple[int, int, int]] = {}
        queue: list[int] = []
        for r in roots:
            if occ[r][s] == FREE and r not in root:
                root[r] = r
                queue.append(r)
        inner: set[int] = set()
        for y in queue:
            ry = root[y]
            for g in uadj[y]:
                if not allowed[g] & bit:
                    continue
                z = ea[g] + eb[g] - y
                h = occ[z][s]
                if h == FREE:
                    if z == ry:
                        continue
                    # augment: flip the path root .. y, then add g
                    ejected: list[int] = []
                    entering = [g]
                    x = y
                    while x in back:
                        px, pg, ph = back[x]
                        ejected.append(ph)
                        entering.append(pg)
                        x = px
                    for f in ejected:
                        self._take(f)
                        self._mark_unplaced(f)
                    for f in entering:
                        self._put(f, s)
                        self._mark_placed(f)
                    for f in ejected:
                        if self.upos[f] >= 0:
                            self._fill_any(f)
                    return True
                if z in inner or z in root:
                    continue
                w = ea[h] + eb[h] - z
                if w in root or w in inner:
                    continue
                inner.add(z)
                root[w] = ry
                back[w] = (y, g, h)
                queue.append(w)
            if len(queue) > limit:
                break
        return False

    def augment_round(self, deadline: float = float("inf")) -> bool:
        """Search every slot for augmenting paths from all its free participants; return whether one was found."""
        n, occ, uadj = self.prep.n, self.occ, self.uadj
        found = False
        for s in range(self.k):
            roots = [v for v in range(n) if uadj[v] and occ[v][s] == FREE]
            while roots and time.perf_counter() <= deadline and self._augment(s, roots, n):
                found = True
                roots = [v for v in roots if occ[v][s] == FREE]
        return found

    def augment_pass(self, deadline: float) -> None:
        """Augment every slot until no augmenting path is found (or the deadline passes)."""
        while self.unplaced and time.perf_counter() < deadline and self.augment_round(deadline):
            pass
        self._save_if_better()

    # tabu search
    def _fill_any(self, f: int) -> bool:
        """Place unplaced meeting f in any slot where both participants are free; return whether it was."""
        ou, ov = self.occ[self.ea[f]], self.occ[self.eb[f]]
        cnt, cap = self.cnt, self.cap
        for s in self.allowed_slots[f]:
            if ou[s] == FREE and ov[s] == FREE and cnt[s] < cap[s]:
                self._put(f, s)
                self._mark_placed(f)
                return True
        return False

    def _plateau_swap(self) -> None:
        """Swap a Kempe chain at a participant of a random unplaced meeting, then try to place that meeting.

        The swap changes which slot the participant has free without changing the number of placed meetings;
        it lets the search leave the single alpha/beta component that ejection moves are confined to.
        """
        rng, occ, k = self.rng, self.occ, self.k
        e = self.unplaced[rng.randrange(len(self.unplaced))]
        x = self.ea[e] if rng.random() < 0.5 else self.eb[e]
        ox = occ[x]
        frees = [s for s in range(k) if ox[s] == FREE]
        used = [s for s in range(k) if ox[s] >= 0]
        if frees and used:
            alpha = frees[rng.randrange(len(frees))]
            gamma = used[rng.randrange(len(used))]
            if self._kempe_swap(x, alpha, gamma, self.swap_limit):
                self._kempe_place(e, self.kempe_limit)

    def tabu(self, deadline: float, stall_limit: int, target: int) -> None:
        """Run tabu search over partial assignments until `target` unplaced, a stall or the deadline.

        A move puts an unplaced meeting e into a slot s and ejects what conflicts there (e's participants'
        slot-s meetings, and a random slot-s meeting if s has no table left); an ejected meeting may not return
        to s for a tenure of rand(10) + 0.6·(unplaced) iterations unless that would beat the best. Slots with
        the fewest ejections win, ties broken at random. After a move, every participant freed by an ejection
        seeds an augmenting-path search in s, and each ejected meeting is tried directly and by a Kempe swap.
        Ejected meetings are picked next (an ejection chain) with probability 0.7.
        """
        rng = self.rng
        k = self.k
        occ, cnt, cap, ea, eb = self.occ, self.cnt, self.cap, self.ea, self.eb
        members = self.members
        allowed_slots = self.allowed_slots
        unplaced = self.unplaced
        upos = self.upos
        uadj = self.uadj
        tabu = [0] * (self.prep.m * k)
        it = 0
        last_gain = 0
        stack: list[int] = []
        rand = rng.random
        randrange = rng.randrange
        while len(unplaced) > target:
            it += 1
            if it - last_gain > stall_limit:
                break
            if it & 255 == 0 and time.perf_counter() > deadline:
                break
            if it % self.augment_every == 0:
                self.augment_round(deadline)
            elif rand() < self.p_swap:
                self._plateau_swap()
            else:
                e = -1
                while stack:
                    f = stack.pop()
                    if upos[f] >= 0:
                        e = f
                        break
                if e < 0 or rand() < 0.3:
                    if e >= 0:
                        stack.append(e)
                    e = unplaced[randrange(len(unplaced))]
                u, v = ea[e], eb[e]
                ou, ov = occ[u], occ[v]
                base = e * k
                left_now = len(unplaced)
                best_cost = 4
                cands: list[int] = []
                for s in allowed_slots[e]:
                    c = (ou[s] >= 0) + (ov[s] >= 0)
                    if cnt[s] - c >= cap[s]:
                        c += 1
                    if tabu[base + s] > it and left_now - 1 + c >= self.best_left:
                        continue
                    if c < best_cost:
                        best_cost = c
                        cands = [s]
                    elif c == best_cost:
                        cands.append(s)
                if cands:
                    s = cands[randrange(len(cands))] if len(cands) > 1 else cands[0]
                    tenure = it + randrange(10) + (6 * left_now) // 10
                    ejected: list[int] = []
                    for f in (ou[s], ov[s]):
                        if f >= 0:
                            ejected.append(f)
                    if cnt[s] - len(ejected) >= cap[s]:
                        lst = members[s]
                        while True:
                            f = lst[randrange(len(lst))]
                            if f not in ejected:
                                break
                        ejected.append(f)
                    for f in ejected:
                        self._take(f)
                        self._mark_unplaced(f)
                        tabu[f * k + s] = tenure
                    self._put(e, s)
                    self._mark_placed(e)
                    for f in ejected:
                        for y in (ea[f], eb[f]):
                            if y != u and y != v and uadj[y]:
                                self._augment(s, [y], self.aug_limit)
                        if upos[f] >= 0 and not self._kempe_place(f, self.kempe_limit):
                            stack.append(f)
            if len(unplaced) < self.best_left:
                self.best_left = len(unplaced)
                self.best = self.colour[:]
                last_gain = it
        self.iterations = it


# -- bounds --------------------------------------------------------------------------------------------------------


def _max_flow(n_nodes: int, arcs: list[tuple[int, int, int]], source: int, sink: int) -> int:
    """Return the maximum flow value (Dinic's algorithm, iterative)."""
    head = [-1] * n_nodes
    to: list[int] = []
    cap: list[int] = []
    nxt: list[int] = []
    for a, b, c in arcs:
        to.append(b)
        cap.append(c)
        nxt.append(head[a])
        head[a] = len(to) - 1
        to.append(a)
        cap.append(0)
        nxt.append(head[b])
        head[b] = len(to) - 1
    flow = 0
    while True:
        level = [-1] * n_nodes
        level[source] = 0
        queue = [source]
        for x in queue:
            i = head[x]
            while i >= 0:
                if cap[i] > 0 and level[to[i]] < 0:
                    level[to[i]] = level[x] + 1
                    queue.append(to[i])
                i = nxt[i]
        if level[sink] < 0:
            return flow
        it = head[:]
        while True:
            # find one augmenting path in the level graph
            stack = [source]
            path_arcs: list[int] = []
            while stack:
                x = stack[-1]
                if x == sink:
                    break
                i = it[x]
                while i >= 0 and not (cap[i] > 0 and level[to[i]] == level[x] + 1):
                    i = nxt[i]
                it[x] = i
                if i < 0:
                    stack.pop()
                    if path_arcs:
                        j = path_arcs.pop()
                        it[to[j ^ 1]] = nxt[it[to[j ^ 1]]]
                    level[x] = -1
                    continue
                path_arcs.append(i)
                stack.append(to[i])
            if not stack:
                break
            push = min(cap[i] for i in path_arcs)
            for i in path_arcs:
                cap[i] -= push
                cap[i ^ 1] += push
            flow += push


def _upper_bound_free(prep: _Prepared) -> int:
    """Bound the number of free (unpinned) meetings that can be placed around the pins."""
    k, n = prep.k, prep.n
    live = [e for e in range(prep.m) if prep.allowed[e]]
    if not live:
        return 0
    # Slots each participant could use at all: those allowed for at least one of its meetings.
    usable = [0] * n
    for e in live:
        usable[prep.ea[e]] |= prep.allowed[e]
        usable[prep.eb[e]] |= prep.allowed[e]
    # Per slot: at most the tables left, the meetings allowed there and half the participants who could meet there.
    per_slot = 0
    for s in range(k):
        bit = 1 << s
        edges_s = sum(1 for e in live if prep.allowed[e] & bit)
        people_s = sum(1 for v in range(n) if usable[v] & bit)
        per_slot += min(prep.cap[s], edges_s, people_s // 2)
    # Degree caps: a fractional b-matching (max flow on the bipartite double cover, halved).
    source, sink = 2 * n, 2 * n + 1
    arcs: list[tuple[int, int, int]] = []
    for v in range(n):
        c = usable[v].bit_count()
        if c:
            arcs.append((source, v, c))
            arcs.append((n + v, sink, c))
    for e in live:
        u, v = prep.ea[e], prep.eb[e]
        arcs.append((u, n + v, 1))
        arcs.append((v, n + u, 1))
    b_matching = _max_flow(2 * n + 2, arcs, source, sink) // 2
    return min(len(live), per_slot, b_matching)


def upper_bound(problem: Problem) -> int:
    """Return an upper bound on the number of distinct meetings that can be placed, pins included.

    The pins count as placed; the rest is bounded by the least of: the meetings that have a common free slot,
    the tables left summed over slots (each slot also capped by its meetings and half its usable participants),
    and a fractional b-matching where each participant meets at most once per slot it could use.
    """
    prep = _Prepared(problem)
    return len(prep.pinned) + _upper_bound_free(prep)


# -- the scheduler -------------------------------------------------------------------------------------------------


def _placed(colour: list[int]) -> int:
    return sum(1 for s in colour if s >= 0)


def schedule(problem: Problem, *, seed: int = 0, time_limit: float = 8.0) -> Schedule:
    """Place as many meetings as possible around the pins; see the module docstring for the algorithm."""
    deadline = time.perf_counter() + time_limit
    prep = _Prepared(problem)
    rng = random.Random(seed)
    baseline = _first_fit_colours(prep)
    greedy = _greedy_colours(prep, rng)
    colour = greedy if _placed(greedy) >= _placed(baseline) else baseline
    bound = _upper_bound_free(prep)
    if _placed(colour) < bound:
        search = _Search(prep, colour, rng)
        search.augment_pass(deadline)
        search.kempe_pass(limit=prep.n, deadline=deadline)
        search.augment_pass(deadline)
        live = sum(1 for mask in prep.allowed if mask)
        search.tabu(deadline=deadline, stall_limit=_STALL_BASE + _STALL_PER_MEETING * prep.m, target=live - bound)
        colour = search.best
    return prep.to_schedule(colour)


# -- checking and JSON ---------------------------------------------------------------------------------------------


def validate(problem: Problem, schedule: Schedule) -> list[str]:
    """Return every invariant the schedule violates for the problem (an empty list when it is valid)."""
    errors: list[str] = []
    k, tables = problem.slots, problem.tables
    meetings: set[tuple[str, str]] = set()
    for pair in problem.meetings:
        a, b = (pair.a, pair.b) if isinstance(pair, Meeting) else pair
        if a != b:
            meetings.add(_key(a, b))
    booked: dict[tuple[str, int], Placement] = {}
    table_used: dict[tuple[int, int], Placement] = {}
    per_slot: dict[int, int] = {}
    placed_keys: dict[tuple[str, str], Placement] = {}
    for p in schedule.placed:
        label = f"{p.a}–{p.b} (slot {p.slot}, table {p.table})"
        if p.key not in meetings:
            errors.append(f"{label}: not an accepted meeting")
        if p.key in placed_keys:
            errors.append(f"{label}: meeting placed twice (also in slot {placed_keys[p.key].slot})")
        placed_keys.setdefault(p.key, p)
        if not 0 <= p.slot < k:
            errors.append(f"{label}: slot out of range 0..{k - 1}")
        if not 0 <= p.table < tables:
            errors.append(f"{label}: table out of range 0..{tables - 1}")
        if (p.slot, p.table) in table_used:
            other = table_used[p.slot, p.table]
            errors.append(f"{label}: table {p.table} in slot {p.slot} already used by {other.a}–{other.b}")
        table_used.setdefault((p.slot, p.table), p)
        per_slot[p.slot] = per_slot.get(p.slot, 0) + 1
        for x in (p.a, p.b):
            if x not in problem.unavailable:
                errors.append(f"{label}: unknown participant {x}")
            elif p.slot in problem.unavailable[x]:
                errors.append(f"{label}: participant {x} is unavailable in slot {p.slot}")
            if (x, p.slot) in booked:
                other = booked[x, p.slot]
                errors.append(f"{label}: participant {x} double-booked in slot {p.slot} (also {other.a}–{other.b})")
            booked.setdefault((x, p.slot), p)
    for slot, count in sorted(per_slot.items()):
        if count > tables:
            errors.append(f"slot {slot}: {count} meetings for {tables} tables")
    for pin in problem.pinned:
        got = placed_keys.get(pin.key)
        if got is None or (got.slot, got.table) != (pin.slot, pin.table):
            where = "not placed" if got is None else f"placed in slot {got.slot}, table {got.table}"
            errors.append(f"pinned {pin.a}–{pin.b} (slot {pin.slot}, table {pin.table}) moved: {where}")
    unplaced_keys: set[tuple[str, str]] = set()
    for a, b in schedule.unplaced:
        key = _key(a, b)
        if key in unplaced_keys:
            errors.append(f"unplaced {a}–{b} listed twice")
        if key in placed_keys:
            errors.append(f"unplaced {a}–{b} is also placed")
        if key not in meetings:
            errors.append(f"unplaced {a}–{b}: not an accepted meeting")
        unplaced_keys.add(key)
    missing = meetings - placed_keys.keys() - unplaced_keys
    for a, b in sorted(missing):
        errors.append(f"meeting {a}–{b} is neither placed nor unplaced")
    return errors


def load_problem(data: dict[str, Any]) -> Problem:
    """Build a Problem from the JSON contract (see the module docstring); raise ScheduleError if malformed."""
    try:
        participants = data["participants"]
        unavailable: dict[str, frozenset[int]] = {}
        for item in participants:
            pid = str(item["id"])
            if pid in unavailable:
                raise ScheduleError(f"participant {pid} is listed twice")
            unavailable[pid] = frozenset(int(s) for s in item.get("unavailable", ()))
        meetings = [(str(a), str(b)) for a, b in data.get("meetings", ())]
        pinned = [
            Placement(str(p["a"]), str(p["b"]), int(p["slot"]), int(p["table"])) for p in data.get("pinned") or ()
        ]
        return Problem(
            slots=int(data["slots"]),
            tables=int(data["tables"]),
            unavailable=unavailable,
            meetings=meetings,
            pinned=pinned,
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ScheduleError):
            raise
        raise ScheduleError(f"malformed problem: {exc!r}") from exc


def dump_schedule(schedule: Schedule) -> dict[str, Any]:
    """Return the JSON form of a schedule: {"meetings": [{"a", "b", "slot", "table"}...], "unplaced": [[a, b]...]}."""
    return {
        "meetings": [{"a": p.a, "b": p.b, "slot": p.slot, "table": p.table} for p in schedule.placed],
        "unplaced": [[a, b] for a, b in schedule.unplaced],
    }
