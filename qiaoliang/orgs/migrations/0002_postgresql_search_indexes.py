"""PostgreSQL only: prefix indexes for pinyin/USCC search and a trigram index for name search."""

from django.db import migrations

PATTERN_INDEXES = [
    "CREATE INDEX IF NOT EXISTS orgs_ent_initials_like ON orgs_enterprise (name_initials varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS orgs_ent_pinyin_like ON orgs_enterprise (name_pinyin varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS orgs_ent_uscc_like ON orgs_enterprise (uscc varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS orgs_org_path_like ON orgs_organization (path varchar_pattern_ops)",
]
TRIGRAM_INDEX = "CREATE INDEX IF NOT EXISTS orgs_ent_name_trgm ON orgs_enterprise USING gin (name_search gin_trgm_ops)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in PATTERN_INDEXES:
            cursor.execute(statement)
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone():
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(TRIGRAM_INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for name in ["orgs_ent_initials_like", "orgs_ent_pinyin_like", "orgs_ent_uscc_like", "orgs_org_path_like",
                     "orgs_ent_name_trgm"]:  # fmt: skip
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orgs", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
