"""Load the former GB/T 2260 divisions (core/data/regions_history.csv, see SOURCE.md)."""

from django.db import migrations


def load(apps, schema_editor):
    from qiaoliang.core import reference

    reference.load_history(apps.get_model("core", "Region"))


def unload(apps, schema_editor):
    apps.get_model("core", "Region").objects.filter(last_year__isnull=False).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0004_region_history")]
    operations = [migrations.RunPython(load, unload)]
