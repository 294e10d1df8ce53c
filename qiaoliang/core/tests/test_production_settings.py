"""Production refuses defaults that only work on one process, before it serves anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAFE = {
    "QIAOLIANG_ENV": "production",
    "SECRET_KEY": "test-" + "x" * 60,
    "ALLOWED_HOSTS": "qiaoliang.example.org",
    "DATABASE_URL": "sqlite:////tmp/qiaoliang-production-settings-test.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    "SMS_BACKEND": "console",
}


def load_settings(**changes: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in SAFE and key != "DEBUG"}
    env.update(SAFE)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'qiaoliang.settings'; django.setup(); print('ok')"
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed program
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_safe_production_configuration_loads() -> None:
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"TASKS_BACKEND": None}, "TASKS_BACKEND must be a shared queue"),
        ({"TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}, "TASKS_BACKEND must be a shared queue"),
        ({"REDIS_URL": None}, "REDIS_URL must be set in production"),
        ({"SMS_BACKEND": "locmem"}, "cannot be locmem"),
    ],
    ids=["no-task-backend", "in-process-tasks", "no-shared-cache", "test-sms-backend"],
)
def test_production_refuses_unsafe_defaults(changes: dict[str, str | None], says: str) -> None:
    result = load_settings(**changes)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and says in result.stderr
