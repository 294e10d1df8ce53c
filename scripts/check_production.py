"""Prove the production profile serves pages: build the static files with production settings, start gunicorn, fetch
the login page and one of its hashed static files.

    .venv/bin/python scripts/check_production.py --database-url postgres://postgres@127.0.0.1:5432/qiaoliang_prod_check

The database is migrated (so use a throwaway one); REDIS_URL defaults to redis://127.0.0.1:6379/14. The
production profile refuses in-process tasks and a per-process cache, so TASKS_BACKEND is the database queue.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    options = parser.parse_args()
    static_root = ROOT / "var" / "prod-check-static"
    shutil.rmtree(static_root, ignore_errors=True)
    env = {
        **os.environ,
        "QIAOLIANG_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": options.database_url,
        "REDIS_URL": options.redis_url,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(ROOT / "var" / "prod-check-media"),
    }
    env.pop("DEBUG", None)
    for command in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([PYTHON, str(ROOT / "manage.py"), *command], env=env, cwd=ROOT, check=True)  # noqa: S603
    print(f"collectstatic: {sum(1 for _ in static_root.rglob('*') if _.is_file())} files in {static_root}")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own server on loopback)
        [str(BIN / "gunicorn"), "qiaoliang.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}"], env=env, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 60
        status, body = 0, ""
        while time.monotonic() < deadline:
            try:
                status, body = fetch(f"http://127.0.0.1:{port}/accounts/login/")
                break
            except OSError:
                time.sleep(0.5)
        print(f"GET /accounts/login/ under gunicorn: {status}")
        if status != 200:
            print(body[:2000])
            return 1
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', body)
        hashed = [asset for asset in assets if re.search(r"\.[0-9a-f]{12}\.(?:css|js)$", asset)]
        if not hashed:
            print("the page links no hashed static file: the manifest storage is not in use")
            return 1
        for asset in hashed:
            asset_status, _body = fetch(f"http://127.0.0.1:{port}{asset}")
            print(f"GET {asset}: {asset_status}")
            if asset_status != 200:
                return 1
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("production profile: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
