"""Case numbers on PostgreSQL come from a sequence instead of the counter row.

The counter row was locked from a case's creation to its commit, so every creating transaction
(one per incoming email) waited for the one before it. ``nextval`` locks nothing; the price is a
gap in the numbers when a creating transaction rolls back. SQLite keeps the counter row: it has
one writer at a time anyway.
"""

from django.db import migrations

SEQUENCE = "cases_case_number_seq"
START = 10000  # the counter's starting value; the first case is 10001


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT GREATEST("
            " (SELECT value FROM cases_counter WHERE name = 'case_number'),"
            " (SELECT MAX(number) FROM cases_case), %s)",
            [START],
        )
        last = cursor.fetchone()[0]
        cursor.execute(f"CREATE SEQUENCE {SEQUENCE} AS bigint START WITH {int(last) + 1}")


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        # Hand the numbers back to the counter row, then drop the sequence.
        cursor.execute(
            "INSERT INTO cases_counter (name, value)"
            " SELECT 'case_number', GREATEST(COALESCE(MAX(number), %s), %s) FROM cases_case"
            " ON CONFLICT (name) DO UPDATE SET value = GREATEST(cases_counter.value, EXCLUDED.value)",
            [START, START],
        )
        cursor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_case_filter_indexes")]

    operations = [migrations.RunPython(create_sequence, drop_sequence, elidable=False)]
