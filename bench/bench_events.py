"""Benchmark a registration burst: 10,000 people registering at once for 5,000 seats.

For each database: a fresh database (PostgreSQL `qiaoliang_events_bench`, or a SQLite file under var/bench/),
`migrate`, a minimal federation with a staff account and an API token, one public event per way in, then the
server (gunicorn on PostgreSQL; `manage.py runserver`, what `make demo` runs, on the embedded SQLite default) and a
burst of registrations from many concurrent client threads (http.client, 127.0.0.1 only), through

* `form`: the public registration page, as people register from a phone (a GET for the CSRF cookie and token,
  then POSTs of name, mobile, company and position; the event does not text codes, see below), and
* `api`: `POST /api/v1/events/{id}/registrations/` with a staff token, each registration with its own
  Idempotency-Key (or none with --no-idempotency-key: a retry is still safe, the mobile finds its registration).

gunicorn runs as in production: tasks in the database queue and the cache in Redis (`--cache local` for each
process's memory). A request that fails on the connection is retried (the same key; the same mobile). Then the
database is checked: confirmed == seats, waiting == the rest, no mobile registered twice, every accepted answer
has its registration (with the status it announced, for the API), every seat held once, no registration without
an answer.

    .venv/bin/python bench/bench_events.py           # 10,000 for 5,000 seats (PostgreSQL), 2,000 for 500 (SQLite)
    .venv/bin/python bench/bench_events.py --quick   # 2,000 for 1,000 seats (PostgreSQL), 600 for 150 (SQLite)
    .venv/bin/python bench/bench_events.py --databases postgresql --via api --workers 3 --threads 4

The public form's mobile check (a texted code) is off for the burst's event: a code per registration would
measure the SMS stub, not registering. Writes bench/results/<date>-events.md and .json (<date>-events-quick.* for
--quick). Every loop has a count and a time limit; servers are stopped in `finally`.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import multiprocessing
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = str(VENV_BIN / "gunicorn")
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "qiaoliang_events_bench"
STEP_TIMEOUT = 900
BURST_TIME_LIMIT = 600.0
REQUEST_TIMEOUT = 60.0
MAX_ATTEMPTS = 5
TARGET_RPS = 300.0
VIA_LABELS = {"form": "public form", "api": "API (staff token)"}


@dataclass
class BurstResult:
    """What one burst measured and what the database held afterwards."""

    database: str
    via: str
    server: str
    registrations: int
    seats: int
    concurrency: int
    skipped: str = ""
    seconds: float | None = None
    accepted: int = 0
    accepted_per_second: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    errors_5xx: int = 0
    answered_confirmed: int = 0
    answered_waiting: int = 0
    check: dict[str, Any] = field(default_factory=dict)
    correct: bool = False
    notes: list[str] = field(default_factory=list)


def log(message: str) -> None:
    print(f"[bench-events {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def django_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        QIAOLIANG_ENV="development",
        DEBUG="0",
        ALLOWED_HOSTS=f"{HOST},testserver",
        LOG_LEVEL="WARNING",
        SMS_BACKEND="console",
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


def worker(mode: str, database_url: str, *extra: str) -> Any:
    """Run this script as a Django worker in a fresh process; return the JSON it prints last."""
    _seconds, out, err, code = run_step([PYTHON, str(Path(__file__)), "worker", mode, *extra], django_env(database_url))
    if code != 0:
        raise RuntimeError(f"worker {mode} failed ({code}): {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def fresh_redis(url: str) -> str:
    """Empty the benchmark's Redis database (nothing left from an earlier run); refuse clearly when Redis is down."""
    import redis  # the cache backend's client, installed with the project

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        raise SystemExit(f"Redis is not reachable at {url} ({error}); start it or pass --cache local") from None
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))]


# --- databases ------------------------------------------------------------------------------------------------


def prepare_postgresql() -> tuple[str, str]:
    try:
        import psycopg
    except ImportError:
        return "", "psycopg is not installed"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_DB}"')
    except Exception as exc:  # any connection or permission problem means: skip PostgreSQL
        return "", f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc}"
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{PG_DB}")), ""


def prepare_sqlite() -> str:
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / "events.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


# --- servers --------------------------------------------------------------------------------------------------


class Server:
    """gunicorn (PostgreSQL) or `manage.py runserver` (the embedded default) on a free port."""

    def __init__(self, kind: str, database_url: str, args: argparse.Namespace) -> None:
        self.kind = kind
        self.port = free_port()
        self.database_url = database_url
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = VAR / f"events-{kind}-{self.port}.log"

    @property
    def label(self) -> str:
        if self.kind == "runserver":
            return "manage.py runserver (threaded, as make demo)"
        threads = f" --threads {self.args.threads}" if self.args.worker_class == "gthread" else ""
        tasks = ", tasks in the database queue" if self.args.tasks == "db" else ", tasks in-process"
        cache = ", cache in Redis" if self.args.cache == "redis" else ", cache in each process's memory"
        return f"gunicorn -w {self.args.workers} --worker-class {self.args.worker_class}{threads}{tasks}{cache}"

    def start(self, timeout: float = 90.0) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        env = django_env(self.database_url)
        if self.kind == "runserver":
            args = [PYTHON, "manage.py", "runserver", f"{HOST}:{self.port}", "--noreload"]
        else:
            env["DATABASE_CONN_MAX_AGE"] = "60"
            if self.args.tasks == "db":  # production: tasks go to the database queue, a worker sends the tickets
                env["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
            if self.args.cache == "redis":  # production: the shared cache (scopes, the ticket sweep's debounce key)
                env["REDIS_URL"] = fresh_redis(self.args.redis_url)
            else:
                env.pop("REDIS_URL", None)
            args = [GUNICORN, "qiaoliang.wsgi", "-w", str(self.args.workers), "-b", f"{HOST}:{self.port}",
                    "--worker-class", self.args.worker_class, "--backlog", "2048", "--timeout", "120",
                    "--error-logfile", str(self.log_path)]  # fmt: skip
            if self.args.worker_class == "gthread":
                args += ["--threads", str(self.args.threads)]
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/bench/bare/")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.kind} did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# --- the burst ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where and how a burst registers."""

    port: int
    via: str
    event_id: int
    token: str
    first_mobile: int
    keys: bool

    @property
    def path(self) -> str:
        if self.via == "form":
            return f"/events/{self.event_id}/register/"
        return f"/api/v1/events/{self.event_id}/registrations/"


def _form_token(conn: http.client.HTTPConnection, path: str) -> tuple[str, str]:
    """GET the registration page once per connection: the CSRF cookie and the form's token (as a browser does)."""
    conn.request("GET", path)
    response = conn.getresponse()
    page = response.read()
    if response.will_close:
        conn.close()
    cookies = [h.split(";", 1)[0] for h in response.msg.get_all("Set-Cookie") or []]
    cookie = next((c for c in cookies if c.startswith("csrftoken=")), "")
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return cookie, found.group(1).decode() if found else ""


def _send(conn: http.client.HTTPConnection, target: Target, n: int, csrf: tuple[str, str]) -> dict[str, Any]:
    """Register person n (retrying after connection errors); return what the server answered."""
    person = {"name": f"参会者{n:05d}", "mobile": f"{target.first_mobile + n}",
              "company": f"北京第{n % 700}科技有限公司", "position": "经理"}  # fmt: skip
    if target.via == "form":
        body = urllib.parse.urlencode({"as": "public", "csrfmiddlewaretoken": csrf[1], **person}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf[0]}
    else:
        body = json.dumps(person, ensure_ascii=False).encode()
        headers = {"Authorization": f"Token {target.token}", "Content-Type": "application/json",
                   "Accept-Language": "zh-hans"}  # fmt: skip
        if target.keys:
            headers["Idempotency-Key"] = uuid.uuid4().hex
    record: dict[str, Any] = {"n": n, "mobile": person["mobile"], "attempts": 0}
    started = time.perf_counter()
    for _attempt in range(MAX_ATTEMPTS):
        record["attempts"] += 1
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.will_close:  # the server ends the connection: the next request opens a new one
                conn.close()
            record["status"] = response.status
            location = response.getheader("Location") or ""
            if target.via == "form" and response.status == 302 and "/events/tickets/" in location:
                record["ticket"] = location.split("/events/tickets/", 1)[1].split("/", 1)[0]
                record["created"] = "registered=1" in location
            elif target.via == "api" and response.status < 500:
                try:
                    parsed = json.loads(data)
                    record["id"], record["answer"] = parsed.get("id"), parsed.get("status")
                    record["ticket"] = parsed.get("ticket")
                    record["created"] = response.status == 201
                except ValueError:
                    pass
            if response.status != 409:  # 409: the same key is still running (a retry overtook the first try)
                break
        except (OSError, http.client.HTTPException) as exc:
            record["status"] = type(exc).__name__
            conn.close()
        time.sleep(0.2)
    record["ms"] = (time.perf_counter() - started) * 1000
    return record


def _burst_slice(target: Target, numbers: range, concurrency: int, gate: Any, results: Any) -> None:
    """One client process: `concurrency` threads register the people numbered `numbers`; report to `results`."""
    lock = threading.Lock()
    pending = list(numbers)
    answers: list[dict[str, Any]] = []
    deadline = time.monotonic() + BURST_TIME_LIMIT
    times: dict[str, float] = {}

    def released() -> None:
        if gate is not None:
            gate.wait(timeout=180)  # every client process starts together
        times["start"] = time.time()

    start_gate = threading.Barrier(concurrency, action=released)

    def take() -> int | None:
        with lock:
            if not pending or time.monotonic() > deadline:
                return None
            return pending.pop(0)

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, target.port, timeout=REQUEST_TIMEOUT)
        csrf = _form_token(conn, target.path) if target.via == "form" else ("", "")
        start_gate.wait(timeout=240)
        try:
            while (n := take()) is not None:
                record = _send(conn, target, n, csrf)
                with lock:
                    answers.append(record)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BURST_TIME_LIMIT + 240)
    results.put({"start": times.get("start", time.time()), "end": time.time(), "answers": answers})


def burst(target: Target, *, count: int, concurrency: int, processes: int = 1) -> dict[str, Any]:
    """Register `count` distinct people from `processes` client processes with `concurrency` threads in all (64
    threads in one process would contend for its GIL); return what each got and the wall time of the burst."""
    processes = max(1, min(processes, concurrency))
    context = multiprocessing.get_context("fork")
    gate = context.Barrier(processes)
    results = context.Queue()
    share, extra = divmod(count, processes)
    threads_each, threads_extra = divmod(concurrency, processes)
    workers = []
    first = 0
    for index in range(processes):
        size = share + (1 if index < extra else 0)
        threads = threads_each + (1 if index < threads_extra else 0)
        workers.append(context.Process(target=_burst_slice, args=(target, range(first, first + size), threads, gate,
                                                                   results), daemon=True))  # fmt: skip
        first += size
    for worker_process in workers:
        worker_process.start()
    reports = [results.get(timeout=BURST_TIME_LIMIT + 400) for _ in workers]
    for worker_process in workers:
        worker_process.join(timeout=30)
    answers = [answer for report in reports for answer in report["answers"]]
    seconds = max(report["end"] for report in reports) - min(report["start"] for report in reports)
    return {"seconds": seconds, "answers": answers}


def summarize(result: BurstResult, outcome: dict[str, Any]) -> list[dict[str, Any]]:
    """Fill the result's figures from the answers; return the accepted ones."""
    answers = outcome["answers"]
    result.seconds = round(outcome["seconds"], 2)
    for answer in answers:
        result.statuses[str(answer.get("status"))] = result.statuses.get(str(answer.get("status")), 0) + 1
    result.retries = sum(answer["attempts"] - 1 for answer in answers)
    accepted = [answer for answer in answers if answer.get("ticket")]
    result.accepted = len(accepted)
    result.errors_5xx = sum(1 for a in answers if isinstance(a.get("status"), int) and a["status"] >= 500)
    result.answered_confirmed = sum(1 for answer in accepted if answer.get("answer") == "confirmed")
    result.answered_waiting = sum(1 for answer in accepted if answer.get("answer") == "waiting")
    latencies = [answer["ms"] for answer in accepted]
    if latencies:
        result.p50_ms = round(percentile(latencies, 0.50), 1)
        result.p95_ms = round(percentile(latencies, 0.95), 1)
        result.p99_ms = round(percentile(latencies, 0.99), 1)
        result.accepted_per_second = round(len(accepted) / outcome["seconds"], 1)
    return accepted


def run_database(kind: str, database: str, args: argparse.Namespace, registrations: int, seats: int,
                 vias: list[str]) -> list[BurstResult]:  # fmt: skip
    """Prepare one database, start its server, run a burst per way in; return a result per burst."""
    results = [BurstResult(database=database, via=via, server="", registrations=registrations, seats=seats,
                           concurrency=args.concurrency) for via in vias]  # fmt: skip
    if kind == "postgresql":
        url, reason = prepare_postgresql()
        if not url:
            for result in results:
                result.skipped = reason
            return results
    else:
        url = prepare_sqlite()
    env = django_env(url)
    log(f"{database}: migrate")
    _seconds, _out, err, code = run_step([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    if code != 0:
        for result in results:
            result.skipped = f"migrate failed: {err.strip()[-500:]}"
        return results
    setup = worker("seed", url, str(seats), ",".join(vias))
    server = Server("gunicorn" if kind == "postgresql" else "runserver", url, args)
    outcomes: dict[str, dict[str, Any]] = {}
    try:
        log(f"{database}: {server.label} on port {server.port}")
        server.start()
        for index, via in enumerate(vias):
            warm = Target(server.port, via, setup["warm"][via], setup["token"], 15_900_000_000 + index * 10_000_000,
                          not args.no_idempotency_key)  # fmt: skip
            burst(warm, count=min(300, max(50, registrations // 10)), concurrency=min(args.concurrency, 16),
                  processes=2)  # fmt: skip
            log(f"{database}: {via}: warmed up on another event; {registrations} for {seats} seats")
            target = Target(server.port, via, setup["events"][via], setup["token"],
                            13_000_000_000 + index * 100_000_000 + (0 if kind == "postgresql" else 50_000_000),
                            not args.no_idempotency_key)  # fmt: skip
            outcomes[via] = burst(target, count=registrations, concurrency=args.concurrency,
                                  processes=args.client_processes)  # fmt: skip
    finally:
        server.stop()
    for result in results:
        result.server = server.label
        if result.via not in outcomes:
            result.skipped = "not run"
            continue
        accepted = summarize(result, outcomes[result.via])
        answers_file = VAR / f"events-answers-{kind}-{result.via}.json"
        answers_file.write_text(json.dumps([{k: a.get(k) for k in ("mobile", "ticket", "answer")} for a in accepted]))
        result.check = worker("check", url, str(setup["events"][result.via]), str(answers_file), str(registrations),
                              str(seats))  # fmt: skip
        result.correct = bool(result.check.get("ok")) and result.errors_5xx == 0 and result.accepted == registrations
        log(f"{database}: {result.via}: {result.accepted} accepted in {result.seconds} s "
            f"({result.accepted_per_second}/s), p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, statuses "
            f"{result.statuses}, check {result.check}")  # fmt: skip
    return results


# --- the worker side (inside Django) ----------------------------------------------------------------------------------


def worker_main(mode: str, extra: list[str]) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from qiaoliang.accounts.models import Role, RoleAssignment, User
    from qiaoliang.events import services
    from qiaoliang.events.models import Registration, Seat
    from qiaoliang.orgs import services as org_services

    if mode == "seed":
        seats, vias = int(extra[0]), extra[1].split(",")
        federation = org_services.create_organization(actor=None, code="BENCH", name="基准测试工商联",
                                                      kind="federation")  # fmt: skip
        staff = User.objects.create_user(username="bench-staff", password=None)
        RoleAssignment.objects.create(user=staff, role=Role.FEDERATION_STAFF, organization=federation)
        token = Token.objects.create(user=staff)
        starts = (timezone.now() + datetime.timedelta(days=3)).replace(microsecond=0)

        def event(title: str, capacity: int) -> int:
            made = services.create_event(actor=staff, organization=federation, title=title, kind="lecture",
                                         mode="hybrid", audience="public", capacity=capacity, starts_at=starts,
                                         ends_at=starts + datetime.timedelta(hours=2), verify_mobile=False,
                                         publish=True)  # fmt: skip
            return made.pk

        events = {via: event(f"报名高峰测试讲座（{via}）", seats) for via in vias}
        warm = {via: event(f"预热（{via}）", 100) for via in vias}
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(json.dumps({"events": events, "warm": warm, "token": token.key}))
    elif mode == "check":
        event_id, answers_path, expected, seats = int(extra[0]), extra[1], int(extra[2]), int(extra[3])
        answers = json.loads(Path(answers_path).read_text())
        rows = {r.ticket: r for r in Registration.objects.filter(event_id=event_id).only("ticket", "mobile", "status")}
        confirmed = sum(1 for r in rows.values() if r.status == "confirmed")
        waiting = sum(1 for r in rows.values() if r.status == "waiting")
        duplicates = (Registration.objects.filter(event_id=event_id).values("mobile").annotate(n=Count("pk"))
                      .filter(n__gt=1).count())  # fmt: skip
        lost = [a for a in answers if a["ticket"] not in rows]
        mismatched = [
            a for a in answers
            if a["ticket"] in rows
            and (
                rows[a["ticket"]].mobile != a["mobile"]
                or (a.get("answer") and rows[a["ticket"]].status != a["answer"])
            )
        ]  # fmt: skip
        unanswered = len(rows) - len({a["ticket"] for a in answers})
        seats_taken = Seat.objects.filter(event_id=event_id, is_taken=True).count()
        seats_held = Registration.objects.filter(event_id=event_id).exclude(seat=None).values("seat").distinct().count()
        check = {
            "registrations": len(rows), "confirmed": confirmed, "waiting": waiting,
            "oversold": max(0, confirmed - seats), "lost": len(lost), "duplicate_mobiles": duplicates,
            "status_mismatch": len(mismatched), "registrations_without_answer": unanswered,
            "seats_taken": seats_taken, "seats_held": seats_held,
        }  # fmt: skip
        check["ok"] = (confirmed == min(seats, expected) and waiting == max(0, expected - seats) and not lost
                       and not duplicates and not mismatched and unanswered == 0 and seats_taken == confirmed
                       and seats_held == confirmed and len(rows) == expected)  # fmt: skip
        print(json.dumps(check))
    else:
        raise SystemExit(f"unknown worker mode {mode}")


# --- report ---------------------------------------------------------------------------------------------------------


def fmt(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def report(results: list[BurstResult], meta: dict[str, Any], args: argparse.Namespace) -> str:
    keys = "no Idempotency-Key" if args.no_idempotency_key else "its own Idempotency-Key"
    lines = [
        f"# Registration burst — {meta['date']}", "",
        "One public event per way in; each registration a distinct person (name, mobile, company, position), sent "
        f"by {args.concurrency} concurrent client threads in {args.client_processes} processes (http.client, "
        "keep-alive where the server offers it) on the same 2-CPU machine as the server and the database: through "
        "the **public form** (a GET per connection for the CSRF token, then POSTs; the burst's event texts no "
        f"codes) and through the **API** (`POST /api/v1/events/{{id}}/registrations/`, staff token, {keys}). "
        "Connection errors are retried. A warm-up on another event comes first; afterwards the database is checked.",
        "",
        f"Machine: {meta['cpus']} CPUs, load average at start {meta['load_start']}, at end {meta['load_end']} "
        f"(other work on the machine counts: compare runs on a quiet machine); Python {meta['python']}; commit "
        f"`{meta['commit']}`{' (quick run)' if args.quick else ''}.", "",
        f"Target: ≥ {TARGET_RPS:.0f} accepted registrations per second on PostgreSQL; 0 oversold, 0 lost, "
        "0 duplicate, no 5xx on both databases.", "",
        "| database | via | server | registrations / seats | seconds | accepted | accepted/s | p50 ms | p95 ms "
        "| p99 ms | 5xx | retries | confirmed / waiting | oversold | lost | duplicate | correct |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | :---: |",
    ]  # fmt: skip
    for r in results:
        if r.skipped:
            lines.append(f"| {r.database} | {VIA_LABELS[r.via]} | skipped: {r.skipped} |" + " |" * 14)
            continue
        c = r.check
        target = ""
        if r.database == "PostgreSQL" and r.accepted_per_second is not None:
            target = " ✓" if r.accepted_per_second >= TARGET_RPS else " ✗"
        lines.append(
            f"| {r.database} | {VIA_LABELS[r.via]} | {r.server} | {r.registrations:,} / {r.seats:,} | "
            f"{fmt(r.seconds)} | {r.accepted:,} | {fmt(r.accepted_per_second)}{target} | {fmt(r.p50_ms)} | "
            f"{fmt(r.p95_ms)} | {fmt(r.p99_ms)} | {r.errors_5xx} | {r.retries} | {c.get('confirmed')} / "
            f"{c.get('waiting')} | {c.get('oversold')} | {c.get('lost')} | {c.get('duplicate_mobiles')} | "
            f"{'✓' if r.correct else '✗'} |"
        )
    lines += ["", "Statuses seen: " + "; ".join(f"{r.database} {r.via}: {r.statuses}" for r in results
                                                 if not r.skipped), ""]  # fmt: skip
    lines += ["Checks after each burst (from the database):", ""]
    for r in results:
        if not r.skipped:
            lines.append(f"- {r.database}, {VIA_LABELS[r.via]}: {json.dumps(r.check, ensure_ascii=False)}")
    lines += ["", "How it holds: every seat is a row; a registration claims the first free one with "
              "`UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)` (on PostgreSQL in one statement with the "
              "INSERT) and holds it through a unique foreign key, so concurrent registrations commit in parallel and "
              "the database refuses a second holder of a seat; one active registration per mobile is a partial "
              "unique index (qiaoliang/events/services/registration.py).", ""]  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "worker":
        worker_main(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=10_000)
    parser.add_argument("--seats", type=int, default=5_000)
    parser.add_argument("--sqlite-registrations", type=int, default=2_000)
    parser.add_argument("--sqlite-seats", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--client-processes", type=int, default=4, help="client processes sharing the threads (4)")
    parser.add_argument("--via", default="form,api", help="form, api or both (default form,api)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument(
        "--no-idempotency-key", action="store_true",
        help="API: no Idempotency-Key (a retry is still safe: the mobile finds its registration)",
    )  # fmt: skip
    parser.add_argument(
        "--tasks", default="db", choices=["db", "immediate"],
        help="gunicorn's task backend: the database queue (production, default) or in-process",
    )  # fmt: skip
    parser.add_argument(
        "--cache", default="redis", choices=["redis", "local"],
        help="gunicorn's cache: Redis as in production (default; BENCH_REDIS_URL, database 13, emptied first) or "
        "each process's memory",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="2,000 for 1,000 seats (PostgreSQL), 600 for 150 (SQLite)")
    args = parser.parse_args()
    args.redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    if args.quick:
        args.registrations, args.seats, args.sqlite_registrations, args.sqlite_seats = 2000, 1000, 600, 150
    vias = [via.strip() for via in args.via.split(",") if via.strip() in VIA_LABELS]
    meta = {
        "date": datetime.date.today().isoformat(), "cpus": os.cpu_count(), "python": platform.python_version(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                 check=False).stdout.strip() or "?",
    }  # fmt: skip
    results: list[BurstResult] = []
    for kind in [name.strip() for name in args.databases.split(",") if name.strip()]:
        if kind == "postgresql":
            results += run_database(kind, "PostgreSQL", args, args.registrations, args.seats, vias)
        elif kind == "sqlite":
            results += run_database(kind, "SQLite (embedded default)", args, args.sqlite_registrations,
                                    args.sqlite_seats, vias)  # fmt: skip
    meta["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(results, meta, args)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"{meta['date']}-events{'-quick' if args.quick else ''}"
    stem.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "args": vars(args),
                                                     "results": [asdict(r) for r in results]}, indent=2,
                                                    ensure_ascii=False) + "\n", encoding="utf-8")  # fmt: skip
    return 0 if all(r.correct or r.skipped for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
