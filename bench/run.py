"""Benchmark the member directory, the enterprise API and the roster import at scale.

For each database (SQLite file under var/bench/, PostgreSQL database `qiaoliang_bench`):
migrate, seed N enterprises with `manage.py seed_demo`, start gunicorn with bench.bench_settings
(the project's URLs plus /bench/bare/), drive it with a bounded load generator (threads +
http.client, 127.0.0.1 only), count queries per request in-process for page sizes 10 and 50,
then time `manage.py import_members` on a generated roster. Tables are printed as Markdown and
written to bench/results/<date>-roster.md with a JSON twin.

    .venv/bin/python bench/run.py [--enterprises 100000] [--quick] [--databases sqlite,postgresql]

Every loop has a count and a time limit; servers are stopped in `finally`. The script re-runs
itself as a worker (`bench/run.py worker ...`) for the in-process steps, because Django's
settings are fixed once per process and each database needs its own.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
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
PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "qiaoliang_bench")  # dropped and created: one name per bench user
DEMO_PASSWORD = "qiaoliang-demo-2026"  # noqa: S105 - qiaoliang.orgs.demo.DEMO_PASSWORD (not imported: no Django here)
IMPORT_ORG = "BJGSL"  # the demo federation's code
STEP_TIMEOUT = 900  # seconds for one migrate / seed / import step
ENDPOINT_TIME_LIMIT = 120.0  # seconds of load per endpoint at most

TARGET_P95_MS = 100.0
TARGET_IMPORT_SECONDS = 60.0


@dataclass
class Endpoint:
    """One URL to load: which persona's credentials it needs and what it shows."""

    key: str
    label: str
    path: str
    auth: str  # "none", "session" or "token"
    kind: str  # "bare", "directory" or "api"


KEJI = "%E7%A7%91%E6%8A%80"  # 科技: a two-character word in about a fifth of the seeded names
ENDPOINTS = [
    Endpoint("bare", "bare Django view", "/bench/bare/", "none", "bare"),
    Endpoint("directory", "directory /orgs/members/", "/orgs/members/", "session", "directory"),
    Endpoint("directory_q_name", "directory ?q=科技 (name)", f"/orgs/members/?q={KEJI}", "session", "directory"),
    Endpoint("directory_q_initials", "directory ?q=bjhs (initials)", "/orgs/members/?q=bjhs", "session", "directory"),
    Endpoint(
        "directory_q_trade", "directory ?q=hrhs (trade-name initials)", "/orgs/members/?q=hrhs", "session", "directory"
    ),
    Endpoint(
        "directory_filter",
        "directory ?industry=65&size=small",
        "/orgs/members/?industry=65&size=small",
        "session",
        "directory",
    ),
    Endpoint(
        "directory_q_region",
        "directory ?q=科技&region=110105",
        f"/orgs/members/?q={KEJI}&region=110105",
        "session",
        "directory",
    ),
    Endpoint("api", "API /api/v1/enterprises/", "/api/v1/enterprises/", "token", "api"),
    Endpoint("api_search_name", "API ?search=科技", f"/api/v1/enterprises/?search={KEJI}", "token", "api"),
    Endpoint("api_search_initials", "API ?search=bjhs", "/api/v1/enterprises/?search=bjhs", "token", "api"),
    Endpoint("api_search_trade", "API ?search=hrhs", "/api/v1/enterprises/?search=hrhs", "token", "api"),
    Endpoint(
        "api_filter", "API ?industry=65&size=small", "/api/v1/enterprises/?industry=65&size=small", "token", "api"
    ),
    Endpoint(
        "api_search_region",
        "API ?search=科技&region=110105",
        f"/api/v1/enterprises/?search={KEJI}&region=110105",
        "token",
        "api",
    ),
]
PERSONAS = ["staff", "secretary"]  # federation staff (sees everything), a chamber secretary (a scoped user)


@dataclass
class LoadResult:
    """Latency and throughput of one endpoint under load."""

    key: str
    label: str
    persona: str = ""
    requests: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p95_ms: float | None = None
    mean_ms: float | None = None
    rps: float | None = None
    ratio: float | None = None
    note: str = ""


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    database: str
    skipped: str = ""
    seed_seconds: float | None = None
    enterprises: int = 0
    load: list[LoadResult] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    import_result: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --- helpers ------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def django_env(database_url: str, settings: str = "qiaoliang.settings") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=settings,
        QIAOLIANG_ENV="development",
        DEBUG="0",
        ALLOWED_HOSTS=f"{HOST},testserver",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


def run_step(args: list[str], env: dict[str, str], timeout: float = STEP_TIMEOUT) -> tuple[float, str, str, int]:
    """Run one command to completion (or its time limit); return seconds, stdout, stderr, exit code."""
    started = time.perf_counter()
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return time.perf_counter() - started, str(exc.stdout or ""), f"timed out after {timeout:.0f} s", -1
    return time.perf_counter() - started, done.stdout, done.stderr, done.returncode


def manage(args: list[str], env: dict[str, str], timeout: float = STEP_TIMEOUT) -> tuple[float, str, str, int]:
    return run_step([PYTHON, "manage.py", *args], env, timeout)


def worker(mode: str, database_url: str, *extra: str, timeout: float = STEP_TIMEOUT) -> Any:
    """Run this script as a worker in a fresh process and return the JSON it prints last."""
    env = django_env(database_url, "bench.bench_settings")
    _seconds, out, err, code = run_step([PYTHON, str(Path(__file__)), "worker", mode, *extra], env, timeout)
    if code != 0:
        raise RuntimeError(f"worker {mode} failed ({code}): {err.strip()[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- databases -------------------------------------------------------------------------------------


def prepare_sqlite(reuse: bool = False) -> str:
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / os.environ.get("BENCH_SQLITE_NAME", "bench.sqlite3")
    if reuse and path.exists():
        return f"sqlite:///{path}"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def vacuum(database_url: str) -> str:
    """VACUUM ANALYZE the freshly seeded PostgreSQL database and say so.

    The seed only runs ANALYZE. Production runs autovacuum, which soon sets the visibility map after a bulk
    load so that index-only scans (the membership EXISTS of the directory) skip the table; a server with
    autovacuum off (or one that has not got to it yet) answers from the heap instead.
    """
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        setting = conn.execute("SHOW autovacuum").fetchone()
        conn.execute("VACUUM (ANALYZE)")
    autovacuum = setting[0] if setting else "?"
    return f"VACUUM (ANALYZE) after the seed, {time.perf_counter() - started:.1f} s (server autovacuum: {autovacuum})."


def prepare_postgresql(reuse: bool = False) -> tuple[str, str]:
    """Drop and create the bench database (kept as it is with `reuse`); return its URL, or "" and the reason it
    is unreachable."""
    try:
        import psycopg
    except ImportError:
        return "", "psycopg is not installed"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_BENCH_DB,)).fetchone()
            if not (reuse and exists):
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{PG_BENCH_DB}"')
    except Exception as exc:  # any connection or permission problem means: skip PostgreSQL
        return "", f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc}"
    parts = urllib.parse.urlsplit(PG_ADMIN_URL)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{PG_BENCH_DB}")), ""


# --- the HTTP side ----------------------------------------------------------------------------------


class Server:
    """A gunicorn process serving bench.bench_settings on one port."""

    def __init__(self, database_url: str, workers: int) -> None:
        self.port = free_port()
        self.database_url = database_url
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = VAR / f"gunicorn-{self.port}.log"

    def start(self, timeout: float = 60.0) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        env = django_env(self.database_url, "bench.bench_settings")
        env["DATABASE_CONN_MAX_AGE"] = "60"  # persistent connections, as in production (settings.py's default there)
        args = [GUNICORN, "qiaoliang.wsgi", "-w", str(self.workers), "-b", f"{HOST}:{self.port}",
                "--error-logfile", str(self.log_path), "--timeout", "60"]  # fmt: skip
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                status, _headers, _body = request("GET", self.port, "/bench/bare/", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def request(
    method: str,
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    timeout: float = 30,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, response.msg, data
    finally:
        if connection is None:
            conn.close()


def cookies_from(message: http.client.HTTPMessage) -> dict[str, str]:
    jar: dict[str, str] = {}
    for header in message.get_all("Set-Cookie") or []:
        name, _sep, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def log_in(port: int, username: str, password: str) -> dict[str, str]:
    """Log in through the login form (CSRF token from the page); return the session's cookie header."""
    status, message, body = request("GET", port, "/accounts/login/")
    if status != 200:
        raise RuntimeError(f"login page answered {status}")
    jar = cookies_from(message)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not match or "csrftoken" not in jar:
        raise RuntimeError("no CSRF token on the login page")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": match.group(1).decode()}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={jar['csrftoken']}",
        "Referer": f"http://{HOST}:{port}/accounts/login/",
    }
    status, message, _body = request("POST", port, "/accounts/login/", headers=headers, body=form)
    jar.update(cookies_from(message))
    if status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"login as {username} failed (status {status})")
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}


def load(
    port: int, endpoint: Endpoint, headers: dict[str, str], *, requests: int, warmup: int, concurrency: int,
    persona: str = "",
) -> LoadResult:  # fmt: skip
    """Send `warmup` then `requests` GETs with `concurrency` threads; bounded by count and time."""
    result = LoadResult(endpoint.key, endpoint.label, persona)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    counter = {"next": 0}
    deadline = time.monotonic() + ENDPOINT_TIME_LIMIT

    def take(limit: int) -> bool:
        with lock:
            if counter["next"] >= limit or time.monotonic() > deadline:
                return False
            counter["next"] += 1
            return True

    def run(limit: int, record: bool) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            while take(limit):
                started = time.perf_counter()
                try:
                    status, _message, _body = request("GET", port, endpoint.path, headers, connection=conn)
                    code = str(status)
                except (OSError, http.client.HTTPException) as exc:
                    code = type(exc).__name__
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=30)
                elapsed = time.perf_counter() - started
                if record:
                    with lock:
                        statuses[code] = statuses.get(code, 0) + 1
                        if code == "200":
                            latencies.append(elapsed)
        finally:
            conn.close()

    def phase(limit: int, record: bool) -> float:
        counter["next"] = 0
        threads = [threading.Thread(target=run, args=(limit, record), daemon=True) for _ in range(concurrency)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=ENDPOINT_TIME_LIMIT + 60)
        return time.perf_counter() - started

    phase(warmup, record=False)
    deadline = time.monotonic() + ENDPOINT_TIME_LIMIT
    wall = phase(requests, record=True)
    result.requests = sum(statuses.values())
    result.statuses = statuses
    result.errors = result.requests - statuses.get("200", 0)
    if latencies:
        result.p50_ms = round(percentile(latencies, 0.50) * 1000, 1)
        result.p95_ms = round(percentile(latencies, 0.95) * 1000, 1)
        result.mean_ms = round(statistics.fmean(latencies) * 1000, 1)
        result.rps = round(len(latencies) / wall, 1)
    if result.requests < requests:
        result.note = f"stopped at the {ENDPOINT_TIME_LIMIT:.0f} s limit"
    if result.errors:
        result.note = (result.note + "; " if result.note else "") + f"non-200: {statuses}"
    return result


# --- one database --------------------------------------------------------------------------------


def bench_database(name: str, database_url: str, args: argparse.Namespace, roster: Path | None) -> DatabaseRun:
    run = DatabaseRun(database=name, enterprises=args.enterprises)
    env = django_env(database_url)
    log(f"{name}: migrate")
    _seconds, _out, err, code = manage(["migrate", "--no-input", "-v", "0"], env)
    if code != 0:
        run.skipped = f"migrate failed: {err.strip()[-500:]}"
        return run
    existing = worker("enterprises", database_url) if args.reuse_db else 0
    if existing == args.enterprises and existing:
        run.notes.append("Database reused as an earlier run seeded it (--reuse-db): no seed time measured.")
    elif existing:
        run.skipped = f"the reused database holds {existing} enterprises, not {args.enterprises}: run without it"
        return run
    else:
        log(f"{name}: seed_demo --enterprises {args.enterprises}")
        seed = ["seed_demo", "--enterprises", str(args.enterprises), "--seed", "2026"]
        seconds, _out, err, code = manage(seed, env)
        if code != 0:
            run.skipped = f"seed_demo failed: {err.strip()[-500:]}"
            return run
        run.seed_seconds = round(seconds, 1)
        log(f"{name}: seeded in {seconds:.1f} s")
    if name == "postgresql":
        run.notes.append(vacuum(database_url))

    tokens: dict[str, str] = {}
    try:
        tokens = worker("token", database_url, ",".join(args.personas))
    except RuntimeError as exc:
        run.notes.append(f"no API token: {exc}")

    log(f"{name}: query counts")
    try:
        run.queries = worker("queries", database_url, json.dumps([asdict(e) for e in ENDPOINTS if e.kind != "bare"]))
    except RuntimeError as exc:
        run.notes.append(f"query counts failed: {exc}")

    server = Server(database_url, args.workers)
    try:
        log(f"{name}: gunicorn -w {args.workers} on port {server.port}")
        server.start()
        bare_rps: float | None = None
        for persona in args.personas:
            session: dict[str, str] | None = None
            try:
                session = log_in(server.port, persona, DEMO_PASSWORD)
            except RuntimeError as exc:
                run.notes.append(f"session login of {persona} failed: {exc}")
            token = tokens.get(persona, "")
            for endpoint in ENDPOINTS:
                if endpoint.kind == "bare" and bare_rps is not None:
                    continue  # measured once, first
                headers: dict[str, str] | None = {}
                if endpoint.auth == "session":
                    headers = session
                elif endpoint.auth == "token":
                    headers = {"Authorization": f"Token {token}"} if token else None
                shown = "" if endpoint.kind == "bare" else persona
                if headers is None:
                    run.load.append(LoadResult(endpoint.key, endpoint.label, shown, note="skipped: no credentials"))
                    continue
                log(f"{name}: load {endpoint.label} {shown}")
                result = load(
                    server.port,
                    endpoint,
                    {**headers, "Accept-Language": "zh-hans"},
                    requests=args.requests,
                    warmup=args.warmup,
                    concurrency=args.concurrency,
                    persona=shown,
                )
                if endpoint.kind == "bare":
                    bare_rps = result.rps
                if bare_rps and result.rps:
                    result.ratio = round(result.rps / bare_rps, 3)
                run.load.append(result)
                log(f"{name}:   p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, {result.rps} req/s {result.note}")
        # The bare view again at the end: how much the machine's load moved during the run.
        end = load(server.port, ENDPOINTS[0], {"Accept-Language": "zh-hans"}, requests=args.requests,
                   warmup=args.warmup, concurrency=args.concurrency)  # fmt: skip
        end.key, end.label = "bare_end", "bare Django view (again, at the end)"
        if bare_rps and end.rps:
            end.ratio = round(end.rps / bare_rps, 3)
        run.load.append(end)
    finally:
        server.stop()

    if roster is None:
        run.import_result = {"status": "not measured", "reason": "skipped (--skip-import)"}
    elif not (ROOT / "qiaoliang" / "orgs" / "management" / "commands" / "import_members.py").exists():
        run.import_result = {"status": "not measured", "reason": "manage.py import_members does not exist yet"}
    else:
        log(f"{name}: import_members {roster.name}")
        seconds, out, err, code = manage(["import_members", str(roster), "--org", IMPORT_ORG], env)
        rows = args.import_rows
        run.import_result = {
            "status": "ok" if code == 0 else f"failed (exit {code})",
            "rows": rows,
            "seconds": round(seconds, 1),
            "rows_per_second": round(rows / seconds) if code == 0 and seconds else None,
            "output": (out.strip() or err.strip())[-600:],
        }
        log(f"{name}: import {run.import_result['status']} in {seconds:.1f} s")
    return run


# --- report -------------------------------------------------------------------------------------------


def fmt(value: Any, suffix: str = "") -> str:
    return "—" if value is None else f"{value}{suffix}"


def report(runs: list[DatabaseRun], args: argparse.Namespace, meta: dict[str, Any]) -> str:
    lines = [
        f"# Roster benchmark — {meta['date']}",
        "",
        f"{args.enterprises:,} enterprises (`seed_demo --seed 2026`), gunicorn `-w {args.workers}` (sync), "
        f"`DATABASE_CONN_MAX_AGE=60`, {args.concurrency} concurrent clients, "
        f"{args.requests} requests per endpoint after {args.warmup} warm-up, "
        f"logged in as {' and as '.join(args.personas)} (session cookie for pages, token for the API); "
        "staff sees every enterprise, the secretary the members of one chamber.",
        "",
        f"Machine: {meta['cpus']} CPUs, load average at start {meta['load_start']}, at end {meta['load_end']}; "
        f"Python {meta['python']}; commit `{meta['commit']}`{' (quick run)' if args.quick else ''}.",
        "",
        f"Targets: directory p95 < {TARGET_P95_MS:.0f} ms; query count independent of page size; "
        f"{args.import_rows:,}-row import < {TARGET_IMPORT_SECONDS:.0f} s. The bare view, measured before and "
        "after, shows how loaded the shared machine was (its req/s) and what the framework costs alone.",
        "",
        "Latency is measured with as many clients as gunicorn workers"
        + (
            "."
            if args.concurrency == args.workers
            else f" by default; this run used {args.concurrency} clients for {args.workers} workers, so a request "
            "also waits for the ones ahead of it (queueing, not latency)."
        ),
        "",
    ]
    for run in runs:
        lines += [f"## {run.database}", ""]
        if run.skipped:
            lines += [f"Skipped: {run.skipped}", ""]
            continue
        lines += [f"Seed: {fmt(run.seed_seconds, ' s')} for {run.enterprises:,} enterprises.", ""]
        lines += [
            "| endpoint | persona | requests | errors | p50 ms | p95 ms | req/s | % of bare req/s | p95 target |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
        ]
        for r in run.load:
            is_page = not r.key.startswith("bare")
            p95_ok = "" if not is_page or r.p95_ms is None else ("✓" if r.p95_ms < TARGET_P95_MS else "✗")
            ratio = "100 %" if r.key == "bare" and r.rps else (f"{r.ratio:.1%}" if r.ratio is not None else "—")
            lines.append(
                f"| {r.label}{' — ' + r.note if r.note else ''} | {r.persona or '—'} | {r.requests} | {r.errors} | "
                f"{fmt(r.p50_ms)} | {fmt(r.p95_ms)} | {fmt(r.rps)} | {ratio} | {p95_ok} |"
            )
        lines.append("")
        if run.queries:
            lines += [
                "Queries per request (in-process, django.test.Client + CaptureQueriesContext):",
                "",
                "| endpoint | persona | page size 10 | page size 50 | rows on page (10 / 50) | independent |",
                "| --- | --- | ---: | ---: | ---: | :---: |",
            ]
            for q in run.queries:
                same = "✓" if q["queries_10"] == q["queries_50"] else "✗"
                lines.append(
                    f"| {q['label']} | {q['persona']} | {q['queries_10']} | {q['queries_50']} | "
                    f"{q['rows_10']} / {q['rows_50']} | {same} |"
                )
            lines.append("")
        imp = run.import_result
        if imp.get("status") == "not measured":
            lines += [f"Import: not measured — {imp.get('reason')}.", ""]
        elif imp:
            ok = "✓" if imp.get("status") == "ok" and imp["seconds"] < TARGET_IMPORT_SECONDS else "✗"
            lines += [
                "| import | rows | seconds | rows/s | result | < 60 s |",
                "| --- | ---: | ---: | ---: | --- | :---: |",
                f"| `import_members --org {IMPORT_ORG}` | {imp['rows']:,} | {imp['seconds']} | "
                f"{fmt(imp.get('rows_per_second'))} | {imp['status']} | {ok} |",
                "",
            ]
            if imp.get("output"):
                lines += ["```", imp["output"], "```", ""]
        for note in run.notes:
            lines += [f"- {note}"]
        if run.notes:
            lines.append("")
    return "\n".join(lines)


# --- workers (run inside Django, one process per database) -------------------------------------------


def worker_main(mode: str, extra: list[str]) -> None:
    import django

    django.setup()
    if mode == "token":
        from rest_framework.authtoken.models import Token

        from qiaoliang.accounts.models import User

        tokens = {}
        for username in (extra[0] if extra else "staff").split(","):
            token, _created = Token.objects.get_or_create(user=User.objects.get(username=username))
            tokens[username] = token.key
        print(json.dumps(tokens))
    elif mode == "queries":
        print(json.dumps(count_queries([Endpoint(**e) for e in json.loads(extra[0])])))
    elif mode == "enterprises":
        from qiaoliang.orgs.models import Enterprise

        print(json.dumps(Enterprise.objects.count()))
    elif mode == "roster":
        print(json.dumps(write_roster(Path(extra[0]), int(extra[1]))))
    else:
        raise SystemExit(f"unknown worker mode {mode}")


def count_queries(endpoints: list[Endpoint]) -> list[dict[str, Any]]:
    """Count the queries of each page/API request at page sizes 10 and 50, for two personas."""
    from django.core import paginator
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from qiaoliang.accounts.models import User

    original_init = paginator.Paginator.__init__
    forced: dict[str, int] = {}

    def init(self: Any, object_list: Any, per_page: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, object_list, forced.get("per_page", per_page), *args, **kwargs)

    paginator.Paginator.__init__ = init  # type: ignore[method-assign]  # any view's page size, without its code
    rows: list[dict[str, Any]] = []
    for persona in ("staff", "secretary"):
        user = User.objects.get(username=persona)
        token, _created = Token.objects.get_or_create(user=user)
        for endpoint in endpoints:
            client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            headers: dict[str, str] = {}
            if endpoint.auth == "session":
                client.force_login(user)
            else:
                headers["HTTP_AUTHORIZATION"] = f"Token {token.key}"
            row: dict[str, Any] = {"key": endpoint.key, "label": endpoint.label, "persona": persona}
            client.get(endpoint.path, **headers)  # warm caches (content types, translations)
            for size in (10, 50):
                forced["per_page"] = size
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(endpoint.path, **headers)
                row[f"queries_{size}"] = len(captured.captured_queries)
                row[f"status_{size}"] = response.status_code
                row[f"rows_{size}"] = page_rows(response)
            rows.append(row)
    paginator.Paginator.__init__ = original_init  # type: ignore[method-assign]
    return rows


def page_rows(response: Any) -> int | None:
    """Return how many enterprises a page or API response listed, where that can be told."""
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(response.content)
        results = data.get("results") if isinstance(data, dict) else data
        return len(results) if isinstance(results, list) else None
    return len(set(re.findall(rb'href="/orgs/members/(\d+)/"', response.content)))


def write_roster(path: Path, count: int) -> dict[str, Any]:
    """Write a roster workbook of `count` new enterprises with the template's exact headers."""
    import random

    from openpyxl import Workbook

    from qiaoliang.core.models import Industry
    from qiaoliang.orgs import demo

    rng = random.Random(4754)
    classes = list(Industry.objects.filter(level=4).values_list("code", flat=True))
    districts = [code for code, _name, _weight in demo.DISTRICTS]
    words = [w for section_words in demo.SECTION_WORDS.values() for w in section_words]
    sizes, ownerships = ["大", "中", "小", "微"], ["民营", "国有", "外资", "港澳台", "集体", "混合", "其他"]
    levels = ["会员单位"] * 12 + ["理事单位"] * 3 + ["副会长单位"]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("会员名册")
    sheet.append(["企业名称", "统一社会信用代码", "行业代码", "行政区划代码", "企业规模", "所有制", "联系人",
                  "联系人手机", "会员级别", "入会日期"])  # fmt: skip
    used: set[str] = set()
    for index in range(count):
        # New-style organisation codes start with "MA" (the demo's are all digits), so no USCC clashes.
        body = f"MA{index:06d}"
        check = _organization_check(body)
        region = rng.choice(districts)
        first17 = f"91{region}{body}{check}"
        uscc = first17 + demo.uscc_check_character(first17)
        while True:
            name = f"北京{''.join(rng.choice(demo.BRAND_CHARACTERS) for _ in range(3))}{rng.choice(words)}有限公司"
            if name not in used:
                used.add(name)
                break
        contact = rng.choice(demo.SURNAMES) + rng.choice(demo.GIVEN_CHARACTERS) + rng.choice(demo.GIVEN_CHARACTERS)
        joined = datetime.date(2025, 1, 1) + datetime.timedelta(days=index % 365)
        sheet.append([name, uscc, rng.choice(classes), region, rng.choice(sizes), rng.choice(ownerships), contact,
                      f"199{index:08d}", rng.choice(levels), joined.isoformat()])  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return {"path": str(path), "rows": count, "bytes": path.stat().st_size}


def _organization_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body (digits or capital letters)."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights, strict=True))
    remainder = 11 - total % 11
    return "0" if remainder == 11 else "X" if remainder == 10 else str(remainder)


# --- main ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="fewer requests and a 10,000-row import: a smoke run")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--requests", type=int, default=None, help="measured requests per endpoint (400)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up requests per endpoint (50)")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="client threads (default: as many as --workers, for latency)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--import-rows", type=int, default=None, help="rows in the generated roster (100000)")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument(
        "--reuse-db", action="store_true", help="keep the bench databases an earlier run seeded (same --enterprises)"
    )
    parser.add_argument("--personas", default=",".join(PERSONAS), help="comma-separated demo users to load as")
    args = parser.parse_args(argv)
    args.personas = [p.strip() for p in args.personas.split(",") if p.strip()]
    args.requests = args.requests or (100 if args.quick else 400)
    args.warmup = args.warmup if args.warmup is not None else (20 if args.quick else 50)
    args.import_rows = args.import_rows or (10_000 if args.quick else 100_000)
    args.concurrency = max(1, min(args.concurrency or args.workers, 32))
    return args


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def git_commit() -> str:
    """Return the short commit id (read-only) so results can be tied to the code they measured."""
    command = ["git", "rev-parse", "--short", "HEAD"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"]:
        worker_main(argv[1], argv[2:])
        return 0
    args = parse_args(argv)
    if args.reuse_db and not args.skip_import:
        print("--reuse-db needs --skip-import: the import adds enterprises to the database", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # so `finally` stops gunicorn on kill as well as on Ctrl-C
    if not Path(GUNICORN).exists() and not shutil.which("gunicorn"):
        print("gunicorn is not installed in .venv", file=sys.stderr)
        return 2
    started = datetime.datetime.now()
    meta = {
        "date": started.date().isoformat(),
        "started": started.isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "commit": git_commit(),
    }
    runs: list[DatabaseRun] = []
    roster: Path | None = None
    for name in [d.strip() for d in args.databases.split(",") if d.strip()]:
        if name == "sqlite":
            url, reason = prepare_sqlite(args.reuse_db), ""
        elif name == "postgresql":
            url, reason = prepare_postgresql(args.reuse_db)
        else:
            print(f"unknown database {name}", file=sys.stderr)
            return 2
        if not url:
            runs.append(DatabaseRun(database=name, skipped=reason))
            continue
        if roster is None and not args.skip_import:
            roster = VAR / f"roster-{args.import_rows}.xlsx"
            if not roster.exists():
                # The generator needs the code tables: migrate this database first, then write the file once.
                manage(["migrate", "--no-input", "-v", "0"], django_env(url))
                log(f"writing {roster.name}")
                worker("roster", url, str(roster), str(args.import_rows))
        runs.append(bench_database(name, url, args, roster))
    meta["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    markdown = report(runs, args, meta)
    print(markdown)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"{meta['date']}-roster{'-quick' if args.quick else ''}"
    (RESULTS / f"{stem}.md").write_text(markdown + "\n", encoding="utf-8")
    payload = {"meta": meta, "args": vars(args), "runs": [asdict(run) for run in runs]}
    (RESULTS / f"{stem}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log(f"written {RESULTS / stem}.md and .json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
