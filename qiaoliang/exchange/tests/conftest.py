"""Exchange fixtures: listings built through the services on the shared `world` federation."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from qiaoliang.exchange import matching_service


@pytest.fixture(autouse=True)
def _fresh_engine(settings: Any, tmp_path: Any) -> Any:
    settings.MATCHING_INDEX_DIR = tmp_path / "matching"
    matching_service.reset()
    yield
    matching_service.reset()


@pytest.fixture
def future() -> datetime.date:
    return datetime.date.today() + datetime.timedelta(days=90)
