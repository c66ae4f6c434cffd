from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from skranke.lib.validators import (
    format_phone,
    normalise_org_number,
    normalise_phone,
    org_number_is_valid,
)


@pytest.mark.parametrize(
    "number",
    ["923609016", "974760673", "981 276 957"],  # Equinor, Brønnøysundregistrene, a real AS
)
def test_valid_org_numbers(number):
    assert org_number_is_valid(number.replace(" ", ""))


@pytest.mark.parametrize("number", ["923609017", "12345678", "abcdefghi", "", "9236090160"])
def test_invalid_org_numbers(number):
    assert not org_number_is_valid(number)
    with pytest.raises(ValidationError):
        normalise_org_number(number)


def test_phone_normalised_to_e164_as_norwegian_by_default():
    assert normalise_phone("912 34 567") == "+4791234567"
    assert normalise_phone("0047 912 34 567") == "+4791234567"
    assert normalise_phone("+46 70 123 45 67") == "+46701234567"
    # Norwegian numbers are shown nationally, foreign ones with their country code.
    assert format_phone("+4791234567").replace(" ", "") == "91234567"
    assert format_phone("+46701234567").startswith("+46")


def test_bad_phone_is_a_validation_error():
    with pytest.raises(ValidationError):
        normalise_phone("not a number")
