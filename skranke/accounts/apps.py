from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "skranke.accounts"
    label = "accounts"
    verbose_name = "Accounts"
