"""Events fixtures: events built through the services on the shared `world` federation."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from conftest import World
from qiaoliang.core import channels
from qiaoliang.events import services
from qiaoliang.events.models import Event


@pytest.fixture(autouse=True)
def _sms_outbox(settings: Any) -> Any:
    settings.SMS_BACKEND = "locmem"
    channels.outbox.clear()
    yield channels.outbox
    channels.outbox.clear()


@pytest.fixture
def soon() -> datetime.datetime:
    """A moment two days ahead, on the hour."""
    return (timezone.now() + datetime.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def make_event(world: World, soon: datetime.datetime) -> Callable[..., Event]:
    """Return a factory of published events of the federation (public, 50 seats by default)."""

    def make(**fields: Any) -> Event:
        values: dict[str, Any] = {
            "actor": world.staff,
            "organization": world.federation,
            "title": "上海人力资源讲堂",
            "kind": "lecture",
            "mode": "hybrid",
            "audience": "public",
            "capacity": 50,
            "starts_at": soon,
            "ends_at": soon + datetime.timedelta(hours=2),
            "publish": True,
        }
        values.update(fields)
        return services.create_event(**values)

    return make


@pytest.fixture
def event(make_event: Callable[..., Event]) -> Event:
    return make_event()
