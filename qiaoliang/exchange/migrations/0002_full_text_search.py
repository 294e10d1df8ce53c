"""Full-text index of listing tokens: FTS5 on SQLite, a GIN array index on PostgreSQL (see exchange/search.py)."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS exchange_listing_fts USING fts5("
    "search_tokens, content='exchange_listing', content_rowid='id', tokenize='ascii')",
    "CREATE TRIGGER IF NOT EXISTS exchange_listing_fts_insert AFTER INSERT ON exchange_listing BEGIN "
    "INSERT INTO exchange_listing_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS exchange_listing_fts_delete AFTER DELETE ON exchange_listing BEGIN "
    "INSERT INTO exchange_listing_fts(exchange_listing_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS exchange_listing_fts_update AFTER UPDATE OF search_tokens ON exchange_listing BEGIN "
    "INSERT INTO exchange_listing_fts(exchange_listing_fts, rowid, search_tokens) "
    "VALUES ('delete', old.id, old.search_tokens); "
    "INSERT INTO exchange_listing_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "INSERT INTO exchange_listing_fts(exchange_listing_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS exchange_listing_fts_insert",
    "DROP TRIGGER IF EXISTS exchange_listing_fts_delete",
    "DROP TRIGGER IF EXISTS exchange_listing_fts_update",
    "DROP TABLE IF EXISTS exchange_listing_fts",
]
POSTGRES_FORWARD = [
    "CREATE INDEX IF NOT EXISTS exchange_listing_tokens_gin ON exchange_listing "
    "USING gin (string_to_array(search_tokens, ' '))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS exchange_listing_tokens_gin"]


def forwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
