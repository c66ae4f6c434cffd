"""Administrators connect mailboxes here and can look up what came in (and why it went where)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from skranke.mail.models import InboundEmail, Mailbox

_SECRETS = ("imap_password", "smtp_password", "oauth2_client_secret", "oauth2_refresh_token")


class MailboxForm(forms.ModelForm):
    """Secrets are never sent back to the browser; an empty field keeps the stored value."""

    class Meta:
        model = Mailbox
        fields = (
            "address",
            "display_name",
            "team",
            "enabled",
            "send_acknowledgement",
            "opening_hours",
            "signature",
            "reopen_window_days",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password",
            "imap_folder",
            "processed_folder",
            "oauth2_token_url",
            "oauth2_client_id",
            "oauth2_client_secret",
            "oauth2_refresh_token",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_auth",
            "smtp_username",
            "smtp_password",
        )
        widgets = {name: forms.PasswordInput(render_value=False) for name in _SECRETS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in _SECRETS:
            self.fields[name].required = False
            if self.instance.pk and getattr(self.instance, name):
                self.fields[name].help_text = _("Stored. Leave empty to keep it.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in _SECRETS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        return cleaned


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ("address", "team", "enabled", "send_acknowledgement", "last_polled_at", "error")
    list_filter = ("enabled", "team")
    search_fields = ("address", "display_name")
    readonly_fields = ("last_polled_at", "last_error")
    fieldsets = (
        (None, {"fields": ("address", "display_name", "team", "enabled")}),
        (
            _("Replies and acknowledgements"),
            {
                "fields": (
                    "send_acknowledgement",
                    "opening_hours",
                    "signature",
                    "reopen_window_days",
                )
            },
        ),
        (
            _("Reading mail (IMAP)"),
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_username",
                    "imap_password",
                    "imap_folder",
                    "processed_folder",
                    "last_polled_at",
                    "last_error",
                )
            },
        ),
        (
            _("OAuth2 (Microsoft 365, Google)"),
            {
                "classes": ("collapse",),
                "fields": (
                    "oauth2_token_url",
                    "oauth2_client_id",
                    "oauth2_client_secret",
                    "oauth2_refresh_token",
                ),
            },
        ),
        (
            _("Sending mail (SMTP; empty host uses the server default)"),
            {
                "classes": ("collapse",),
                "fields": (
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_auth",
                    "smtp_username",
                    "smtp_password",
                ),
            },
        ),
    )

    @admin.display(description=_("last error"))
    def error(self, mailbox: Mailbox) -> str:
        return mailbox.last_error[:80]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Read-only: the record of intake. Changing it would break the dedupe guarantee."""

    list_display = ("received_at", "from_address", "subject", "status", "case_link", "threaded_by")
    list_filter = ("status", "source", "mailbox", "threaded_by")
    search_fields = ("from_address", "subject", "message_id", "=fingerprint")
    date_hierarchy = "received_at"
    list_select_related = ("case",)

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in InboundEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description=_("case"))
    def case_link(self, inbound: InboundEmail) -> str:
        if inbound.case is None:
            return "—"
        return format_html(
            '<a href="{}">#{}</a>', inbound.case.get_absolute_url(), inbound.case.number
        )
