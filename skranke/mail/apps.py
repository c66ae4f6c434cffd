from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "skranke.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from skranke.mail import signals  # noqa: F401  (connects the outbound hook)
