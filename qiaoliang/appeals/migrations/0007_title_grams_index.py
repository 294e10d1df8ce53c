"""Fill title_grams and index it: FTS5 (ascii tokenizer) on SQLite, a GIN token array on PostgreSQL (as the
directory's name_grams, orgs 0004)."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS appeals_appeal_grams USING fts5("
    "title_grams, content='appeals_appeal', content_rowid='id', tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS appeals_appeal_grams_insert AFTER INSERT ON appeals_appeal BEGIN "
    "INSERT INTO appeals_appeal_grams(rowid, title_grams) VALUES (new.id, new.title_grams); END",
    "CREATE TRIGGER IF NOT EXISTS appeals_appeal_grams_delete AFTER DELETE ON appeals_appeal BEGIN "
    "INSERT INTO appeals_appeal_grams(appeals_appeal_grams, rowid, title_grams) "
    "VALUES ('delete', old.id, old.title_grams); END",
    "CREATE TRIGGER IF NOT EXISTS appeals_appeal_grams_update AFTER UPDATE OF title_grams ON appeals_appeal BEGIN "
    "INSERT INTO appeals_appeal_grams(appeals_appeal_grams, rowid, title_grams) "
    "VALUES ('delete', old.id, old.title_grams); "
    "INSERT INTO appeals_appeal_grams(rowid, title_grams) VALUES (new.id, new.title_grams); END",
    "INSERT INTO appeals_appeal_grams(appeals_appeal_grams) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS appeals_appeal_grams_insert",
    "DROP TRIGGER IF EXISTS appeals_appeal_grams_delete",
    "DROP TRIGGER IF EXISTS appeals_appeal_grams_update",
    "DROP TABLE IF EXISTS appeals_appeal_grams",
]
POSTGRES_FORWARD = [
    "CREATE INDEX IF NOT EXISTS appeals_appeal_grams_gin ON appeals_appeal "
    "USING gin (string_to_array(title_grams, ' '))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS appeals_appeal_grams_gin"]


def forwards(apps, schema_editor):
    from qiaoliang.core.text import compact_text, name_grams

    # Fill the column first: the FTS5 triggers must only ever see values the index holds.
    Appeal = apps.get_model("appeals", "Appeal")
    batch = []
    for appeal in Appeal.objects.only("id", "title").iterator(chunk_size=2000):
        appeal.title_grams = " ".join(name_grams(compact_text(appeal.title)[:120]))  # as Appeal.save writes it
        batch.append(appeal)
        if len(batch) >= 2000:
            Appeal.objects.bulk_update(batch, ["title_grams"])
            batch = []
    if batch:
        Appeal.objects.bulk_update(batch, ["title_grams"])
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor, []):
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("appeals", "0006_appeal_title_grams")]
    operations = [migrations.RunPython(forwards, backwards)]
