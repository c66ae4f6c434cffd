from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "skranke.workforce"
    label = "workforce"
    verbose_name = "Workforce"
