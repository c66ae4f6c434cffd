from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "skranke.mail"
    label = "mail"
    verbose_name = "Mail"
