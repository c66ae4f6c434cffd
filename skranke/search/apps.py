from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "skranke.search"
    label = "search"
    verbose_name = "Search"
