"""The title's character pairs, for the list search (filled and indexed in 0007)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0005_statistics_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="appeal",
            name="title_grams",
            field=models.TextField(blank=True, default="", editable=False),
        ),
    ]
