"""Policy tests run background work at once: in a test the surrounding transaction never commits, so work queued
"on commit" (recomputation after a publication or a figure, notification delivery) runs where it is queued."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _tasks_at_once(monkeypatch: Any) -> None:
    monkeypatch.setattr("qiaoliang.core.background.transaction.on_commit", lambda callback, *a, **k: callback())
