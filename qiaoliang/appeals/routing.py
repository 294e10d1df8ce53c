"""Routing suggestions: the category and the liaison department an appeal's text suggests, learned from the
routings staff confirmed (and the shipped demo routings on a new installation).

Two classifiers (`core.textclassifier`, the same engine as `train_appeal_classifier`) are trained by the background
task `appeals.retrain` — after every `RETRAIN_EVERY` confirmed routings, or by `manage.py train_routing_models` —
and stored as `RoutingModel` rows. Each app server loads the newest one once and keeps it until a newer appears.
Staff always confirm or change the suggestion; `suggested_*` on the appeal keeps it, to measure it.
"""

from __future__ import annotations

import csv
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from qiaoliang.appeals.models import Appeal, AppealCategory, RoutingModel
from qiaoliang.core import textclassifier as classifier
from qiaoliang.orgs.models import Department

DEMO_ROUTINGS = Path(__file__).resolve().parent / "data" / "demo_appeals.csv"
RETRAIN_EVERY = 20  # confirmed routings between two trainings
MIN_ROWS = 20
MAX_TRAINING_ROWS = 5_000  # the newest confirmed routings; training holds them in memory (about 0.4 GB at 5,000)


@dataclass(frozen=True)
class Suggestion:
    category: AppealCategory | None = None
    category_confidence: float = 0.0
    department: Department | None = None
    department_confidence: float = 0.0


_lock = threading.Lock()
_loaded: dict[str, tuple[int, classifier.AppealClassifier]] = {}


def _model(kind: str) -> classifier.AppealClassifier | None:
    newest = RoutingModel.objects.filter(kind=kind).order_by("-trained_at", "-id").values_list("pk", flat=True).first()
    if newest is None:
        return None
    with _lock:
        cached = _loaded.get(kind)
        if cached is not None and cached[0] == newest:
            return cached[1]
    data = RoutingModel.objects.filter(pk=newest).values_list("data", flat=True).first()
    if data is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        path.write_bytes(bytes(data))
        model = classifier.load(path)
    with _lock:
        _loaded[kind] = (newest, model)
    return model


def suggest(title: str, description: str) -> Suggestion:
    """Return the suggested category and department of a text (empty where no model is trained yet)."""
    found: dict[str, tuple[str, float]] = {}
    for kind in (RoutingModel.Kind.CATEGORY, RoutingModel.Kind.DEPARTMENT):
        model = _model(kind)
        if model is not None:
            found[kind] = model.predict([[title, description]])[0]
    category = department = None
    if RoutingModel.Kind.CATEGORY in found:
        category = AppealCategory.objects.filter(code=found[RoutingModel.Kind.CATEGORY][0], is_active=True).first()
    if RoutingModel.Kind.DEPARTMENT in found:
        department = Department.objects.filter(code=found[RoutingModel.Kind.DEPARTMENT][0], is_active=True).first()
    return Suggestion(
        category=category,
        category_confidence=found.get(RoutingModel.Kind.CATEGORY, ("", 0.0))[1] if category else 0.0,
        department=department,
        department_confidence=found.get(RoutingModel.Kind.DEPARTMENT, ("", 0.0))[1] if department else 0.0,
    )


def training_rows() -> dict[str, list[tuple[str, str, str]]]:
    """Return (title, description, label) per kind: staff's confirmed routings, newest first, then the demo file's
    routings whose category and department exist here (a new installation starts from them)."""
    rows: dict[str, list[tuple[str, str, str]]] = {RoutingModel.Kind.CATEGORY: [], RoutingModel.Kind.DEPARTMENT: []}
    confirmed = (
        Appeal.objects.filter(routing_confirmed=True)
        .order_by("-assigned_at", "-id")
        .values_list("title", "description", "category__code", "department__code")[:MAX_TRAINING_ROWS]
    )
    for title, description, category, department in confirmed:
        if category:
            rows[RoutingModel.Kind.CATEGORY].append((title, description, category))
        if department:
            rows[RoutingModel.Kind.DEPARTMENT].append((title, description, department))
    if DEMO_ROUTINGS.exists():
        categories = set(AppealCategory.objects.filter(is_active=True).values_list("code", flat=True))
        departments = set(Department.objects.filter(is_active=True).values_list("code", flat=True))
        with DEMO_ROUTINGS.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["category"] in categories:
                    rows[RoutingModel.Kind.CATEGORY].append((row["title"], row["description"], row["category"]))
                if row["department"] in departments:
                    rows[RoutingModel.Kind.DEPARTMENT].append((row["title"], row["description"], row["department"]))
    return rows


def train() -> dict[str, int]:
    """Train both classifiers from `training_rows` and store them; return the rows used per kind."""
    used: dict[str, int] = {}
    for kind, rows in training_rows().items():
        if len(rows) < MIN_ROWS or len({label for _t, _d, label in rows}) < 2:
            continue
        model = classifier.fit([[title, description] for title, description, _label in rows],
                               [label for _t, _d, label in rows], text_columns=["title", "description"])  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.npz"
            classifier.save(model, path)
            data = path.read_bytes()
        with transaction.atomic():
            RoutingModel.objects.create(kind=kind, data=data, rows=len(rows), labels=list(model.labels))
            # Keep the three newest of each kind: enough to go back, not a growing table.
            old = RoutingModel.objects.filter(kind=kind).order_by("-trained_at", "-id").values_list("pk", flat=True)[3:]
            RoutingModel.objects.filter(pk__in=list(old)).delete()
        used[kind] = len(rows)
    return used


def due() -> bool:
    """Tell whether enough routings were confirmed since the last training to train again."""
    last = RoutingModel.objects.order_by("-trained_at").values_list("trained_at", flat=True).first()
    confirmed = Appeal.objects.filter(routing_confirmed=True)
    if last is not None:
        confirmed = confirmed.filter(assigned_at__gt=last)
    return confirmed.count() >= RETRAIN_EVERY


def describe(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "category": suggestion.category,
        "category_confidence": round(suggestion.category_confidence * 100),
        "department": suggestion.department,
        "department_confidence": round(suggestion.department_confidence * 100),
    }
