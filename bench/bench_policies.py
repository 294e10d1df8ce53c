"""Benchmark policy eligibility at scale on PostgreSQL: 100,000 enterprises × 500 support items.

1. A fresh PostgreSQL database (`qiaoliang_bench_policies`, dropped and created; `BENCH_POLICIES_PG_DB` names
   another): `manage.py migrate`, `manage.py seed_demo --enterprises N`.
2. In a Django worker process: figures written with COPY — for every enterprise revenue, tax, R&D and employees
   for the last three complete years (log-normal, 80 % reviewed), honours for 15 % (the 30 most common codes of
   the vocabulary), the declaration 近一年无重大违法行为 for 40 %; then one published policy with 500 support items
   whose rules are drawn from templates (revenue/tax/employee thresholds in any unit, R&D share, honours with
   levels, region, industry section, size, named thresholds, declarations, three-year windows; 2–4 groups, some
   of them OR groups), each rule parsed and validated by the engine.
3. Measured, each step timed on its own (the machine is shared: the baseline of each run is in the same table):
   - baseline: reading the snapshots of every enterprise (the three queries, no evaluation);
   - all 500 items for every enterprise (`decisions.recompute_items`, push off): decisions per second;
   - publishing one more policy with 5 items (`decisions.recompute_policy`, pushes on): target < 60 s;
   - one enterprise's revenue changed (`facts.set_fact` then `decisions.recompute_enterprise`, which answers the
     rules that read revenue, named thresholds included),
     20 enterprises: p50 / p95 / max, target < 1 s;
   - the check-up of one enterprise (`decisions.checkup`, every item live with reasons), 20 enterprises.

    .venv/bin/python bench/bench_policies.py                  # 100,000 enterprises × 500 items
    .venv/bin/python bench/bench_policies.py --quick          # 20,000 enterprises × 200 items

Writes bench/results/<date>-policies.md and .json (-policies-quick for --quick).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
RESULTS = ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = os.environ.get("BENCH_POLICIES_PG_DB", "qiaoliang_bench_policies")
STEP_TIMEOUT = 1800
SEED = 2026


def log(message: str) -> None:
    print(f"[bench-policies {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def database_url(name: str) -> str:
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def django_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="qiaoliang.settings", QIAOLIANG_ENV="development", DEBUG="0",
               DATABASE_CONN_MAX_AGE="60", LOG_LEVEL="WARNING",
               TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))  # fmt: skip
    return env


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')


def run_step(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - started


# --- the worker (inside Django) ---------------------------------------------------------------------------------

HONOUR_CODES = ["hnte.national", "tsme.national", "tsme.provincial", "etc.provincial", "etc.municipal",
                "etc.national", "little_giant.national", "srdi.provincial", "ipde.national", "listed"]  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def write_facts(rng: random.Random, year: int) -> dict[str, int]:
    from django.db import connection

    from qiaoliang.orgs.models import Enterprise
    from qiaoliang.policies import honours

    codes = [c for c in HONOUR_CODES if honours.honour_by_code(c) is not None]
    codes += [h.code for h in honours.honour_vocabulary()[:30] if h.code not in codes][: 30 - len(codes)]
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    facts, honour_rows = io.StringIO(), io.StringIO()
    counts = {"enterprises": len(ids), "facts": 0, "honours": 0}
    now = datetime.datetime.now(datetime.UTC).isoformat()
    for pk in ids:
        scale = rng.lognormvariate(16.5, 1.4)  # yuan of revenue, median ~15 million
        for offset in range(3):
            revenue = round(scale * rng.uniform(0.8, 1.25), 2)
            for field, value in (("revenue", revenue), ("tax", round(revenue * rng.uniform(0.01, 0.08), 2)),
                                 ("rd_expense", round(revenue * rng.uniform(0.0, 0.09), 2)),
                                 ("employees", float(max(1, int(revenue / rng.uniform(2e5, 8e5)))))):  # fmt: skip
                status = "reviewed" if rng.random() < 0.8 else "submitted"
                facts.write(f"{pk}\t{field}\t\t{year - offset}\t{value}\t\t{status}\tstaff\t\t\t\t{now}\n")
                counts["facts"] += 1
        if rng.random() < 0.4:
            facts.write(f"{pk}\tdeclaration\t近一年无重大违法行为\t0\t1\t\treviewed\tenterprise\t\t\t\t{now}\n")
            counts["facts"] += 1
        if rng.random() < 0.15:
            for code in rng.sample(codes, rng.randint(1, 3)):
                honour_rows.write(f"{pk}\t{code}\t\t\t\t\\N\t\\N\t\treviewed\tstaff\t\\N\t\t{now}\n")
                counts["honours"] += 1
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY policies_enterprisefact (enterprise_id, field, key, year, value, entered_text, status, origin, "
            "evidence, review_note, reviewed_at, updated_at) FROM STDIN"
        ) as copy:
            copy.write(facts.getvalue().replace("\t\t\t\t" + now, "\t\t\t\\N\t" + now))
        with cursor.copy(
            "COPY policies_enterprisehonour (enterprise_id, code, name, issuer, certificate_number, awarded_on, "
            "valid_until, certificate, status, origin, reviewed_at, review_note, updated_at) FROM STDIN"
        ) as copy:
            copy.write(honour_rows.getvalue())
        cursor.execute("ANALYZE policies_enterprisefact; ANALYZE policies_enterprisehonour")
    return counts


def random_rule(rng: random.Random, regions: list[str], sections: list[str], honour_codes: list[str]) -> dict[str, Any]:
    money = ["万元", "亿元", "元"]

    def amount(low: float, high: float) -> str:
        value = rng.uniform(low, high)
        unit = rng.choice(money)
        scaled = value / {"万元": 1e4, "亿元": 1e8, "元": 1.0}[unit]
        return f"{scaled:.2f}{unit}"

    templates = [
        lambda: [{"field": "revenue", "op": rng.choice(["gte", "gt"]), "text": amount(5e6, 2e8)}],
        lambda: [{"field": "tax", "op": "gte", "text": amount(2e5, 5e6)}],
        lambda: [{"field": "rd_ratio", "op": "gte", "text": f"{rng.choice([2, 3, 4, 5])}%"}],
        lambda: [{"field": "employees", "op": rng.choice(["gte", "lt"]),
                  "text": f"{rng.choice([10, 20, 50, 100, 300])}人"}],
        lambda: [{"field": "honour", "op": "has", "value": rng.choice(honour_codes)},
                 {"field": "honour", "op": "has", "value": rng.choice(honour_codes)}],
        lambda: [{"field": "region", "op": "in", "value": [rng.choice(regions)]}],
        lambda: [{"field": "industry", "op": "in", "value": rng.sample(sections, 2)}],
        lambda: [{"field": "size", "op": "in", "value": rng.choice([["small", "micro"], ["medium", "small"]])}],
        lambda: [{"field": "threshold", "op": "eq",
                  "value": rng.choice(["above_scale_industry", "above_quota_trade"])}],
        lambda: [{"field": "declaration", "op": "eq", "value": "近一年无重大违法行为"}],
        lambda: [{"field": "revenue", "op": "gte", "text": amount(1e6, 5e7), "window": {"years": 3, "mode": "each"}}],
    ]  # fmt: skip
    chosen = rng.sample(templates, rng.randint(2, 4))
    return {"all": [make() for make in chosen]}


def create_policy(rng: random.Random, items: int, title: str) -> Any:
    from django.utils import timezone

    from qiaoliang.orgs.models import Enterprise, Organization
    from qiaoliang.policies import honour_rules, honours
    from qiaoliang.policies.models import Policy, Rule, SupportItem
    from qiaoliang.policies.services.decisions import parse_rule, threshold_book

    federation = Organization.objects.filter(kind="federation").order_by("path").first()
    assert federation is not None, "seed_demo makes a federation"
    regions = sorted({r[:4] for r in Enterprise.objects.exclude(region_id=None).values_list("region_id", flat=True)
                      .distinct()[:500]})  # fmt: skip
    sections = list("ABCDEFGHIJKLMNOPQRS")
    codes = [c for c in [h.code for h in honours.honour_vocabulary()[:40]] + HONOUR_CODES if honour_rules.known(c)]
    policy = Policy.objects.create(organization=federation, title=title, status=Policy.Status.PUBLISHED,
                                   published_at=timezone.now(), level="municipal")  # fmt: skip
    book = threshold_book()
    for position in range(items):
        item = SupportItem.objects.create(policy=policy, name=f"{title} 事项{position + 1}", benefit="补助",
                                          position=position)  # fmt: skip
        rule = Rule.objects.create(item=item, version=1, expression=random_rule(rng, regions, sections, codes),
                                   status=Rule.Status.ACTIVE)  # fmt: skip
        parse_rule(rule, book)  # every generated rule is valid for the engine
    return policy


def worker_main(payload: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from qiaoliang.accounts.models import User
    from qiaoliang.orgs.models import Enterprise
    from qiaoliang.policies.models import Eligibility, Rule, SupportItem
    from qiaoliang.policies.services import decisions
    from qiaoliang.policies.services import facts as fact_service

    rng = random.Random(SEED)
    year = timezone.localdate().year - 1
    out: dict[str, Any] = {"steps": []}

    def step(name: str, seconds: float, **extra: Any) -> None:
        out["steps"].append({"step": name, "seconds": round(seconds, 3), **extra})
        log(f"{name}: {seconds:.2f} s {extra}")

    with connection.cursor() as cursor:  # a run on a reused database starts from no policy data
        cursor.execute("TRUNCATE policies_eligibility, policies_push, policies_autograntcase, policies_enterprisefact, "
                       "policies_enterprisehonour, policies_policy CASCADE")  # fmt: skip
    started = time.perf_counter()
    counts = write_facts(rng, year)
    step("write figures and honours (COPY)", time.perf_counter() - started, **counts)
    started = time.perf_counter()
    create_policy(rng, payload["items"], "基准政策")
    step(f"create {payload['items']} items with rules", time.perf_counter() - started)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    item_ids = list(SupportItem.objects.values_list("pk", flat=True))
    size = decisions.batch_size(len(item_ids))  # the batches the run below reads, so the ratio compares like
    started = time.perf_counter()
    for start in range(0, len(ids), size):
        decisions.snapshots(ids[start : start + size])
    baseline = time.perf_counter() - started
    step("baseline: read every enterprise's snapshot", baseline, enterprises=len(ids), batch=size)
    started = time.perf_counter()
    totals = decisions.recompute_items(item_ids, push=False)
    full = time.perf_counter() - started
    pairs = len(ids) * len(item_ids)
    step("all items × all enterprises", full, decisions=pairs, per_second=round(pairs / full), **totals,
         stored=Eligibility.objects.count(), ratio_to_baseline=round(full / baseline, 1))  # fmt: skip
    policy = create_policy(rng, 5, "新发布政策")
    started = time.perf_counter()
    totals = decisions.recompute_policy(policy.pk)
    published = time.perf_counter() - started
    step("publish one policy with 5 items (pushes on)", published, target_s=60, met=published < 60, **totals)
    rules = Rule.objects.filter(status="active").count()
    staff = User.objects.get(username="staff")
    sample = rng.sample(ids, 20)
    times = []
    for pk in sample:
        enterprise = Enterprise.objects.get(pk=pk)
        started = time.perf_counter()
        # set_fact queues recompute_enterprise on commit; the immediate task backend runs it before returning
        value = f"{rng.randint(500, 90000)}万元"
        fact_service.set_fact(actor=staff, enterprise=enterprise, field="revenue", value=value, year=year)
        times.append(time.perf_counter() - started)
    book = decisions.threshold_book()
    reading = sum(1 for r in decisions.rules_in_force(datetime.date.today())
                  if "revenue" in decisions.fields_read(decisions.parse_rule(r, book), book))  # fmt: skip
    step("one enterprise's figure changed (20 enterprises)", max(times), rules=rules, rules_reading_revenue=reading,
         p50=round(_pct(times, 0.5), 3), p95=round(_pct(times, 0.95), 3), target_s=1, met=max(times) < 1)  # fmt: skip
    times = []
    for pk in sample:  # the same enterprises answered on every rule: what the field filter saves
        started = time.perf_counter()
        decisions.recompute_enterprise(pk)
        times.append(time.perf_counter() - started)
    step("baseline: the same enterprises, every rule answered again", max(times), rules=rules,
         p50=round(_pct(times, 0.5), 3), p95=round(_pct(times, 0.95), 3))  # fmt: skip
    idle_p50 = _pct(times, 0.5)
    times = []
    for pk in sample:
        enterprise = Enterprise.objects.get(pk=pk)
        started = time.perf_counter()
        decisions.checkup(enterprise)
        times.append(time.perf_counter() - started)
    step("check-up of one enterprise (20 enterprises)", max(times), rules=rules, p50=round(_pct(times, 0.5), 3),
         p95=round(_pct(times, 0.95), 3))  # fmt: skip
    # An enterprise's recomputation waits while an item's run holds its items' locks for a batch: how long, on a
    # second connection, while a policy of 5 items is published on this one's thread.
    import threading

    from django.core.paginator import Paginator
    from django.db import connections

    from qiaoliang.policies import selectors

    busy = create_policy(rng, 5, "并发发布政策")
    done = threading.Event()

    def publish() -> None:
        try:
            decisions.recompute_policy(busy.pk)
        finally:
            connections.close_all()
            done.set()

    times = []
    started = time.perf_counter()
    runner = threading.Thread(target=publish)
    runner.start()
    while not done.is_set():
        pk = rng.choice(ids)
        began = time.perf_counter()
        decisions.recompute_enterprise(pk)
        times.append(time.perf_counter() - began)
    runner.join()
    during = time.perf_counter() - started
    step("one enterprise answered again during a publish (5 items)", max(times), publish_s=round(during, 1),
         recomputations=len(times), p50=round(_pct(times, 0.5), 3), p95=round(_pct(times, 0.95), 3),
         ratio_p50_to_idle=round(_pct(times, 0.5) / idle_p50, 1))  # fmt: skip
    # The eligible list of the item with the most eligible enterprises, as staff page through it.
    top = SupportItem.objects.order_by("-eligible_count").first()
    for number in (1, 100):
        started = time.perf_counter()
        page = Paginator(selectors.eligible_list(staff, top), 50).get_page(number)
        rows = len(list(page.object_list))
        step(f"eligible list of the largest item, page {number} (50 rows)", time.perf_counter() - started,
             eligible=top.eligible_count, rows=rows)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('policies_eligibility'))")
        out["eligibility_table"] = cursor.fetchone()[0]
    out["median_step"] = statistics.median(s["seconds"] for s in out["steps"])
    return out


# --- the driver -------------------------------------------------------------------------------------------------


def render(run: dict[str, Any]) -> str:
    meta = run["meta"]
    lines = [f"# Policy eligibility benchmark ({meta['date']})", "",
             f"{run['args']['enterprises']:,} enterprises × {run['args']['items']} support items on PostgreSQL; "
             f"{meta['cpus']} CPUs, load {meta['load_start']} at the start; Python {meta['python']}; commit "
             f"{meta['commit']}.", "", "| step | seconds | figures |", "| --- | ---: | --- |"]  # fmt: skip
    for row in run["setup"] + run["result"]["steps"]:
        extra = ", ".join(f"{k} {v}" for k, v in row.items() if k not in ("step", "seconds"))
        lines.append(f"| {row['step']} | {row['seconds']:.2f} | {extra} |")
    lines += ["", f"Eligibility table: {run['result'].get('eligibility_table', '?')}.", "",
              "Reproduce: `" + run["command"] + "`", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        print(json.dumps(worker_main(json.loads(argv[1])), ensure_ascii=False))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="20,000 enterprises × 200 items")
    parser.add_argument("--reuse-db", action="store_true", help="keep the database of the last run (its demo data)")
    args = parser.parse_args(argv)
    args.enterprises = args.enterprises or (20_000 if args.quick else 100_000)
    args.items = args.items or (200 if args.quick else 500)
    started = datetime.datetime.now()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()  # fmt: skip
    run: dict[str, Any] = {
        "meta": {"date": started.date().isoformat(), "cpus": os.cpu_count(), "python": platform.python_version(),
                 "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()), "commit": commit},
        "args": vars(args), "setup": [],
        "command": " ".join([".venv/bin/python bench/bench_policies.py", *argv]).strip(),
    }  # fmt: skip
    url = database_url(PG_DB)
    env = django_env(url)
    setup_steps = (
        []
        if args.reuse_db
        else [
            ("migrate", [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"]),
            ("seed_demo", [PYTHON, "manage.py", "seed_demo", "--enterprises", str(args.enterprises)]),
        ]
    )
    if not args.reuse_db:
        log(f"recreating {PG_DB}")
        recreate_database()
    for name, command in setup_steps:
        seconds = run_step(command, env)
        run["setup"].append({"step": name, "seconds": round(seconds, 2)})
        log(f"{name}: {seconds:.1f} s")
    done = subprocess.run(
        [PYTHON, str(Path(__file__)), "worker", json.dumps({"items": args.items})],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"worker failed ({done.returncode})")
    run["result"] = json.loads(done.stdout.strip().splitlines()[-1])
    suffix = "-quick" if args.quick else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    base = RESULTS / f"{run['meta']['date']}-policies{suffix}"
    base.with_suffix(".json").write_text(json.dumps(run, ensure_ascii=False, indent=1), encoding="utf-8")
    text = render(run)
    base.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
