"""Former GB/T 2260 divisions: the last year each was published and the current division it is now part of (the
rows are loaded by 0005: PostgreSQL cannot build the new index after rows with pending FK checks in one transaction)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0003_notificationpreference_verificationcode_and_more")]

    operations = [
        migrations.AddField(
            model_name="region",
            name="last_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="last published in"),
        ),
        migrations.AddField(
            model_name="region",
            name="successor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="predecessors",
                to="core.region",
                verbose_name="now part of",
            ),
        ),
    ]
