"""Validators and normalisers for Norwegian identifiers and contact details."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ORG_NUMBER_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def org_number_is_valid(value: str) -> bool:
    """Check a Norwegian organisasjonsnummer: nine digits, the last a mod-11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], ORG_NUMBER_WEIGHTS, strict=True))
    remainder = total % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(digits[8])


def normalise_org_number(value: str) -> str:
    digits = value.replace(" ", "").strip()
    if not org_number_is_valid(digits):
        raise ValidationError(
            _("%(value)s is not a valid Norwegian organisation number."),
            code="invalid_org_number",
            params={"value": value},
        )
    return digits


def validate_org_number(value: str) -> None:
    normalise_org_number(value)


def normalise_phone(value: str, region: str = "NO") -> str:
    """Return the number in E.164, reading national numbers as Norwegian by default."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(value)s is not a phone number."), code="invalid_phone", params={"value": value}
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(
            _("%(value)s is not a possible phone number."),
            code="invalid_phone",
            params={"value": value},
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 47
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def normalise_email(value: str) -> str:
    return value.strip().lower()
