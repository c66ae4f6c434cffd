from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_case_updated_index"),
    ]

    operations = [
        # "All open" filtered by priority, channel or type checked the filter on every active
        # case of the agent's teams, or scanned the whole table when SQLite misjudged how few
        # cases are active: 574 ms (priority=high), 346 ms (channel=email) and 290 ms
        # (type=complaint) at 1M cases. With these the count and each status's walk for the
        # page read only matching active cases (docs/benchmarks.md). The third column gives the
        # default order (priority) and the "Newest" order (channel) without a sort.
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["status", "priority", "-updated_at"], name="case_status_prio_upd"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                fields=["status", "channel", "-created_at"], name="case_status_chan_crt"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["status", "type"], name="case_status_type"),
        ),
    ]
