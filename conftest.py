"""Test fixtures shared by every app: a small federation and one persona per role."""

from __future__ import annotations

import copy
import datetime
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from qiaoliang.accounts.models import Role, RoleAssignment, User
from qiaoliang.core.codes import uscc_check_character
from qiaoliang.orgs import services
from qiaoliang.orgs.models import Department, Enterprise, Organization, Zone


def _bulk_deserialize_db_from_string(self: Any, data: str) -> None:
    """Restore the serialized reference rows after a transactional test, a table at a time.

    Django's own restore (`serialized_rollback`) saves the rows one by one: an UPDATE, then an INSERT, for each
    of the regions, industries, honours and holidays the migrations load, which cost 6 s before every
    transactional test on PostgreSQL (2 s on SQLite). Here each model's rows are inserted in bulk, overwriting
    rows with the same key (the first transactional test finds them still there). Models with parents fall back
    to Django's way; constraints are checked at the end, as Django does. Unlike Django's raw saves, no
    pre_save/post_save signal is sent and auto_now columns take the time of the restore: no receiver of ours
    acts on reference rows, and none of their tables has such a column the tests read.
    """
    from io import StringIO

    from django.core import serializers
    from django.db import transaction

    alias = self.connection.alias
    by_model: dict[Any, list[Any]] = {}
    for deserialized in serializers.deserialize("json", StringIO(data), using=alias):
        by_model.setdefault(type(deserialized.object), []).append(deserialized)
    with transaction.atomic(using=alias), self.connection.constraint_checks_disabled():
        for model, rows in by_model.items():
            meta = model._meta
            if meta.parents:
                for row in rows:
                    row.save()
                continue
            fields = [f.name for f in meta.concrete_fields if not f.primary_key]
            manager = model._base_manager.using(alias)
            objects = [row.object for row in rows]
            if fields:
                manager.bulk_create(objects, batch_size=500, update_conflicts=True, unique_fields=[meta.pk.name],
                                    update_fields=fields)  # fmt: skip
            else:
                manager.bulk_create(objects, batch_size=500, ignore_conflicts=True)
            for row in rows:
                for name, values in (row.m2m_data or {}).items():
                    getattr(row.object, name).set(values)
        self.connection.check_constraints(table_names=[model._meta.db_table for model in by_model])


def pytest_configure(config: Any) -> None:
    from django.db.backends.base.creation import BaseDatabaseCreation

    BaseDatabaseCreation.deserialize_db_from_string = _bulk_deserialize_db_from_string  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fast_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache(settings: Any) -> None:
    """Give every test a cache namespace of its own, so that it starts with an empty cache.

    A rolled-back test leaves entries (cached scopes among them) that describe rows which no longer exist, and
    SQLite hands the same ids out again. Not `cache.clear()`: with the shared Redis of CI it flushes the whole
    database, under the feet of the test another xdist worker is running (whose writes would also reach this
    test's keys).
    """
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
BROWSER_SHOTS = Path(os.environ.get("BROWSER_SHOTS", "var/screenshots"))
needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(), reason="Chromium not installed"
)


@pytest.fixture
def browser_page(request: Any) -> Iterator[Any]:
    """Yield a Playwright page in Debian's Chromium; parametrize indirectly with the viewport width."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
    from playwright.sync_api import sync_playwright

    width = getattr(request, "param", 1366)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def browser_log_in(page: Any, base: str, username: str, password: str = "correct-horse-battery") -> None:
    """Log in through the login form and wait for the dashboard."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def make_uscc(serial: int, region: str = "110105") -> str:
    """Return a valid USCC for an enterprise (9 + 1 + region + organisation code)."""
    body = f"91{region}{serial:08d}"
    alphabet = "0123456789X"
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    org_check = 11 - sum(int(c) * w for c, w in zip(body[8:16], weights, strict=True)) % 11
    first17 = body + alphabet[org_check % 11] if org_check != 11 else body + "0"
    return first17 + uscc_check_character(first17)


@dataclass
class World:
    """A small federation: F > D1 > (C1, C2), F > A1; zone Z = {C1}; E1 in C1, E2 in C2, E3 in A1."""

    federation: Organization
    district: Organization
    chamber1: Organization
    chamber2: Organization
    association: Organization
    zone: Zone
    department: Department
    e1: Enterprise
    e2: Enterprise
    e3: Enterprise
    staff: User
    secretary: User
    convenor: User
    contact: User
    liaison: User
    provider: User
    outsider: User


def make_user(username: str, role: str | None = None, mobile: str | None = None, **target: Any) -> User:
    user = User.objects.create_user(username=username, password="correct-horse-battery", mobile=mobile)
    if role:
        RoleAssignment.objects.create(user=user, role=role, **target)
    return user


@pytest.fixture
def world(db: Any) -> World:
    f = services.create_organization(
        actor=None, code="F", name="北京市工商业联合会", short_name="市工商联", kind="federation"
    )
    d1 = services.create_organization(
        actor=None, code="D1", name="朝阳区工商业联合会", kind="district_federation", parent=f
    )
    c1 = services.create_organization(
        actor=None, code="C1", name="朝阳区餐饮商会", kind="chamber", chamber_kind="industry", parent=d1
    )
    c2 = services.create_organization(
        actor=None, code="C2", name="北京温州商会", kind="chamber", chamber_kind="hometown", parent=d1
    )
    a1 = services.create_organization(actor=None, code="A1", name="北京市软件行业协会", kind="association", parent=f)
    zone = services.create_zone(actor=None, code="Z1", name="东部片区", federation=f, organizations=[c1])
    department = services.create_department(actor=None, code="DEP1", name="北京市发展和改革委员会")
    e1 = services.create_enterprise(
        actor=None, uscc=make_uscc(1), name="北京天马辉科技有限公司", organization=c1, level="president",
        joined_on=datetime.date(2020, 1, 1), size="small", industry_id="6511", region_id="110105",
    )  # fmt: skip
    e2 = services.create_enterprise(
        actor=None, uscc=make_uscc(2), name="温州鞋业（北京）有限公司", organization=c2, size="medium",
        industry_id="1951", region_id="110105",
    )  # fmt: skip
    e3 = services.create_enterprise(
        actor=None, uscc=make_uscc(3), name="張家口軟件有限公司", organization=a1, size="micro",
        industry_id="6513", region_id="130700",
    )  # fmt: skip
    services.create_person(actor=None, name="张建利", mobile="13812345678", enterprise=e1, is_primary_contact=True)
    services.create_person(actor=None, name="王小明", mobile="13987654321", enterprise=e2, is_primary_contact=True)
    return World(
        federation=f,
        district=d1,
        chamber1=c1,
        chamber2=c2,
        association=a1,
        zone=zone,
        department=department,
        e1=e1,
        e2=e2,
        e3=e3,
        staff=make_user("staff", Role.FEDERATION_STAFF, mobile="13700000001", organization=f),
        secretary=make_user("secretary", Role.CHAMBER_SECRETARY, mobile="13700000002", organization=c1),
        convenor=make_user("convenor", Role.ZONE_CONVENOR, zone=zone),
        contact=make_user("contact", Role.ENTERPRISE_CONTACT, enterprise=e1),
        liaison=make_user("liaison", Role.DEPARTMENT_LIAISON, department=department),
        provider=make_user("provider", Role.SERVICE_PROVIDER),
        outsider=make_user("outsider"),
    )


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Mark tests that commit (live server, races) as `transactional`.

    They end by flushing the database, which also empties the reference tables that the migrations load;
    `make test` therefore runs them in a second, serial pass after the others.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is not None and marker.kwargs.get("transaction"):
            item.add_marker(pytest.mark.transactional)
