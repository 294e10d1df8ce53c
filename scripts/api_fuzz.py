"""Fuzz the REST API with schemathesis against a running server, as federation staff and as an enterprise contact.

    .venv/bin/python scripts/api_fuzz.py                # both tokens, a fresh SQLite database under var/fuzz/
    .venv/bin/python scripts/api_fuzz.py --max-examples 40 --enterprises 500

A fresh database is built (migrate, seed_demo, the demo resource sheet, the demo events), tokens are made for the
demo staff and enterprise-contact accounts, `gunicorn` serves the site on a free port, and schemathesis generates
requests from the OpenAPI schema (examples, coverage and fuzzing phases, bounded per operation). A run fails on any
5xx (`not_a_server_error`) or answer that does not match its schema (`response_schema_conformance`). CI runs it;
the summary is printed and written under var/fuzz/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
WORK = ROOT / "var" / "fuzz"
CHECKS = "not_a_server_error,response_schema_conformance"


# CPython 3.11 can fail inside the tool itself while hypothesis compiles code ("AST constructor recursion depth
# mismatch", reported as a Runtime Error of one operation): no answer of the API is involved. Such a run is
# repeated once; any other failure counts at once.
TOOL_FAULTS = ("AST constructor recursion depth mismatch",)


def run_schemathesis(command: list[str], persona: str, env: dict[str, str]) -> int:
    """Run schemathesis once (twice if the first run failed only in the tool); return 1 if it failed."""
    for attempt in (1, 2):
        print(f"\n=== schemathesis as {persona} (run {attempt}) ===", flush=True)
        result = subprocess.run(command, cwd=ROOT, env=env, check=False, capture_output=True, text=True)  # noqa: S603
        output = result.stdout + result.stderr
        print(output, flush=True)
        if result.returncode == 0:
            return 0
        tool_only = any(fault in output for fault in TOOL_FAULTS) and " FAILURES " not in output
        if not tool_only or attempt == 2:
            return 1
        print("the run failed inside schemathesis (no API answer involved): running it once more", flush=True)
    return 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(  # noqa: S603 (our own manage.py)
        [PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=True, capture_output=capture, text=True
    )
    return result.stdout if capture else ""


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer at {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25, help="test cases per operation and phase")
    parser.add_argument("--enterprises", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{WORK / 'fuzz.sqlite3'}",
        "QIAOLIANG_ENV": "development",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MATCHING_INDEX_DIR": str(WORK / "matching"),
        "MEDIA_ROOT": str(WORK / "media"),
        "SMS_BACKEND": "locmem",
        # As in production: background work is queued in the database, not run inside the request.
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed_demo", "--enterprises", str(options.enterprises), "-v", "0")
    manage(env, "import_listings", str(ROOT / "qiaoliang/exchange/data/demo_listings.xlsx"), "--no-index")
    manage(env, "seed_events", "-v", "0")  # events, registrations and meetings for the ids the fuzzer tries
    tokens = {
        persona: manage(env, "drf_create_token", username, capture=True).split()[2]
        for persona, username in (("staff", "staff"), ("enterprise", "enterprise"))
    }
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own server on loopback)
        [str(BIN / "gunicorn"), "qiaoliang.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "60"],
        env=env, cwd=ROOT, stdout=(WORK / "server.log").open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    failures = 0
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        commands = {}
        for persona, token in tokens.items():
            report = WORK / f"{persona}.junit.xml"
            commands[persona] = [
                str(BIN / "schemathesis"), "run", f"http://127.0.0.1:{port}/api/v1/schema/",
                "--header", f"Authorization: Token {token}", "--header", "Accept-Language: zh-hans",
                "--checks", CHECKS, "--max-examples", str(options.max_examples), "--seed", str(options.seed),
                "--phases", "examples,coverage,fuzzing", "--workers", "1", "--request-timeout", "30",
                "--generation-deterministic", "--report", "junit", "--report-junit-path", str(report),
                "--no-color", "--continue-on-failure",
            ]  # fmt: skip
        # Both personas at once: each schemathesis waits on the server most of the time, so two runs use the two
        # CPUs a single run leaves half idle (SQLite in WAL mode with immediate transactions serialises writes).
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            runs = [pool.submit(run_schemathesis, command, persona, env) for persona, command in commands.items()]
            failures = sum(run.result() for run in runs)
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = [line for line in (WORK / "server.log").read_text(encoding="utf-8").splitlines() if "Traceback" in line]
    print(f"\nserver tracebacks: {len(errors)}; runs failed: {failures}")
    return 1 if failures or errors else 0


if __name__ == "__main__":
    sys.exit(main())
