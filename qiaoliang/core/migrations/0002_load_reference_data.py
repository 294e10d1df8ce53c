"""Load the shipped GB/T 4754-2017 industry and GB/T 2260 region tables."""

from django.db import migrations


def load(apps, schema_editor):
    from qiaoliang.core import reference

    reference.load(apps.get_model("core", "Industry"), apps.get_model("core", "Region"))


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
