from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "skranke.customers"
    label = "customers"
    verbose_name = "Customers"
