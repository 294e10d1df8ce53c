"""Load the named thresholds (规模以上, 限额以上 …) from data/thresholds.json."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "thresholds.json"


def load(apps, schema_editor):
    NamedThreshold = apps.get_model("policies", "NamedThreshold")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for row in data["thresholds"]:
        NamedThreshold.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "aliases": row["aliases"],
                "expression": row["expression"],
                "source": data["source"][:300],
            },
        )


def unload(apps, schema_editor):
    apps.get_model("policies", "NamedThreshold").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("policies", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
