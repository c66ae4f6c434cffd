from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from skranke.lib.validators import format_phone, validate_org_number


class Language(models.TextChoices):
    NB = "nb", _("Norwegian Bokmål")
    EN = "en", _("English")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    org_number = models.CharField(
        _("organisation number"),
        max_length=9,
        blank=True,
        validators=[validate_org_number],
        help_text=_("Nine digits, from Brønnøysundregistrene."),
    )
    email_domains = models.JSONField(_("email domains"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["org_number"],
                condition=~models.Q(org_number=""),
                name="organisation_unique_org_number",
            )
        ]
        indexes = [models.Index(Lower("name"), name="organisation_lower_name")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.NB
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set when this record was merged into another; kept so old links and audit still resolve.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name"]
        indexes = [
            models.Index(Lower("name"), name="customer_lower_name"),
            models.Index(fields=["organisation"], name="customer_org"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def primary_email(self) -> str:
        emails = list(self.emails.all())
        primary = next((e for e in emails if e.is_primary), emails[0] if emails else None)
        return primary.address if primary else ""

    @property
    def primary_phone(self) -> str:
        phones = list(self.phones.all())
        primary = next((p for p in phones if p.is_primary), phones[0] if phones else None)
        return primary.number if primary else ""


class CustomerEmail(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="emails")
    # Stored lower-cased, so a plain unique index gives case-insensitive uniqueness.
    address = models.EmailField(_("email"), unique=True)
    is_primary = models.BooleanField(default=False)
    undeliverable = models.BooleanField(_("undeliverable"), default=False)

    class Meta:
        ordering = ["-is_primary", "address"]

    def __str__(self) -> str:
        return self.address


class CustomerPhone(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone (E.164)"), max_length=20, unique=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "number"]

    def __str__(self) -> str:
        return self.number

    @property
    def display(self) -> str:
        return format_phone(self.number)
