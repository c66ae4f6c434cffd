"""The search tables. They are not Django models: FTS5 virtual tables (SQLite) and tsvector
tables with GIN indexes (PostgreSQL) are created by the backend for the connection's engine."""

from django.db import migrations


def create_schema(apps, schema_editor):
    from skranke.search.backends import backend

    backend(schema_editor.connection).create_schema(schema_editor.connection)


def drop_schema(apps, schema_editor):
    from skranke.search.backends import backend

    backend(schema_editor.connection).drop_schema(schema_editor.connection)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0001_initial"),
        ("customers", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_schema, drop_schema)]
