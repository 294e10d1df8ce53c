"""Fill name_grams and index it: FTS5 (ascii tokenizer) on SQLite, a GIN token array on PostgreSQL."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS orgs_enterprise_grams USING fts5("
    "name_grams, content='orgs_enterprise', content_rowid='id', tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS orgs_enterprise_grams_insert AFTER INSERT ON orgs_enterprise BEGIN "
    "INSERT INTO orgs_enterprise_grams(rowid, name_grams) VALUES (new.id, new.name_grams); END",
    "CREATE TRIGGER IF NOT EXISTS orgs_enterprise_grams_delete AFTER DELETE ON orgs_enterprise BEGIN "
    "INSERT INTO orgs_enterprise_grams(orgs_enterprise_grams, rowid, name_grams) "
    "VALUES ('delete', old.id, old.name_grams); END",
    "CREATE TRIGGER IF NOT EXISTS orgs_enterprise_grams_update AFTER UPDATE OF name_grams ON orgs_enterprise BEGIN "
    "INSERT INTO orgs_enterprise_grams(orgs_enterprise_grams, rowid, name_grams) "
    "VALUES ('delete', old.id, old.name_grams); "
    "INSERT INTO orgs_enterprise_grams(rowid, name_grams) VALUES (new.id, new.name_grams); END",
    "INSERT INTO orgs_enterprise_grams(orgs_enterprise_grams) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS orgs_enterprise_grams_insert",
    "DROP TRIGGER IF EXISTS orgs_enterprise_grams_delete",
    "DROP TRIGGER IF EXISTS orgs_enterprise_grams_update",
    "DROP TABLE IF EXISTS orgs_enterprise_grams",
]
POSTGRES_FORWARD = [
    "CREATE INDEX IF NOT EXISTS orgs_enterprise_grams_gin ON orgs_enterprise "
    "USING gin (string_to_array(name_grams, ' '))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS orgs_enterprise_grams_gin"]


def forwards(apps, schema_editor):
    from qiaoliang.core.text import name_grams

    # Fill the column first: the FTS5 triggers must only ever see values the index holds.
    Enterprise = apps.get_model("orgs", "Enterprise")
    batch = []
    for enterprise in Enterprise.objects.only("id", "name_search").iterator(chunk_size=2000):
        enterprise.name_grams = " ".join(name_grams(enterprise.name_search))
        batch.append(enterprise)
        if len(batch) >= 2000:
            Enterprise.objects.bulk_update(batch, ["name_grams"])
            batch = []
    if batch:
        Enterprise.objects.bulk_update(batch, ["name_grams"])
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0003_enterprise_name_grams")]
    operations = [migrations.RunPython(forwards, backwards)]
