"""Fill name_keys (the trade-name pinyin keys) and index it for prefix search; index memberships by level and status.

SQLite: an FTS5 table over the column (ascii tokenizer, prefix indexes for 1–3 letters, so `h*` is one lookup),
kept in step by triggers like orgs_enterprise_grams. PostgreSQL: a GIN index on the column's tsvector ('simple'
configuration: the keys are plain lower-case words), which answers `to_tsquery('simple', 'hrhs:*')`.
"""

import importlib

from django.db import migrations

# Rebuilding orgs_enterprise on SQLite (Django does it for many column changes) drops every trigger on it: a
# later migration that does so must create these triggers and those of 0004 again (see repair_grams_triggers).
GRAMS = importlib.import_module("qiaoliang.orgs.migrations.0004_name_grams_index")

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS orgs_enterprise_keys USING fts5("
    "name_keys, content='orgs_enterprise', content_rowid='id', tokenize='ascii', prefix='1 2 3')",
    "CREATE TRIGGER IF NOT EXISTS orgs_enterprise_keys_insert AFTER INSERT ON orgs_enterprise BEGIN "
    "INSERT INTO orgs_enterprise_keys(rowid, name_keys) VALUES (new.id, new.name_keys); END",
    "CREATE TRIGGER IF NOT EXISTS orgs_enterprise_keys_delete AFTER DELETE ON orgs_enterprise BEGIN "
    "INSERT INTO orgs_enterprise_keys(orgs_enterprise_keys, rowid, name_keys) "
    "VALUES ('delete', old.id, old.name_keys); END",
    "CREATE TRIGGER IF NOT EXISTS orgs_enterprise_keys_update AFTER UPDATE OF name_keys ON orgs_enterprise BEGIN "
    "INSERT INTO orgs_enterprise_keys(orgs_enterprise_keys, rowid, name_keys) "
    "VALUES ('delete', old.id, old.name_keys); "
    "INSERT INTO orgs_enterprise_keys(rowid, name_keys) VALUES (new.id, new.name_keys); END",
    "INSERT INTO orgs_enterprise_keys(orgs_enterprise_keys) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS orgs_enterprise_keys_insert",
    "DROP TRIGGER IF EXISTS orgs_enterprise_keys_delete",
    "DROP TRIGGER IF EXISTS orgs_enterprise_keys_update",
    "DROP TABLE IF EXISTS orgs_enterprise_keys",
]
POSTGRES_FORWARD = [
    "CREATE INDEX IF NOT EXISTS orgs_enterprise_keys_gin ON orgs_enterprise "
    "USING gin (to_tsvector('simple'::regconfig, name_keys))",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS orgs_enterprise_keys_gin"]
# The directory's level and status filters start from the memberships (`id IN (SELECT enterprise_id …)`); the
# organisation filter has orgs_membership_org_idx (organization, level, enterprise). Both databases.
MEMBERSHIP_FORWARD = [
    "CREATE INDEX IF NOT EXISTS orgs_membership_level_ent_idx ON orgs_membership (level, enterprise_id)",
    "CREATE INDEX IF NOT EXISTS orgs_membership_status_ent_idx ON orgs_membership (status, enterprise_id)",
]
MEMBERSHIP_BACKWARD = [
    "DROP INDEX IF EXISTS orgs_membership_level_ent_idx",
    "DROP INDEX IF EXISTS orgs_membership_status_ent_idx",
]


def repair_grams_triggers(schema_editor):
    """Create the name_grams FTS5 triggers of 0004 again (and rebuild that index) if a table rebuild lost them."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
            "('orgs_enterprise_grams_insert', 'orgs_enterprise_grams_delete', 'orgs_enterprise_grams_update')"
        )
        if cursor.fetchone()[0] == 3:
            return
    for statement in GRAMS.SQLITE_FORWARD:  # CREATE ... IF NOT EXISTS, then 'rebuild'
        schema_editor.execute(statement)


def forwards(apps, schema_editor):
    from qiaoliang.core.text import enterprise_name_keys

    # Fill the column first: the FTS5 triggers must only ever see values the index holds.
    Enterprise = apps.get_model("orgs", "Enterprise")
    batch = []
    for enterprise in Enterprise.objects.only("id", "name").order_by("id").iterator(chunk_size=2000):
        enterprise.name_keys = " ".join(enterprise_name_keys(enterprise.name)[3])
        batch.append(enterprise)
        if len(batch) >= 2000:
            Enterprise.objects.bulk_update(batch, ["name_keys"])
            batch = []
    if batch:
        Enterprise.objects.bulk_update(batch, ["name_keys"])
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        repair_grams_triggers(schema_editor)
    for statement in {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}.get(vendor, []) + MEMBERSHIP_FORWARD:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(vendor, []) + MEMBERSHIP_BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("orgs", "0006_enterprise_name_keys")]
    operations = [migrations.RunPython(forwards, backwards)]
