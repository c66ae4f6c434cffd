"""Defaults a new centre can start from: opening hours Mon–Fri 09:00–18:30 and Sat–Sun
09:00–17:30 for every planned channel, channel targets, shrinkage parts and shift templates.
An administrator changes all of them in the admin."""

from datetime import time

from django.db import migrations

CHANNELS = {
    # channel: (aht seconds, SL %, target s, patience s, max occupancy %, concurrency, response h)
    "phone": (240, 80, 20, 180, 90, 1, 8),
    "chat": (600, 80, 60, 120, 90, 2, 8),
    "email": (420, 80, 20, None, None, 1, 8),
    "web": (420, 80, 20, None, None, 1, 8),
}
SHRINKAGE = {"Pauser": 8, "Møter": 5, "Opplæring": 4, "Sykefravær": 6}
TEMPLATES = [
    # name, start, length minutes, unpaid break minutes
    ("Tidlig", time(9), 480, 30),
    ("Midt", time(9, 30), 480, 30),
    ("Sen", time(10, 30), 480, 30),
    ("Formiddag", time(9), 240, 0),
    ("Ettermiddag", time(13, 30), 240, 0),
    ("Kveld", time(14, 30), 240, 0),
]


def create_defaults(apps, schema_editor):
    ChannelSettings = apps.get_model("workforce", "ChannelSettings")
    OpeningHours = apps.get_model("workforce", "OpeningHours")
    Shrinkage = apps.get_model("workforce", "Shrinkage")
    ShiftTemplate = apps.get_model("workforce", "ShiftTemplate")
    for channel, (aht, sl, target, patience, occupancy, concurrency, response) in CHANNELS.items():
        ChannelSettings.objects.get_or_create(
            channel=channel,
            defaults={
                "aht_seconds": aht,
                "service_level_percent": sl,
                "target_seconds": target,
                "patience_seconds": patience,
                "max_occupancy_percent": occupancy,
                "chat_concurrency": concurrency,
                "response_hours": response,
            },
        )
        for weekday in range(7):
            closes = time(18, 30) if weekday < 5 else time(17, 30)
            OpeningHours.objects.get_or_create(
                channel=channel, weekday=weekday, defaults={"opens": time(9), "closes": closes}
            )
    for name, percent in SHRINKAGE.items():
        Shrinkage.objects.get_or_create(name=name, defaults={"percent": percent})
    for name, start, length, pause in TEMPLATES:
        ShiftTemplate.objects.get_or_create(
            name=name, defaults={"start": start, "length_minutes": length, "break_minutes": pause}
        )


class Migration(migrations.Migration):
    dependencies = [("workforce", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
