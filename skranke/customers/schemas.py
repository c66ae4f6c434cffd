"""What the API accepts and returns for customers and organisations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Field, Schema
from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from skranke.cases.schemas import MAX_PAGE_SIZE, EmailAddress, Input, PhoneNumber
from skranke.customers.models import Language
from skranke.lib.validators import normalise_org_number

# --- Output -----------------------------------------------------------------------------------


class OrganisationOut(Schema):
    id: int
    name: str
    org_number: str
    email_domains: list[str]
    notes: str
    custom_fields: dict[str, Any]
    created_at: datetime


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    next: str | None


class EmailOut(Schema):
    address: str
    is_primary: bool
    undeliverable: bool


class PhoneOut(Schema):
    number: str = Field(description="E.164")
    is_primary: bool


class CustomerOut(Schema):
    id: int
    name: str
    preferred_language: Language
    organisation: OrganisationOut | None
    emails: list[EmailOut]
    phones: list[PhoneOut]
    address: str
    postal_code: str
    city: str
    notes: str
    custom_fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    merged_into: int | None = Field(
        description="Set when this record was merged into another customer (its id)."
    )

    @staticmethod
    def resolve_merged_into(obj: Any) -> int | None:
        return obj.merged_into_id


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: str | None


# --- Input ------------------------------------------------------------------------------------


class CustomerFilters(Schema):
    q: str = Field("", description="Part of the name or email address, or a phone number.")
    organisation: int | None = Field(None, ge=1, le=2**63 - 1)
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None


class CustomerCreate(Input):
    name: str = Field("", max_length=200, description="Defaults to the first email or phone.")
    emails: list[EmailAddress] = Field(default_factory=list, description="The first is primary.")
    phones: list[PhoneNumber] = Field(default_factory=list, description="The first is primary.")
    organisation: int | None = Field(
        None,
        ge=1,
        le=2**63 - 1,
        description="Organisation id; by default matched from the email domain.",
    )
    preferred_language: Language = Language.NB
    address: str = Field("", max_length=200)
    postal_code: str = Field("", max_length=10)
    city: str = Field("", max_length=100)
    notes: str = ""
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone(self) -> CustomerCreate:
        if not (self.name.strip() or self.emails or self.phones):
            raise PydanticCustomError(
                "customer_empty", "Give at least a name, an email address or a phone number."
            )
        return self


class CustomerUpdate(Input):
    """Only the fields present are changed. ``emails``/``phones`` replace the lists."""

    name: str | None = Field(None, min_length=1, max_length=200)
    emails: list[EmailAddress] | None = None
    phones: list[PhoneNumber] | None = None
    organisation: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Organisation id, or null to clear."
    )
    preferred_language: Language | None = None
    address: str | None = Field(None, max_length=200)
    postal_code: str | None = Field(None, max_length=10)
    city: str | None = Field(None, max_length=100)
    notes: str | None = None
    custom_fields: dict[str, Any] | None = None

    @field_validator(
        "name",
        "emails",
        "phones",
        "preferred_language",
        "address",
        "postal_code",
        "city",
        "notes",
        "custom_fields",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null_not_allowed", "This field cannot be null.")
        return value


class CustomerMerge(Input):
    into: int = Field(description="Id of the customer that remains; this one is folded into it.")


def check_org_number(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return normalise_org_number(value)
    except DjangoValidationError:
        raise PydanticCustomError(
            "invalid_org_number",
            "{value} is not a valid Norwegian organisation number "
            "(nine digits, the last a mod-11 check digit).",
            {"value": value},
        ) from None


def clean_domains(values: list[str]) -> list[str]:
    domains = [v.strip().lower().lstrip("@") for v in values if v.strip()]
    for domain in domains:
        if "." not in domain or "@" in domain or " " in domain:
            raise PydanticCustomError(
                "invalid_domain", "{value} is not an email domain.", {"value": domain}
            )
    return list(dict.fromkeys(domains))


class OrganisationFilters(Schema):
    q: str = Field("", description="Part of the name, or the organisation number.")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None


class OrganisationCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    org_number: str = Field("", description="Organisasjonsnummer, checked with mod-11.")
    email_domains: list[str] = Field(default_factory=list)
    notes: str = ""
    custom_fields: dict[str, Any] = Field(default_factory=dict)

    @field_validator("org_number")
    @classmethod
    def _org_number(cls, value: str) -> str:
        return check_org_number(value)

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return clean_domains(value)


class OrganisationUpdate(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    org_number: str | None = None
    email_domains: list[str] | None = None
    notes: str | None = None
    custom_fields: dict[str, Any] | None = None

    @field_validator("org_number")
    @classmethod
    def _org_number(cls, value: str | None) -> str | None:
        return None if value is None else check_org_number(value)

    @field_validator("email_domains")
    @classmethod
    def _domains(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_domains(value)

    @field_validator("name", "org_number", "email_domains", "notes", "custom_fields", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null_not_allowed", "This field cannot be null.")
        return value
