"""The hostile-file corpus through the real attendee import (upload, then apply the mapping): every hostile file is
refused with a reason within seconds, and nothing is counted."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from qiaoliang.core.exceptions import DomainError
from qiaoliang.core.tests import hostile_files
from qiaoliang.events import services
from qiaoliang.events.models import Event, OnlineAttendee
from qiaoliang.events.tests.test_attendance import past  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
SECONDS = 15.0  # as the roster's hostile-file tests: refused in seconds on a loaded machine
FILES = [f for f in [*hostile_files.xlsx_files(), *hostile_files.csv_files()] if not f.accepted]


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    with translation.override("en"):
        yield


@pytest.mark.parametrize("hostile", FILES, ids=lambda f: f.ident)
def test_the_attendee_import_refuses_every_hostile_file(world: Any, past: Event, hostile: Any) -> None:  # noqa: F811
    upload = SimpleUploadedFile(hostile.name, hostile.content)
    started = time.monotonic()
    with pytest.raises(DomainError) as refused:
        online_import = services.start_online_import(actor=world.staff, event=past, upload=upload)
        mapping = online_import.mapping or dict.fromkeys(("name",), (online_import.headers or ["?"])[0])
        services.apply_online_import(actor=world.staff, online_import=online_import, mapping=mapping)
    seconds = time.monotonic() - started
    assert seconds < SECONDS, seconds
    assert str(refused.value.message), hostile.description
    assert not OnlineAttendee.objects.filter(online_import__event=past).exists()
