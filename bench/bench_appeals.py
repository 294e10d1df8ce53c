"""Benchmark appeals (诉求) at scale: the lists and statistics at 1,000,000 appeals on PostgreSQL, the classifier's
time per appeal and the clustering of 10,000 appeals.

1. A fresh PostgreSQL database (`qiaoliang_bench_appeals`, dropped and created; `BENCH_APPEALS_PG_DB` names another):
   `manage.py migrate`, `manage.py seed_demo --enterprises 20000`, then N appeals written with COPY (psycopg's
   `cursor.copy`): enterprises with an active membership (the organisation is the deepest one, as
   `services.organizations_for` chooses), skewed so some enterprises raise many appeals; received over three years,
   more of them recently; the statuses an appeal of that age has (most closed, the recent ones open); departments
   by category (the shipped demo routings' pairs), working-day deadlines, answers on time or late, satisfaction and
   ratings; titles and descriptions from `appeals/data/demo_appeals.csv`; a few pending extension requests. The
   table's secondary indexes are dropped during the load and built again after it (the same definitions), then
   `VACUUM (ANALYZE)`. Every step is timed.
2. In one Django process (`DJANGO_SETTINGS_MODULE=qiaoliang.settings`, `DATABASE_CONN_MAX_AGE=60`, `DEBUG=0`):
   `django.test.Client` with `force_login` as the demo users staff (sees everything), secretary (a chamber),
   liaison (a department) and enterprise (a contact); warm-up requests, then at least 30 timed requests per page
   (bounded by count and time), p50 / p95 / max and queries per request (`CaptureQueriesContext`), next to
   `/healthz` (one `SELECT 1` through the whole middleware stack) timed at the start and the end. For every page
   over the 1 s target the slowest queries are explained (`EXPLAIN (ANALYZE, BUFFERS)`).
3. The classifier (`core.textclassifier.fit` on the labelled TipDM messages, 留言主题 + 留言详情 → 一级分类): ms per
   appeal for 1 and for 1,000 documents, and `manage.py classify_appeals` on 10,000 rows.
4. Clustering (`appeals.clustering.cluster`) of 10,000 messages (attachments 3 and 4, topped up by repeating them).

    .venv/bin/python bench/bench_appeals.py                    # 1,000,000 appeals (~15-20 min on 2 CPUs)
    .venv/bin/python bench/bench_appeals.py --quick            # 100,000 appeals
    .venv/bin/python bench/bench_appeals.py --appeals 300000 --requests 50
    .venv/bin/python bench/bench_appeals.py --reuse-db         # measure again on the database of the last run

Writes bench/results/<date>-appeals.md and .json (<date>-appeals-quick.* for --quick, -appeals-<N> for another N).
Every loop has a count and a time limit.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime
import itertools
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_APPEALS_PG_DB", "qiaoliang_bench_appeals")  # dropped and created
DATA = Path(os.environ.get("BENCH_APPEALS_DATA", "/work/shared/data/tipdm2020c-gov-messages"))
DEMO_ROUTINGS = ROOT / "qiaoliang" / "appeals" / "data" / "demo_appeals.csv"
TZ = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE's default: deadlines and "this year" are local dates
STEP_TIMEOUT = 1200  # seconds for one migrate / seed step
MEASURE_TIMEOUT = 1800  # seconds for the whole measuring worker
ENDPOINT_TIME_LIMIT = 200.0  # seconds of timed requests per page at most (30 requests of a 6 s page fit)
EXPLAIN_TIMEOUT_MS = 60_000
TARGET_MS = 1000.0  # "Statistics pages at 1,000,000 appeals answer in < 1 s" (p95), applied to every page
SEED = 2026


def title_grams_of(title: str) -> str:
    """The title's pairs as `Appeal.save` writes them (COPY bypasses save)."""
    sys.path.insert(0, str(ROOT))
    from qiaoliang.core.text import compact_text, name_grams

    return " ".join(name_grams(compact_text(title)[:120]))


# --- the data ----------------------------------------------------------------------------------------------------

CATEGORY_WEIGHTS = {  # how often each category is raised (financing and approvals most)
    "financing": 18, "tax": 10, "land": 6, "approval": 12, "construction": 6, "talent": 10, "policy": 10,
    "payment": 10, "market": 5, "legal": 5, "utilities": 4, "ip": 3, "other": 6,
}  # fmt: skip
URGENCY = [("normal", 80), ("urgent", 15), ("critical", 5)]
WORKING_DAYS = {"normal": 10, "urgent": 5, "critical": 3}  # appeals.services.WORKING_DAYS
SOURCES = [("online", 70), ("visit", 12), ("symposium", 6), ("event", 4), ("hotline", 6), ("import", 2)]
# The statuses an appeal has by its age in days: old ones are settled, recent ones still moving.
STATUS_BY_AGE = [
    (30, [("submitted", 14), ("returned", 5), ("accepted", 10), ("assigned", 35), ("answered", 16), ("confirmed", 5),
          ("closed", 12), ("withdrawn", 2), ("merged", 1)]),
    (90, [("submitted", 1), ("returned", 2), ("accepted", 2), ("assigned", 12), ("answered", 12), ("confirmed", 10),
          ("closed", 55), ("withdrawn", 4), ("merged", 2)]),
    (10**6, [("returned", 0.15), ("accepted", 0.15), ("assigned", 0.4), ("answered", 0.4), ("confirmed", 0.4),
             ("closed", 91.5), ("withdrawn", 5), ("merged", 2)]),
]  # fmt: skip
OPEN = {"submitted", "returned", "accepted", "assigned", "answered", "confirmed"}
ROUTED = {"assigned", "answered", "confirmed", "closed"}
DAYS = 3 * 365  # appeals received over three years
COLUMNS = [
    "id", "number", "title", "title_grams", "description", "urgency", "source", "shareable", "status", "assigned_at",
    "deadline", "working_days", "answer", "answered_at", "answered_on_time", "satisfaction", "rating", "feedback",
    "solved", "closed_at", "escalated_at", "reminded_at", "routing_confirmed", "created_at", "updated_at", "version",
    "answered_by_id", "department_id", "enterprise_id", "merged_into_id", "organization_id", "submitted_by_id",
    "suggested_department_id", "category_id", "suggested_category_id",
]  # fmt: skip
NULL = "\\N"


@dataclass
class Endpoint:
    key: str
    label: str
    path: str
    personas: list[str]
    kind: str  # "bare", "list", "statistics", "api", "detail"


def endpoints(three_years_ago: str, today: str) -> list[Endpoint]:
    everyone = ["staff", "secretary", "liaison", "enterprise"]
    managers = ["staff", "secretary", "liaison"]  # the overdue tab is shown to managers and departments
    return [
        Endpoint("todo", "list ?mine=todo (waiting for me)", "/appeals/?mine=todo", everyone, "list"),
        Endpoint("open", "list ?status=open", "/appeals/?status=open", everyone, "list"),
        Endpoint("status_empty", "list ?status= (the 'All' tab's link)", "/appeals/?status=", everyone, "list"),
        Endpoint("all", "list ?mine= (everything the user sees)", "/appeals/?mine=", everyone, "list"),
        Endpoint("overdue", "list ?overdue=1", "/appeals/?overdue=1", managers, "list"),
        Endpoint("search", "list ?q=贷款 (in ~5 % of titles)", "/appeals/?q=" + urllib.parse.quote("贷款"), everyone,
                 "list"),
        Endpoint("search_rare", "list ?q=区块链 (matches nothing)", "/appeals/?q=" + urllib.parse.quote("区块链"),
                 everyone, "list"),
        Endpoint("search_company", "list ?q=<4 characters of an enterprise's name> (few matches)",
                 "/appeals/?q={company}", everyone, "list"),
        Endpoint("stats_year", "statistics (this year, the default)", "/appeals/statistics/", everyone, "statistics"),
        Endpoint("stats_3y", "statistics ?start=3 years ago&end=today",
                 f"/appeals/statistics/?start={three_years_ago}&end={today}", everyone, "statistics"),
        Endpoint("api", "API /api/v1/appeals/", "/api/v1/appeals/", everyone, "api"),
        Endpoint("detail", "the appeal's page /appeals/<id>/", "/appeals/{detail}/", everyone, "detail"),
    ]  # fmt: skip


@dataclass
class PageResult:
    key: str
    label: str
    persona: str
    path: str
    kind: str
    requests: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    queries: str = ""  # "7" or "7-8"
    sql_p50_ms: float | None = None  # the database's share of a request (sum of the queries' times)
    slowest_sql_ms: float | None = None  # the median time of the slowest query
    slowest_sql: str = ""
    shown: str = ""  # rows on the page / count of the API
    note: str = ""
    explain: list[dict[str, Any]] = field(default_factory=list)


# --- helpers -----------------------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench-appeals {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def django_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="qiaoliang.settings",
        QIAOLIANG_ENV="development",
        DEBUG="0",
        DATABASE_CONN_MAX_AGE="60",  # persistent connections, as in production (settings.py's default there)
        ALLOWED_HOSTS="127.0.0.1,testserver",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def run_step(args: list[str], env: dict[str, str], timeout: float = STEP_TIMEOUT) -> tuple[float, str, str, int]:
    started = time.perf_counter()
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return time.perf_counter() - started, str(exc.stdout or ""), f"timed out after {timeout:.0f} s", -1
    return time.perf_counter() - started, done.stdout, done.stderr, done.returncode


def worker(mode: str, database_url: str, payload: dict[str, Any], timeout: float = MEASURE_TIMEOUT) -> Any:
    """Run this script as a Django worker in a fresh process; return the JSON it prints last."""
    args = [PYTHON, str(Path(__file__)), "worker", mode, json.dumps(payload, ensure_ascii=False)]
    started = time.perf_counter()
    try:
        done = subprocess.run(args, cwd=ROOT, env=django_env(database_url), stdout=subprocess.PIPE, stderr=None,
                              text=True, timeout=timeout, check=False)  # fmt: skip  # stderr: the worker's log
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"worker {mode} timed out after {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise RuntimeError(f"worker {mode} failed ({done.returncode}) after {time.perf_counter() - started:.0f} s")
    return json.loads(done.stdout.strip().splitlines()[-1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))]


def database_url(name: str) -> str:
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def recreate_database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    return database_url(PG_DB)


# --- writing the appeals -----------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    """Return text as a COPY text-format field."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _weighted(rng: random.Random, pairs: list[tuple[str, float]]) -> Any:
    values = [value for value, _weight in pairs]
    cumulative = list(itertools.accumulate(weight for _value, weight in pairs))
    return lambda: values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


# Calendar days to add to a date of weekday w (0 = Monday) to count n working days (Monday to Friday; the
# benchmark ignores the official holidays that core.workdays adds).
def _workday_table() -> list[list[int]]:
    table = []
    for weekday in range(7):
        row, day = [0], weekday
        for _n in range(1, 61):
            while True:
                day += 1
                if day % 7 < 5:
                    break
            row.append(day - weekday)
        table.append(row)
    return table


@dataclass
class Reference:
    enterprises: list[int]
    organization_of: dict[int, int]
    categories: dict[str, int]
    departments: dict[str, int]
    department_of_category: dict[str, str]
    texts_by_category: dict[str, list[tuple[str, str, str]]]
    demo_enterprise: int
    demo_organization: int
    liaison_department: int
    enterprise_user: int
    staff_user: int
    liaison_user: int


def load_reference(conn: Any) -> Reference:
    """Read what the appeals point at: enterprises and their organisation, categories, departments, demo users."""
    rows = conn.execute(
        "SELECT m.enterprise_id, m.organization_id, o.path FROM orgs_membership m "
        "JOIN orgs_organization o ON o.id = m.organization_id WHERE m.status = 'active'"
    ).fetchall()
    best: dict[int, tuple[int, str, int]] = {}
    for enterprise_id, organization_id, path in rows:
        depth = path.count("/")
        key = (-depth, path, organization_id)
        if enterprise_id not in best or key < best[enterprise_id]:
            best[enterprise_id] = key
    organization_of = {enterprise: key[2] for enterprise, key in best.items()}
    categories = dict(conn.execute("SELECT code, id FROM appeals_appealcategory").fetchall())
    departments = dict(conn.execute("SELECT code, id FROM orgs_department WHERE is_active").fetchall())
    roles = {
        username: (user_id, organization_id, enterprise_id, department_id)
        for username, user_id, organization_id, enterprise_id, department_id in conn.execute(
            "SELECT u.username, u.id, r.organization_id, r.enterprise_id, r.department_id FROM accounts_user u "
            "JOIN accounts_roleassignment r ON r.user_id = u.id WHERE u.username IN "
            "('staff', 'secretary', 'enterprise', 'liaison')"
        ).fetchall()
    }
    with DEMO_ROUTINGS.open(encoding="utf-8", newline="") as handle:
        demo_rows = list(csv.DictReader(handle))
    pairs: dict[str, dict[str, int]] = {}
    texts: dict[str, list[tuple[str, str, str]]] = {}
    for row in demo_rows:
        pairs.setdefault(row["category"], {}).setdefault(row["department"], 0)
        pairs[row["category"]][row["department"]] += 1
        texts.setdefault(row["category"], []).append(
            (_escape(row["title"][:120]), _escape(title_grams_of(row["title"][:120])), _escape(row["description"]))
        )
    department_of_category = {
        category: max(counts, key=lambda code: (counts[code], code)) for category, counts in pairs.items()
    }
    secretary_org = roles["secretary"][1]
    return Reference(
        enterprises=sorted(organization_of),
        organization_of=organization_of,
        categories=categories,
        departments=departments,
        department_of_category=department_of_category,
        texts_by_category=texts,
        demo_enterprise=roles["enterprise"][2],
        demo_organization=secretary_org,  # the demo contact's enterprise is a member of the secretary's chamber
        liaison_department=roles["liaison"][3],
        enterprise_user=roles["enterprise"][0],
        staff_user=roles["staff"][0],
        liaison_user=roles["liaison"][0],
    )


def _ts(value: datetime.datetime | None) -> str:
    return NULL if value is None else value.isoformat()


def write_appeals(url: str, count: int, seed: int) -> dict[str, Any]:
    """COPY `count` appeals into appeals_appeal (and a few extension requests and one timeline); return timings."""
    import psycopg

    rng = random.Random(seed)
    timings: dict[str, float] = {}
    out: dict[str, Any] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        ref = load_reference(conn)
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'appeals_appeal' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
        ).fetchall()  # the secondary indexes: built again after the load (primary key and unique number stay)
        first_id = int(conn.execute("SELECT coalesce(max(id), 0) + 1 FROM appeals_appeal").fetchone()[0])

    started = time.perf_counter()
    now = datetime.datetime.now(datetime.UTC)
    today = now.astimezone(TZ).date()
    workdays = _workday_table()
    # Received over three years, more recently: age = DAYS * u^1.3 (about 43 % in the last year).
    ages = sorted((DAYS * rng.random() ** 1.3 for _ in range(count)), reverse=True)
    weights = [rng.lognormvariate(0.0, 1.0) for _ in ref.enterprises]
    if ref.demo_enterprise in ref.organization_of:
        weights[ref.enterprises.index(ref.demo_enterprise)] = math.exp(0.5)  # the mean: an ordinary enterprise
    cumulative = list(itertools.accumulate(weights))
    category_pick = _weighted(rng, [(code, w) for code, w in CATEGORY_WEIGHTS.items() if code in ref.categories])
    urgency_pick = _weighted(rng, URGENCY)
    source_pick = _weighted(rng, SOURCES)
    status_picks = [(limit, _weighted(rng, pairs)) for limit, pairs in STATUS_BY_AGE]
    department_codes = sorted(ref.departments)
    fallback = [("", "", "")]
    # A few recent appeals of the demo enterprise, in the secretary's chamber and the liaison's department, so each
    # persona has its own work on the lists and one appeal every persona may open.
    forced = {count - 50: "assigned", count - 45: "returned", count - 40: "answered"} if count >= 50 else {}
    detail_id = first_id + max(0, count - 50)
    extensions: list[str] = []
    status_counts: dict[str, int] = {}

    def row(position: int, age: float) -> str:
        appeal_id = first_id + position
        created = now - datetime.timedelta(days=age)
        # Received in working hours (local time), on the day the age gives.
        local = created.astimezone(TZ)
        created = local.replace(hour=8 + int(rng.random() * 10), minute=int(rng.random() * 60),
                                second=int(rng.random() * 60)).astimezone(datetime.UTC)  # fmt: skip
        if created > now:
            created = now - datetime.timedelta(minutes=1 + rng.random() * 60)
        age_days = (now - created).total_seconds() / 86400
        status = forced.get(position)
        if position in forced:
            enterprise, organization = ref.demo_enterprise, ref.demo_organization
        else:
            enterprise = ref.enterprises[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            organization = ref.organization_of[enterprise]
            status = next(pick for limit, pick in status_picks if age_days <= limit)()
        category = "financing" if position in forced else category_pick()
        title, grams, description = rng.choice(ref.texts_by_category.get(category) or fallback)
        urgency = urgency_pick()
        source = source_pick()
        department: int | None = None
        if status in ROUTED and (status == "assigned" or position in forced or rng.random() < 0.93):
            # (an answered appeal without a department: the organisation's staff answered it themselves)
            usual = ref.department_of_category.get(category)
            code = usual if usual in ref.departments and rng.random() < 0.85 else rng.choice(department_codes)
            department = ref.departments[code]
        if position in forced and status in ROUTED:
            department = ref.liaison_department
        assigned_at = deadline = answered_at = closed_at = escalated = reminded = None
        working_days = answered_on_time = solved = rating = None
        answer = satisfaction = feedback = ""
        last = created
        if department is not None:
            assigned_at = min(now, created + datetime.timedelta(hours=4 + rng.random() * 68))
            working_days = WORKING_DAYS[urgency] if rng.random() < 0.9 else rng.choice([15, 20])
            start = assigned_at.astimezone(TZ).date()
            deadline = start + datetime.timedelta(days=workdays[start.weekday()][working_days])
            last = assigned_at
            if status == "assigned" and deadline < today:
                reminded = datetime.datetime.combine(deadline - datetime.timedelta(days=2), datetime.time(9), TZ)
                escalated = datetime.datetime.combine(deadline + datetime.timedelta(days=1), datetime.time(9), TZ)
                last = max(last, min(escalated, now))
        if status in ("answered", "confirmed", "closed"):
            if department is not None and deadline is not None:
                if rng.random() < 0.85:  # on time
                    span = (deadline - assigned_at.astimezone(TZ).date()).days + 0.7
                    answered_at = assigned_at + datetime.timedelta(days=rng.random() * span)
                else:
                    answered_at = datetime.datetime.combine(deadline, datetime.time(17), TZ) + datetime.timedelta(
                        days=1 + rng.random() * 20
                    )
            else:
                answered_at = created + datetime.timedelta(days=0.5 + rng.random() * 5)
            answered_at = min(answered_at, now - datetime.timedelta(minutes=5))
            answered_at = max(answered_at, last)
            answered_on_time = deadline is None or answered_at.astimezone(TZ).date() <= deadline
            answer = "经与相关处室研究，已与企业电话沟通，明确了办理路径和所需材料，并安排专人跟进。"
            solved = rng.random() < 0.8
            last = answered_at
            if status == "confirmed" or (status == "closed" and rng.random() < 0.7):
                satisfied = rng.random() < 0.85
                satisfaction = "satisfied" if satisfied else "unsatisfied"
                rating = rng.choice([4, 5, 5]) if satisfied else rng.choice([1, 2, 3, 3])
                feedback = "" if satisfied else "答复未解决实际问题，希望进一步协调。"
            if status == "closed":
                closed_at = min(now - datetime.timedelta(minutes=1), answered_at + datetime.timedelta(
                    days=0.2 + rng.random() * 7))  # fmt: skip
                last = closed_at
        elif status in ("withdrawn", "merged", "returned", "accepted"):
            last = min(now, created + datetime.timedelta(days=rng.random() * 3))
        merged_into = NULL
        if status == "merged" and position > 0:
            merged_into = str(first_id + int(rng.random() * position))
        classified = department is not None or rng.random() < 0.4
        category_id = ref.categories[category] if classified else None
        suggested_category = ref.categories[category] if rng.random() < 0.85 else rng.choice(
            list(ref.categories.values()))  # fmt: skip
        usual_department = ref.departments.get(ref.department_of_category.get(category, ""))
        suggested_department = (department or usual_department) if rng.random() < 0.85 else ref.departments[
            rng.choice(department_codes)]  # fmt: skip
        if status == "assigned" and rng.random() < 0.06:
            asked = min(now, (assigned_at or created) + datetime.timedelta(days=1 + rng.random() * 3))
            extensions.append(
                f"{rng.choice([5, 5, 10])}\t需会同区政府现场核查，涉及多个部门。\tpending\t{_ts(asked)}\t{NULL}"
                f"\t{appeal_id}\t{NULL}\t{ref.liaison_user if department == ref.liaison_department else NULL}"
            )
        status_counts[status] = status_counts.get(status, 0) + 1
        submitted_by = ref.enterprise_user if enterprise == ref.demo_enterprise and source == "online" else None

        def opt(value: Any) -> str:
            if value is None:
                return NULL
            if isinstance(value, bool):
                return "t" if value else "f"
            return str(value)

        return "\t".join([
            str(appeal_id), f"B{appeal_id:09d}", title, grams, description, urgency, source, opt(rng.random() < 0.25),
            status, _ts(assigned_at), opt(deadline), opt(working_days), answer, _ts(answered_at),
            opt(answered_on_time), satisfaction, opt(rating), feedback, opt(solved), _ts(closed_at), _ts(escalated),
            _ts(reminded), opt(department is not None), _ts(created), _ts(last), "1", NULL, opt(department),
            str(enterprise), merged_into, str(organization), opt(submitted_by), opt(suggested_department),
            opt(category_id), opt(suggested_category),
        ]) + "\n"  # fmt: skip

    with psycopg.connect(url) as conn:
        # The load writes ids, users and organisations read from this database a moment ago: the foreign-key
        # triggers are skipped for the bulk COPY (they would queue a million deferred checks); orphans are counted
        # afterwards instead.
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET maintenance_work_mem = '512MB'")
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        chunk: list[str] = []
        with conn.cursor() as cursor, cursor.copy(f"COPY appeals_appeal ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for position, age in enumerate(ages):
                chunk.append(row(position, age))
                if len(chunk) >= 20_000:
                    copy.write("".join(chunk))
                    chunk.clear()
                if position and position % 200_000 == 0:
                    log(f"  {position:,} appeals written ({time.perf_counter() - started:.0f} s)")
            if chunk:
                copy.write("".join(chunk))
        timings["generate and COPY"] = time.perf_counter() - started
        step = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY appeals_extensionrequest (days, reason, status, created_at, decided_at, appeal_id, "
                "decided_by_id, requested_by_id) FROM STDIN"
            ) as copy,
        ):
            copy.write("".join(line + "\n" for line in extensions))
        # The timeline of the appeal every persona opens (the other appeals' timelines are not written).
        created_at = conn.execute("SELECT created_at, assigned_at FROM appeals_appeal WHERE id = %s",
                                  [detail_id]).fetchone()  # fmt: skip
        if created_at:
            received, assigned = created_at
            assigned = assigned or received
            events = [
                ("", "submitted", ref.enterprise_user, "", received, "status", False),
                ("submitted", "accepted", ref.staff_user, "", received + (assigned - received) / 2, "status", False),
                ("accepted", "accepted", ref.staff_user, "融资信贷", assigned, "routing", True),
                ("accepted", "assigned", ref.staff_user, "请于期限内答复。", assigned, "status", False),
                ("assigned", "assigned", ref.staff_user, "已电话联系企业核实情况。", assigned, "comment", True),
            ]
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO appeals_appealevent (from_status, to_status, actor_id, note, created_at, kind, "
                    "internal, appeal_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [(*event, detail_id) for event in events],
                )
        conn.execute("SELECT setval(pg_get_serial_sequence('appeals_appeal', 'id'), "
                     "(SELECT max(id) FROM appeals_appeal))")  # fmt: skip
        conn.commit()
        timings["extension requests and one timeline"] = time.perf_counter() - step
        step = time.perf_counter()
        for _name, definition in indexes:
            conn.execute(definition)
        conn.commit()
        timings[f"build {len(indexes)} secondary indexes"] = time.perf_counter() - step
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        step = time.perf_counter()
        orphans = conn.execute(
            "SELECT count(*) FILTER (WHERE e.id IS NULL), count(*) FILTER (WHERE o.id IS NULL), "
            "count(*) FILTER (WHERE a.department_id IS NOT NULL AND d.id IS NULL), "
            "count(*) FILTER (WHERE a.category_id IS NOT NULL AND c.id IS NULL) FROM appeals_appeal a "
            "LEFT JOIN orgs_enterprise e ON e.id = a.enterprise_id LEFT JOIN orgs_organization o "
            "ON o.id = a.organization_id LEFT JOIN orgs_department d ON d.id = a.department_id "
            "LEFT JOIN appeals_appealcategory c ON c.id = a.category_id"
        ).fetchone()
        timings["check foreign keys (orphans)"] = time.perf_counter() - step
        out["orphans"] = dict(zip(["enterprise", "organization", "department", "category"], orphans, strict=True))
    with psycopg.connect(url, autocommit=True) as conn:
        step = time.perf_counter()
        # As bench/run.py: production's autovacuum soon sets the visibility map after a bulk load (index-only
        # scans skip the heap); a fresh COPY has none yet.
        conn.execute("VACUUM (ANALYZE) appeals_appeal")
        conn.execute("VACUUM (ANALYZE) appeals_extensionrequest")
        conn.execute("VACUUM (ANALYZE) appeals_appealevent")
        timings["VACUUM (ANALYZE)"] = time.perf_counter() - step
        size = conn.execute("SELECT pg_size_pretty(pg_table_size('appeals_appeal')), "
                            "pg_size_pretty(pg_indexes_size('appeals_appeal'))").fetchone()  # fmt: skip
        autovacuum = conn.execute("SHOW autovacuum").fetchone()[0]
    out.update(
        timings={key: round(value, 1) for key, value in timings.items()},
        statuses=dict(sorted(status_counts.items(), key=lambda item: -item[1])),
        extensions=len(extensions),
        detail_id=detail_id,
        table_size=size[0],
        index_size=size[1],
        indexes_rebuilt=len(indexes),
        autovacuum=autovacuum,
        enterprises_with_appeals=len(ref.enterprises),
    )
    return out


def describe_data(url: str) -> dict[str, Any]:
    """What the personas see: counts of the rows each page reads (plain SQL, for the report)."""
    import psycopg

    with psycopg.connect(url) as conn:
        one = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('submitted','returned','accepted','assigned',"
            "'answered','confirmed')), count(*) FILTER (WHERE status = 'assigned' AND deadline < (now() AT TIME ZONE "
            "'Asia/Shanghai')::date), count(*) FILTER (WHERE created_at >= date_trunc('year', now() AT TIME ZONE "
            "'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'), count(*) FILTER (WHERE title LIKE '%%贷款%%'), "
            "min(created_at)::date, max(created_at)::date FROM appeals_appeal"
        ).fetchone()
        secretary = conn.execute(
            "SELECT count(*) FROM appeals_appeal WHERE organization_id IN (SELECT organization_id FROM "
            "accounts_roleassignment r JOIN accounts_user u ON u.id = r.user_id WHERE u.username = 'secretary')"
        ).fetchone()[0]
        liaison = conn.execute(
            "SELECT count(*) FROM appeals_appeal WHERE status IN ('assigned','answered','confirmed','closed') AND "
            "department_id IN (SELECT department_id FROM accounts_roleassignment r JOIN accounts_user u ON "
            "u.id = r.user_id WHERE u.username = 'liaison')"
        ).fetchone()[0]
        enterprise = conn.execute(
            "SELECT count(*) FROM appeals_appeal WHERE enterprise_id IN (SELECT enterprise_id FROM "
            "accounts_roleassignment r JOIN accounts_user u ON u.id = r.user_id WHERE u.username = 'enterprise')"
        ).fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN ('shared_buffers', "
            "'work_mem', 'max_parallel_workers_per_gather', 'effective_cache_size', 'random_page_cost', 'jit')"
        ).fetchall())  # fmt: skip
        version = conn.execute("SHOW server_version").fetchone()[0]
    keys = ["appeals", "open", "overdue", "this_year", "title_has_贷款", "first_day", "last_day"]
    data = {key: (value.isoformat() if isinstance(value, datetime.date) else value)
            for key, value in zip(keys, one, strict=True)}  # fmt: skip
    data.update(visible_secretary=secretary, visible_liaison=liaison, visible_enterprise=enterprise,
                postgresql=version, pg_settings=settings)  # fmt: skip
    return data


# --- measuring (a worker inside Django) ----------------------------------------------------------------------------


def measure(payload: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from qiaoliang.accounts.models import RoleAssignment, User

    requests, warmup = int(payload["requests"]), int(payload["warmup"])
    today = datetime.datetime.now(TZ).date()
    three_years_ago = today.replace(year=today.year - 3, day=min(today.day, 28) if today.month == 2 else today.day)
    pages = endpoints(three_years_ago.isoformat(), today.isoformat())
    # The demo contact's enterprise: four characters of its name after the city (北京新海餐饮管理有限公司 → 新海餐饮).
    assignment = RoleAssignment.objects.select_related("enterprise").get(
        user__username="enterprise", enterprise__isnull=False
    )
    fragment = assignment.enterprise.name.removeprefix("北京市").removeprefix("北京")[:4]
    company = urllib.parse.quote(fragment)
    log(f"company search: {fragment}")
    clients: dict[str, Any] = {}
    for persona in ("staff", "secretary", "liaison", "enterprise"):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(User.objects.get(username=persona))
        clients[persona] = client

    def run(endpoint: Endpoint, persona: str, path: str) -> PageResult:
        client = clients[persona]
        result = PageResult(endpoint.key, endpoint.label, persona, path, endpoint.kind)
        for _ in range(warmup):
            client.get(path)
        latencies: list[float] = []
        sql_totals: list[float] = []
        counts: list[int] = []
        by_sql: dict[str, list[float]] = {}
        deadline = time.monotonic() + ENDPOINT_TIME_LIMIT
        response: Any = None
        while len(latencies) < requests and time.monotonic() < deadline:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
            code = str(response.status_code)
            result.statuses[code] = result.statuses.get(code, 0) + 1
            latencies.append(elapsed * 1000)
            counts.append(len(captured.captured_queries))
            total = 0.0
            for query in captured.captured_queries:
                seconds = float(query["time"])
                total += seconds
                by_sql.setdefault(query["sql"], []).append(seconds * 1000)
            sql_totals.append(total * 1000)
        result.requests = len(latencies)
        if result.requests < requests:
            result.note = f"stopped at the {ENDPOINT_TIME_LIMIT:.0f} s limit"
        if latencies:
            result.p50_ms = round(statistics.median(latencies), 1)
            result.p95_ms = round(percentile(latencies, 0.95), 1)
            result.max_ms = round(max(latencies), 1)
            result.sql_p50_ms = round(statistics.median(sql_totals), 1)
            low, high = min(counts), max(counts)
            result.queries = str(low) if low == high else f"{low}-{high}"
        if by_sql:
            ranked = sorted(by_sql.items(), key=lambda item: -statistics.median(item[1]))
            result.slowest_sql_ms = round(statistics.median(ranked[0][1]), 1)
            result.slowest_sql = ranked[0][0]
            if result.p95_ms is not None and result.p95_ms >= TARGET_MS:
                # The slowest query, and the next two when they take 50 ms or more.
                for rank, (sql, times) in enumerate(ranked[:3]):
                    if rank == 0 or statistics.median(times) >= 50:
                        result.explain.append({"median_ms": round(statistics.median(times), 1), "sql": sql,
                                               "plan": explain(connection, sql)})  # fmt: skip
        if response is not None:
            result.shown = shown(response)
        if set(result.statuses) != {"200"}:
            result.note = (result.note + "; " if result.note else "") + f"statuses {result.statuses}"
        return result

    results: list[PageResult] = []
    bare = Endpoint("bare", "bare: /healthz (SELECT 1)", "/healthz", ["staff"], "bare")
    log("measure /healthz")
    results.append(run(bare, "staff", bare.path))
    for persona in ("staff", "secretary", "liaison", "enterprise"):
        for endpoint in pages:
            if persona not in endpoint.personas:
                continue
            path = endpoint.path.replace("{detail}", str(payload["detail_id"])).replace("{company}", company)
            result = run(endpoint, persona, path)
            result.label = result.label.replace("<4 characters of an enterprise's name>", f"{fragment} (a name)")
            log(f"{persona:10} {endpoint.label:45} p50 {result.p50_ms} p95 {result.p95_ms} max {result.max_ms} ms, "
                f"{result.queries} queries {result.note}")  # fmt: skip
            results.append(result)
    end = run(bare, "staff", bare.path)
    end.key, end.label = "bare_end", "bare: /healthz again, at the end"
    results.append(end)
    return {"pages": [asdict(r) for r in results]}


def explain(connection: Any, sql: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) one captured query (its parameters are inlined by psycopg's client cursor)."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return "(not a SELECT)"
    from django.db import transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {EXPLAIN_TIMEOUT_MS}")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())
    except Exception as exc:  # report, do not stop the benchmark
        return f"(EXPLAIN failed: {exc})"


def shown(response: Any) -> str:
    """How many appeals a page or API response lists (or the statistics' received count)."""
    content = response.content
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(content)
        if isinstance(data, dict) and "results" in data:
            return f"{len(data['results'])} of {data.get('count')}"
        return ""
    table = content.split(b'data-testid="appeal-list"', 1)[-1].split(b"</table>", 1)[0]
    rows = len(set(re.findall(rb'href="/appeals/(\d+)/"', table))) if b'data-testid="appeal-list"' in content else 0
    pages = re.search(rb"\xe5\x85\xb1\s*([\d,]+)\s*\xe9\xa1\xb5", content)  # 共 N 页
    received = re.search(rb'<div class="fs-5">(\d+)</div>', content)  # the first figure: received
    if b'data-testid="league"' in content:
        return f"received {received.group(1).decode()}" if received else ""
    if b'data-testid="appeal-list"' in content or b"no-appeals" in content:
        return f"{rows} rows" + (f", {pages.group(1).decode()} pages" if pages else "")
    return ""


# --- classification and clustering (a worker inside Django) -----------------------------------------------------


def read_messages(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def ten_thousand_texts() -> tuple[list[tuple[str, str]], int]:
    """Attachments 3 and 4 (subject, details), topped up to 10,000 by repeating them with a suffix （反映n） that the
    clustering's stop words and digit folding drop (so the repeats are duplicates to it, as repeated messages are)."""
    base = [(r["留言主题"], r["留言详情"]) for name in ("attachment3_hot_issue_messages.csv",
                                                  "attachment4_messages_with_replies.csv")
            for r in read_messages(name)]  # fmt: skip
    texts = list(base)
    n = 0
    while len(texts) < 10_000:
        subject, details = base[n % len(base)]
        texts.append((subject, f"{details}（反映{n // len(base) + 2}）"))
        n += 1
    return texts, len(base)


def machine_learning(payload: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from qiaoliang.appeals import clustering, textfiles
    from qiaoliang.core import textclassifier as classifier

    out: dict[str, Any] = {}
    training = DATA / "attachment2_labeled_messages_dev.csv"
    rows = textfiles.read_labelled(training, text_columns=["留言主题", "留言详情"], label_column="一级分类")
    classifier.words("预热分词")  # load rjieba's dictionary before timing
    started = time.perf_counter()
    model = classifier.fit(rows.documents, rows.labels, text_columns=["留言主题", "留言详情"])
    out["fit_seconds"] = round(time.perf_counter() - started, 2)
    out["training_rows"] = len(rows.documents)
    out["labels"] = len(model.labels)
    texts, base = ten_thousand_texts()
    documents = [[subject, details] for subject, details in texts]

    # One appeal at a time, as routing suggests at intake: different appeals, each its own call.
    singles: list[float] = []
    limit = time.monotonic() + 30
    for document in documents[:200]:
        if time.monotonic() > limit:
            break
        started = time.perf_counter()
        model.predict([document])
        singles.append((time.perf_counter() - started) * 1000)
    out["single"] = {"calls": len(singles), "p50_ms": round(statistics.median(singles), 2),
                     "p95_ms": round(percentile(singles, 0.95), 2), "max_ms": round(max(singles), 2)}  # fmt: skip
    batches: list[float] = []
    limit = time.monotonic() + 60
    for repeat in range(3):
        if time.monotonic() > limit:
            break
        batch = documents[repeat * 1000 : (repeat + 1) * 1000]
        started = time.perf_counter()
        model.predict(batch)
        batches.append(time.perf_counter() - started)
    out["batch_1000"] = {"runs": len(batches), "seconds_median": round(statistics.median(batches), 3),
                         "ms_per_appeal": round(statistics.median(batches), 3)}  # fmt: skip  # 1,000 appeals: s = ms

    # classify_appeals on 10,000 rows (a CSV with the training columns), and on one row: the process start-up.
    VAR.mkdir(parents=True, exist_ok=True)
    model_path = VAR / "appeals-bench-classifier.npz"
    classifier.save(model, model_path)
    timings: dict[str, Any] = {}
    for rows_count in (1, 10_000):
        path = VAR / f"appeals-bench-{rows_count}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["留言主题", "留言详情"])
            writer.writerows(texts[:rows_count])
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "manage.py", "classify_appeals", str(path), "--model", str(model_path),
                               "--json"], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True,
                              timeout=600, check=False)  # fmt: skip
        seconds = time.perf_counter() - started
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        timings[str(rows_count)] = {"seconds": round(seconds, 2), "exit": done.returncode, "rows_out": len(lines),
                                    "stderr": done.stderr.strip()[-300:] if done.returncode else ""}  # fmt: skip
    out["classify_appeals"] = timings

    # Clustering 10,000 appeals as /appeals/common/ joins them: "title。description".
    joined = [f"{subject}。{details}" for subject, details in texts]
    clustering.cluster(joined[:200])  # warm (rjieba, stop words)
    started = time.perf_counter()
    found = clustering.cluster(joined)
    seconds = time.perf_counter() - started
    out["clustering"] = {
        "texts": len(joined), "distinct_messages": base, "seconds": round(seconds, 2), "clusters": len(found),
        "clustered": sum(c.size for c in found),
        "largest": [{"label": "/".join(c.label), "size": c.size} for c in found[:5]],
    }  # fmt: skip
    started = time.perf_counter()
    found = clustering.cluster(joined[:3000])
    out["clustering_3000"] = {"seconds": round(time.perf_counter() - started, 2), "clusters": len(found)}
    return out


def worker_main(mode: str, extra: list[str]) -> None:
    payload = json.loads(extra[0]) if extra else {}
    if mode == "measure":
        print(json.dumps(measure(payload), ensure_ascii=False))
    elif mode == "ml":
        print(json.dumps(machine_learning(payload), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown worker mode {mode}")


# --- report ------------------------------------------------------------------------------------------------------


def fmt(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def report(run: dict[str, Any]) -> str:
    meta, args, data, setup = run["meta"], run["args"], run.get("data", {}), run.get("setup", {})
    lines = [
        f"# Appeals benchmark — {meta['date']}", "",
        f"{args['appeals']:,} appeals on PostgreSQL {data.get('postgresql', '?')} (`{PG_DB}`), "
        f"`seed_demo --enterprises {args['enterprises']}`; in-process `django.test.Client` (no HTTP server, one "
        f"client at a time), `DATABASE_CONN_MAX_AGE=60`, `DEBUG=0`; {args['warmup']} warm-up then {args['requests']} "
        "timed requests per page (at most "
        f"{ENDPOINT_TIME_LIMIT:.0f} s each).", "",
        f"Machine: {meta['cpus']} CPUs, load average at start {meta['load_start']}, "
        f"at end {meta.get('load_end', '?')}; "
        f"Python {meta['python']}; commit `{meta['commit']}` (with the working tree's uncommitted appeals app)"
        f"{' (quick run)' if args['quick'] else ''}.", "",
        f"Target: every page's p95 < {TARGET_MS:.0f} ms at {args['appeals']:,} appeals (the issue: \"Statistics pages "
        "at 1,000,000 appeals answer in < 1 s\"; the lists are reported next to a bare view).", "",
    ]  # fmt: skip
    if setup:
        lines += ["## Setup", "", "| step | seconds | detail |", "| --- | ---: | --- |"]
        for step in setup.get("steps", []):
            lines.append(f"| {step['step']} | {step['seconds']} | {step.get('detail', '')} |")
        lines.append("")
    if data:
        lines += [
            "Data: " + ", ".join([
                f"{data['appeals']:,} appeals received {data['first_day']} … {data['last_day']}",
                f"{data['open']:,} open", f"{data['overdue']:,} overdue", f"{data['this_year']:,} this year",
                f"{data['title_has_贷款']:,} with 贷款 in the title",
                f"secretary sees {data['visible_secretary']:,}", f"liaison {data['visible_liaison']:,}",
                f"enterprise {data['visible_enterprise']:,}",
            ]) + ".", "",
        ]  # fmt: skip
        if setup.get("statuses"):
            lines += ["Statuses: " + ", ".join(f"{k} {v:,}" for k, v in setup["statuses"].items())
                      + f"; {setup.get('extensions', 0):,} pending extension requests.", ""]  # fmt: skip
        if setup.get("table_size"):
            lines += [f"appeals_appeal: {setup['table_size']} table, {setup['index_size']} indexes; server "
                      f"autovacuum {setup.get('autovacuum')}; settings {data.get('pg_settings')}.", ""]  # fmt: skip
    pages = run.get("pages", [])
    bare = next((p for p in pages if p["key"] == "bare"), None)
    bare_p50 = bare["p50_ms"] if bare else None
    if pages:
        lines += [
            "## Pages", "",
            "| page | persona | requests | p50 ms | p95 ms | max ms | × bare p50 | queries | SQL ms (p50) "
            "| slowest query ms (p50) | shown | p95 < 1 s |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | :---: |",
        ]  # fmt: skip
        for p in pages:
            ratio = f"{p['p50_ms'] / bare_p50:.0f}×" if bare_p50 and p["p50_ms"] and not p["key"].startswith(
                "bare") else ""  # fmt: skip
            ok = "" if p["kind"] == "bare" or p["p95_ms"] is None else ("✓" if p["p95_ms"] < TARGET_MS else "✗")
            label = f"{p['label']}{' — ' + p['note'] if p['note'] else ''}"
            lines.append(
                f"| {label} | {p['persona']} | {p['requests']} | {fmt(p['p50_ms'])} | {fmt(p['p95_ms'])} | "
                f"{fmt(p['max_ms'])} | {ratio} | {p['queries']} | {fmt(p['sql_p50_ms'])} | "
                f"{fmt(p['slowest_sql_ms'])} | {p['shown']} | {ok} |"
            )
        lines.append("")
        over = [p for p in pages if p["kind"] != "bare" and p["p95_ms"] is not None and p["p95_ms"] >= TARGET_MS]
        lines += [f"Over the target: {len(over)} of {sum(1 for p in pages if p['kind'] != 'bare')} pages"
                  + (": " + "; ".join(f"{p['label']} ({p['persona']}, p95 {p['p95_ms']} ms)" for p in over)
                     if over else ".") + "", ""]  # fmt: skip
        explained = [p for p in over if p["explain"]]
        if explained:
            lines += ["## Slowest queries of the pages over the target", ""]
            seen: set[str] = set()
            for p in explained:
                lines += [f"### {p['label']} — {p['persona']} (p95 {p['p95_ms']} ms)", ""]
                for item in p["explain"]:
                    if item["sql"] in seen:
                        lines += [f"- {item['median_ms']} ms: the same query as above.", ""]
                        continue
                    seen.add(item["sql"])
                    lines += [f"Median {item['median_ms']} ms:", "", "```sql", item["sql"], "```", "", "```",
                              item["plan"], "```", ""]  # fmt: skip
    ml = run.get("ml")
    if ml:
        c, s, b = ml.get("classify_appeals", {}), ml.get("single", {}), ml.get("batch_1000", {})
        lines += [
            "## Classification and clustering (CPU)", "",
            "| what | result |", "| --- | --- |",
            f"| `classifier.fit` on {ml['training_rows']} labelled messages ({ml['labels']} labels, "
            f"留言主题+留言详情 → 一级分类) | {ml['fit_seconds']} s |",
            f"| predict 1 appeal per call ({s.get('calls')} calls) | p50 {s.get('p50_ms')} ms, p95 {s.get('p95_ms')} "
            f"ms, max {s.get('max_ms')} ms |",
            f"| predict 1,000 appeals in one call (median of {b.get('runs')}) | {b.get('seconds_median')} s = "
            f"{b.get('ms_per_appeal')} ms per appeal |",
        ]  # fmt: skip
        for rows_count, label in (("1", "1 row (process start-up, model load)"), ("10000", "10,000 rows")):
            item = c.get(rows_count, {})
            lines.append(f"| `manage.py classify_appeals --json`, {label} | {item.get('seconds')} s (exit "
                         f"{item.get('exit')}, {item.get('rows_out')} rows out) |")  # fmt: skip
        cl = ml.get("clustering", {})
        largest = ", ".join(f"{x['label']} {x['size']}" for x in cl.get("largest", []))
        lines += [
            f"| `clustering.cluster` on {cl.get('texts', 0):,} texts ({cl.get('distinct_messages', 0):,} distinct "
            f"messages of attachments 3 and 4, repeated with a suffix) | {cl.get('seconds')} s, {cl.get('clusters')} "
            f"clusters holding {cl.get('clustered', 0):,} texts; largest: {largest} |",
            f"| `clustering.cluster` on 3,000 (what /appeals/common/ clusters) | "
            f"{ml.get('clustering_3000', {}).get('seconds')} s, {ml.get('clustering_3000', {}).get('clusters')} "
            "clusters |", "",
        ]  # fmt: skip
    for note in run.get("notes", []):
        lines.append(f"- {note}")
    if run.get("notes"):
        lines.append("")
    lines += ["Reproduce: `" + run["command"] + "`", ""]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------------------------------------


def git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False)  # fmt: skip
    return done.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        worker_main(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--appeals", type=int, default=None, help="appeals to write (1,000,000; 100,000 with --quick)")
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="100,000 appeals")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (30)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reuse-db", action="store_true", help="measure on the database of the last run (no setup)")
    parser.add_argument("--skip-ml", action="store_true", help="no classification and clustering")
    parser.add_argument("--skip-pages", action="store_true", help="no page measurements")
    args = parser.parse_args(argv)
    args.appeals = args.appeals or (100_000 if args.quick else 1_000_000)
    args.requests = max(1, args.requests)
    started = datetime.datetime.now()
    meta = {
        "date": started.date().isoformat(), "started": started.isoformat(timespec="seconds"), "cpus": os.cpu_count(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "python": platform.python_version(),
        "commit": git_commit(),
    }  # fmt: skip
    run: dict[str, Any] = {"meta": meta, "args": vars(args), "notes": [],
                           "command": " ".join([".venv/bin/python bench/bench_appeals.py", *argv]).strip()}  # fmt: skip
    url = database_url(PG_DB)
    setup: dict[str, Any] = {"steps": []}
    if args.reuse_db:
        run["notes"].append(f"--reuse-db: measured on the existing database `{PG_DB}` (setup not repeated).")
        import psycopg

        with psycopg.connect(url) as conn:
            found = conn.execute("SELECT count(*), max(id) FROM appeals_appeal").fetchone()
            detail = conn.execute(
                "SELECT appeal_id FROM appeals_appealevent GROUP BY appeal_id ORDER BY count(*) DESC LIMIT 1"
            ).fetchone()
        if found[0] != args.appeals:
            run["notes"].append(f"The database holds {found[0]:,} appeals, not {args.appeals:,}.")
            args.appeals = found[0]
        setup["detail_id"] = detail[0] if detail else found[1]
    else:
        log(f"recreate database {PG_DB}")
        url = recreate_database()
        env = django_env(url)
        seed = ["seed_demo", "--enterprises", str(args.enterprises), "--seed", str(SEED)]
        steps = [("manage.py migrate", ["migrate", "--no-input", "-v", "0"]), (f"manage.py {' '.join(seed)}", seed)]
        for label, command in steps:
            log(label)
            seconds, _out, err, code = run_step([PYTHON, "manage.py", *command], env)
            setup["steps"].append({"step": label, "seconds": round(seconds, 1), "detail": "" if code == 0
                                   else f"failed: {err.strip()[-300:]}"})  # fmt: skip
            if code != 0:
                log(f"{label} failed: {err.strip()[-2000:]}")
                return 1
        log(f"write {args.appeals:,} appeals with COPY")
        started_copy = time.perf_counter()
        written = write_appeals(url, args.appeals, SEED)
        total = time.perf_counter() - started_copy
        for step, seconds in written["timings"].items():
            detail = ""
            if step == "generate and COPY":
                detail = f"{args.appeals / seconds:,.0f} appeals/s (Python generates every row)"
            elif step.startswith("build"):
                detail = "the model's indexes, dropped for the load (same definitions)"
            elif step.startswith("check"):
                detail = ", ".join(f"{k} {v}" for k, v in written["orphans"].items()) + " orphans"
            setup["steps"].append({"step": step, "seconds": seconds, "detail": detail})
        setup["steps"].append({"step": f"all of writing {args.appeals:,} appeals", "seconds": round(total, 1),
                               "detail": ""})  # fmt: skip
        setup.update({k: v for k, v in written.items() if k != "timings"})
        if any(written["orphans"].values()):
            run["notes"].append(f"Orphaned foreign keys after the load: {written['orphans']}.")
    run["setup"] = setup
    run["data"] = describe_data(url)
    log(f"data: {run['data']}")
    if not args.skip_pages:
        log("measure pages")
        try:
            run["pages"] = worker("measure", url, {"requests": args.requests, "warmup": args.warmup,
                                                   "detail_id": setup["detail_id"]})["pages"]  # fmt: skip
        except RuntimeError as exc:
            run["notes"].append(f"page measurements failed: {exc}")
    if not args.skip_ml:
        log("classification and clustering")
        try:
            run["ml"] = worker("ml", url, {})
        except RuntimeError as exc:
            run["notes"].append(f"classification/clustering failed: {exc}")
    meta["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    busiest = max(float(x) for x in (meta["load_start"] + " " + meta["load_end"]).split())
    if busiest > (os.cpu_count() or 1):
        run["notes"].append(f"The machine was busy (load average up to {busiest:.1f} on {os.cpu_count()} CPUs: other "
                            "work ran beside the benchmark), so the times are pessimistic; compare runs on a quiet "
                            "machine.")  # fmt: skip
    run["notes"].append(
        f"The appeal's page opens appeal {setup.get('detail_id')}: recent, routed to the liaison's department, raised "
        "by the demo enterprise in the secretary's chamber, with a five-step timeline (the other appeals have no "
        "timeline rows); every persona may open it."
    )
    run["notes"].append(
        "`list ?status=` is the link of the list's 'All' tab; the view adds mine=todo when no filter has a value, so "
        "it shows the 'waiting for me' list (compare its pages with ?mine=todo); `?mine=` is the real list of "
        "everything."
    )
    meta["seconds"] = round((datetime.datetime.now() - started).total_seconds())
    run["notes"].append(f"The whole run took {meta['seconds']} s.")
    text = report(run)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ("" if args.appeals == 1_000_000 else f"-{args.appeals}")
    stem = RESULTS / f"{meta['date']}-appeals{suffix}"
    stem.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps(run, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"written {stem}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
