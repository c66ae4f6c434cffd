from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "skranke.cases"
    label = "cases"
    verbose_name = "Cases"
