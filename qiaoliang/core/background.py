"""Background work by name: services schedule a task after commit without importing the module that defines it.

Each app's `tasks.py` defines its tasks with `@background("exchange.index_listing")` (a django-tasks task
registered under that name); the app's AppConfig imports `tasks` when the app loads. Services call
`enqueue_on_commit("exchange.index_listing", listing.pk)`, so `services` never imports `tasks` (which
imports `services`): no import cycle, and the backend (in-process in tests and the demo, the database
queue in production) can change without touching a call site.

An app can also say that something happened without knowing who cares: `announce_on_commit("orgs.enterprises_
changed", ids, fields)` enqueues, after commit, every task defined with `on=("orgs.enterprises_changed",)`.
An app lower in the import order (orgs) so tells the apps above it (policies) without importing them; the
announcing app documents its announcements and their arguments (`orgs/announcements.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_tasks import task

F = TypeVar("F", bound=Callable[..., Any])
_tasks: dict[str, Any] = {}
_listeners: dict[str, list[str]] = {}


def background(name: str, *, on: Sequence[str] = (), **options: Any) -> Callable[[F], Any]:
    """Define a task and register it under a dotted name (tasks take ids, are idempotent and call one service).

    With `on`, the task also runs after each of these announcements, with the announcement's arguments.
    """

    def decorate(function: F) -> Any:
        if name in _tasks:
            raise ImproperlyConfigured(f"background task {name!r} defined twice")
        defined = task(**options)(function)
        _tasks[name] = defined
        for event in on:
            _listeners.setdefault(event, []).append(name)
        return defined

    return decorate


def get_task(name: str) -> Any:
    """Return a registered task, or raise (an unknown name is a programming error)."""
    try:
        return _tasks[name]
    except KeyError:
        raise ImproperlyConfigured(f"no background task named {name!r}; registered: {sorted(_tasks)}") from None


def enqueue_on_commit(name: str, *args: Any) -> None:
    """Enqueue a task after the current transaction commits (immediately when there is none)."""
    defined = get_task(name)
    transaction.on_commit(partial(defined.enqueue, *args))


def listeners(event: str) -> list[str]:
    """The tasks that run after an announcement, by name."""
    return list(_listeners.get(event, ()))


def announce_on_commit(event: str, *args: Any) -> None:
    """After the current transaction commits, enqueue every task listening to `event` with these arguments."""
    for name in _listeners.get(event, ()):
        enqueue_on_commit(name, *args)
