"""Add Enterprise.name_keys (the trade-name pinyin keys) with ALTER TABLE ADD COLUMN.

Django's AddField of a NOT NULL column with a default rebuilds the table on SQLite (create, copy, drop, rename),
and dropping orgs_enterprise drops the FTS5 triggers of 0004 with it: new names would no longer be found by
substring. ADD COLUMN keeps the table (and its triggers); the state is Django's AddField. On SQLite the column
keeps its database default '' (SQLite cannot drop a default without a rebuild); Django always writes the value.
"""

from django.db import migrations, models

ADD = "ALTER TABLE orgs_enterprise ADD COLUMN name_keys text NOT NULL DEFAULT ''"


def forwards(apps, schema_editor):
    schema_editor.execute(ADD)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE orgs_enterprise ALTER COLUMN name_keys DROP DEFAULT")


def backwards(apps, schema_editor):
    schema_editor.execute("ALTER TABLE orgs_enterprise DROP COLUMN name_keys")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0005_enterprise_registered_by_membershipapplication_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AddField(
                    model_name="enterprise",
                    name="name_keys",
                    field=models.TextField(default="", editable=False),
                ),
            ],
        ),
    ]
