from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        # The API list and a team lead's views order all visible cases by last change; without
        # this index SQLite sorted every visible case (345 ms at 100k cases, bench_pages.py).
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["-updated_at", "-id"], name="case_updated"),
        ),
    ]
