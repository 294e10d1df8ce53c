"""The hostile-file corpus through the figures import: every hostile file is refused with a reason within
seconds, and no figure is written."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from qiaoliang.core.tests import hostile_files
from qiaoliang.policies import importers
from qiaoliang.policies.models import EnterpriseFact

pytestmark = pytest.mark.django_db
SECONDS = 15.0  # as the other importers' hostile-file tests: refused in seconds on a loaded machine
FILES = [f for f in [*hostile_files.xlsx_files(), *hostile_files.csv_files()] if not f.accepted]


@pytest.mark.parametrize("hostile", FILES, ids=lambda f: f.ident)
def test_the_figures_import_refuses_every_hostile_file(world: Any, hostile: Any) -> None:
    upload = SimpleUploadedFile(hostile.name, hostile.content)
    started = time.monotonic()
    with translation.override("en"):
        result = importers.parse(upload, hostile.name, world.staff)
    seconds = time.monotonic() - started
    assert seconds < SECONDS, seconds
    assert result.file_error or result.errors, hostile.description
    assert not EnterpriseFact.objects.exists()
