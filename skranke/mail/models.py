"""Mailboxes Skranke reads and sends from, and one row per message that came in.

``InboundEmail`` is the durable record of intake: written in the same transaction as the case
and message it produced, so "is this mail already in Skranke?" has one answer that survives a
crash at any point. Its ``dedupe_key`` is unique, which makes a second import of the same mail
fail at the database rather than create a second case.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from skranke.accounts.models import Team


class Security(models.TextChoices):
    SSL = "ssl", _("TLS (implicit, port 993/465)")
    STARTTLS = "starttls", _("STARTTLS (port 143/587)")
    NONE = "none", _("None (local test servers only)")


class SMTPAuth(models.TextChoices):
    PASSWORD = "password", _("User name and password")
    OAUTH2 = "oauth2", _("OAuth2 (XOAUTH2; Microsoft 365, Google)")


class Mailbox(models.Model):
    """An address customers write to, the team it feeds, and how to read and send its mail."""

    address = models.EmailField(
        _("address"),
        unique=True,
        help_text=_("The address customers write to, e.g. kundeservice@firma.no."),
    )
    display_name = models.CharField(_("sender name"), max_length=100, blank=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="mailboxes"
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    send_acknowledgement = models.BooleanField(
        _("acknowledge new cases"),
        default=True,
        help_text=_("Send an automatic receipt with the case number when a new case is created."),
    )
    signature = models.TextField(
        _("signature"), blank=True, help_text=_("Added under every reply sent from this mailbox.")
    )
    opening_hours = models.CharField(
        _("opening hours"),
        max_length=200,
        blank=True,
        help_text=_("Shown in the acknowledgement, e.g. “hverdager 08–16”."),
    )
    reopen_window_days = models.PositiveSmallIntegerField(
        _("reopen window (days)"),
        default=14,
        help_text=_(
            "A reply to a solved case within this many days reopens it; later replies, and "
            "replies to closed cases, open a new case linked to the old one."
        ),
    )

    # Reading (IMAP). Leave the host empty for mailboxes fed by LMTP/SMTP or a pipe.
    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(
        _("IMAP security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    imap_username = models.CharField(_("IMAP username"), max_length=200, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=500, blank=True)
    # OAuth2 (Microsoft 365, Google): XOAUTH2 instead of the password. With a refresh token,
    # client id and token URL, Skranke renews the short-lived access token itself.
    oauth2_token_url = models.URLField(_("OAuth2 token URL"), blank=True)
    oauth2_client_id = models.CharField(_("OAuth2 client id"), max_length=200, blank=True)
    oauth2_client_secret = models.CharField(_("OAuth2 client secret"), max_length=500, blank=True)
    oauth2_refresh_token = models.TextField(_("OAuth2 refresh token"), blank=True)
    oauth2_access_token = models.TextField(_("OAuth2 access token"), blank=True)
    oauth2_expires_at = models.DateTimeField(null=True, blank=True)
    imap_folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    processed_folder = models.CharField(
        _("move processed mail to"),
        max_length=200,
        blank=True,
        help_text=_("Empty: imported mail is flagged and stays in the folder."),
    )

    # Sending (SMTP). Empty host: the site's default relay (SKRANKE_SMTP_*, docs/email.md).
    smtp_host = models.CharField(_("SMTP host"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP port"), default=587)
    smtp_security = models.CharField(
        _("SMTP security"), max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(_("SMTP username"), max_length=200, blank=True)
    smtp_password = models.CharField(_("SMTP password"), max_length=500, blank=True)
    smtp_auth = models.CharField(
        _("SMTP sign-in"),
        max_length=10,
        choices=SMTPAuth.choices,
        default=SMTPAuth.PASSWORD,
        help_text=_(
            "OAuth2 uses the token settings in the OAuth2 section, the same as for IMAP; "
            "the user name is the SMTP username, or else the address."
        ),
    )

    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address

    def save(self, *args: object, **kwargs: object) -> None:
        self.address = self.address.strip().lower()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        if self.smtp_auth != SMTPAuth.OAUTH2:
            return
        if not self.smtp_host:
            raise ValidationError(
                {"smtp_host": _("OAuth2 sign-in needs the SMTP host, e.g. smtp.office365.com.")}
            )
        can_renew = self.oauth2_token_url and self.oauth2_client_id and self.oauth2_refresh_token
        if not (can_renew or self.oauth2_access_token):
            raise ValidationError(
                {
                    "smtp_auth": _(
                        "OAuth2 sign-in needs the token URL, client id and refresh token in "
                        "the OAuth2 section."
                    )
                }
            )

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]

    def reply_address(self, case_number: int) -> str:
        """The per-case address (plus-addressing) that threads a reply back to its case."""
        local, _at, domain = self.address.partition("@")
        return f"{local}+c{case_number}@{domain}"


class InboundStatus(models.TextChoices):
    IMPORTED = "imported", _("Imported")
    BOUNCE_UNMATCHED = "bounce_unmatched", _("Bounce for an unknown message")
    LOOP_HELD = "loop_held", _("Held: too many mails from this sender")


class InboundEmail(models.Model):
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    # "<mailbox id>:mid:<Message-ID>" or "<mailbox id>:sha:<fingerprint>" for mail without one.
    dedupe_key = models.CharField(max_length=600, unique=True)
    message_id = models.CharField(max_length=500, blank=True)
    fingerprint = models.CharField(max_length=64)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=10)  # imap, lmtp, smtp, pipe
    raw = models.FileField(upload_to="mail/raw", max_length=300)
    raw_size = models.PositiveBigIntegerField(default=0)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    # Outlook's conversation GUID (from Thread-Index), for threading mail whose other headers
    # were stripped by a gateway.
    conversation_id = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.IMPORTED
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    threaded_by = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    acknowledged = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("received email")
        verbose_name_plural = _("received email")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["from_address", "received_at"], name="inbound_from_received"),
            models.Index(fields=["mailbox", "conversation_id"], name="inbound_conversation"),
            models.Index(fields=["mailbox", "imap_uidvalidity", "imap_uid"], name="inbound_uid"),
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"

    @staticmethod
    def key_for(mailbox_id: int | None, message_id: str | None, fingerprint: str) -> str:
        prefix = mailbox_id or 0
        if message_id:
            return f"{prefix}:mid:{message_id}"[:600]
        return f"{prefix}:sha:{fingerprint}"
