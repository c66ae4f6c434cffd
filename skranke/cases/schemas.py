"""What the API accepts and returns for cases, messages and events."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.urls import reverse
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from skranke.cases.models import CaseType, Channel, MessageKind, Priority, Status
from skranke.customers.models import Language
from skranke.lib.validators import normalise_phone

MAX_PAGE_SIZE = 200


class Input(Schema):
    # A misspelt field must not be silently ignored (a PATCH that "succeeds" and changes nothing).
    model_config = ConfigDict(extra="forbid")


# --- Output -----------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    slug: str
    name: str


class AgentOut(Schema):
    id: int
    name: str
    email: str


class CustomerSummary(Schema):
    id: int
    name: str


class OrganisationSummary(Schema):
    id: int
    name: str


class CategoryOut(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool
    url: str

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return reverse(
            "api:case_attachment",
            kwargs={"number": obj.message.case.number, "attachment_id": obj.pk},
        )


class MessageOut(Schema):
    id: int
    kind: MessageKind
    channel: Channel
    author: AgentOut | None
    customer_id: int | None
    body_text: str
    body_html: str = Field(description="Sanitised HTML (nh3).")
    created_at: datetime
    delivery_status: str
    attachments: list[AttachmentOut]


class EventOut(Schema):
    id: int
    kind: str
    actor: AgentOut | None
    created_at: datetime
    old_value: str
    new_value: str
    data: dict[str, Any]


class CaseOut(Schema):
    number: int
    subject: str
    status: Status
    priority: Priority
    type: CaseType
    channel: Channel
    category: CategoryOut | None
    tags: list[str]
    team: TeamOut
    assignee: AgentOut | None
    customer: CustomerSummary
    organisation: OrganisationSummary | None
    language: Language
    follow_up_at: datetime | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    message_count: int
    merged_into: int | None = Field(description="Number of the case this one was merged into.")
    url: str = Field(description="The case page in the agent workspace.")
    messages: list[MessageOut] | None = Field(None, description="Only with ?include=messages.")

    @staticmethod
    def resolve_tags(obj: Any) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())

    @staticmethod
    def resolve_merged_into(obj: Any) -> int | None:
        return obj.merged_into.number if obj.merged_into_id else None

    @staticmethod
    def resolve_url(obj: Any) -> str:
        return str(obj.get_absolute_url())

    @staticmethod
    def resolve_messages(obj: Any) -> list[Any] | None:
        # Set by the handler only when the client asked for them.
        return getattr(obj, "api_messages", None)


class CasePage(Schema):
    items: list[CaseOut]
    next: str | None = Field(description="Pass as ?cursor= for the next page; null on the last.")


class MessagePage(Schema):
    items: list[MessageOut]
    next: str | None


class EventPage(Schema):
    items: list[EventOut]
    next: str | None


# --- Input ------------------------------------------------------------------------------------


def check_email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise PydanticCustomError(
            "invalid_email", "{value} is not a valid email address.", {"value": value}
        ) from None
    return value.strip().lower()


def check_phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except DjangoValidationError:
        raise PydanticCustomError(
            "invalid_phone", "{value} is not a valid phone number.", {"value": value}
        ) from None


EmailAddress = Annotated[str, AfterValidator(check_email)]
PhoneNumber = Annotated[
    str, AfterValidator(check_phone), Field(description="Any format; stored as E.164.")
]


class CaseFilters(Schema):
    q: str = Field(
        "",
        description="Search text: subject, messages, notes, customer name and email; Bokmål "
        "inflections match (`fakturaen` finds `faktura`), `#12345` puts that case first. "
        "Results come best first (`order` is ignored) and stop after 1000.",
    )
    status: list[Status] = Field(default_factory=list, description="Repeat for several.")
    priority: list[Priority] = Field(default_factory=list)
    type: list[CaseType] = Field(default_factory=list)
    channel: list[Channel] = Field(default_factory=list)
    team: str | None = Field(None, description="Team id or slug.")
    assignee: str | None = Field(None, description="Agent id or email, `me`, or `none`.")
    customer: int | None = Field(None, ge=1, le=2**63 - 1, description="Customer id.")
    organisation: int | None = Field(None, ge=1, le=2**63 - 1, description="Organisation id.")
    tag: str | None = None
    updated_after: AwareDatetime | None = Field(None, description="ISO 8601 with offset.")
    order: Literal["-updated_at", "updated_at"] = Field(
        "-updated_at",
        description="Newest first (default), or oldest first — use `updated_at` with "
        "`updated_after` to sync changes without missing any.",
    )
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None


class CaseInclude(Schema):
    include: str = Field("", description="Comma-separated: `messages`.")

    @field_validator("include")
    @classmethod
    def _known(cls, value: str) -> str:
        unknown = {p.strip() for p in value.split(",") if p.strip()} - {"messages"}
        if unknown:
            raise PydanticCustomError(
                "unknown_include",
                "Unknown include: {names}. Allowed: messages.",
                {"names": ", ".join(sorted(unknown))},
            )
        return value

    @property
    def messages(self) -> bool:
        return "messages" in {p.strip() for p in self.include.split(",")}


def decode_base64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a base64 string")
    try:
        # validate=True: refuse stray characters instead of silently dropping them.
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise PydanticCustomError(
            "base64_decode", "Not valid base64 (RFC 4648, standard alphabet, padded)."
        ) from None


Base64Content = Annotated[
    bytes,
    PlainValidator(decode_base64),
    WithJsonSchema({"type": "string", "format": "base64"}),
]


class AttachmentIn(Input):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", max_length=150)
    content_base64: Base64Content = Field(description="The file's bytes, base64-encoded.")


class CustomerRef(Input):
    """An existing customer by id, or found (or created) by email address and/or phone."""

    id: int | None = None
    email: EmailAddress | None = None
    phone: PhoneNumber | None = None
    name: str = Field("", max_length=200, description="Used when a new customer is created.")

    @model_validator(mode="after")
    def _one_way(self) -> CustomerRef:
        if self.id is None and not (self.email or self.phone):
            raise PydanticCustomError(
                "customer_required", "Give the customer's id, or an email address or phone."
            )
        if self.id is not None and (self.email or self.phone):
            raise PydanticCustomError(
                "customer_ambiguous", "Give either the customer's id or email/phone, not both."
            )
        return self


class CaseCreate(Input):
    customer: CustomerRef
    subject: str = Field(min_length=1, max_length=300)
    team: int | str = Field(description="Team id or slug.")
    body_text: str = ""
    body_html: str = ""
    message_kind: MessageKind = Field(
        MessageKind.CUSTOMER,
        description="Whose words the first message is: the customer's (default), a reply or a note.",
    )
    priority: Priority = Priority.NORMAL
    type: CaseType = CaseType.QUESTION
    channel: Channel = Channel.API
    category: int | str | None = Field(None, description="Category id or name.")
    assignee: int | str | None = Field(None, description="Agent id or email.")
    language: Language | None = None
    tags: list[str] = Field(default_factory=list)
    attachments: list[AttachmentIn] = Field(default_factory=list)


class CaseUpdate(Input):
    """Only the fields present are changed; ``null`` clears assignee, category or follow-up."""

    subject: str | None = Field(None, min_length=1, max_length=300)
    status: Status | None = None
    priority: Priority | None = None
    type: CaseType | None = None
    category: int | str | None = Field(None, description="Category id or name.")
    team: int | str | None = Field(None, description="Team id or slug.")
    assignee: int | str | None = Field(None, description="Agent id or email.")
    tags: list[str] | None = Field(None, description="Replaces the case's tags.")
    follow_up_at: AwareDatetime | None = None

    @field_validator("subject", "status", "priority", "type", "team", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Runs only for fields the client sent, so "absent" still means "leave unchanged".
        if value is None:
            raise PydanticCustomError("null_not_allowed", "This field cannot be null.")
        return value


class MessageCreate(Input):
    kind: MessageKind = Field(MessageKind.REPLY, description="reply, note or customer.")
    body_text: str = ""
    body_html: str = Field("", description="Sanitised (nh3) before it is stored.")
    status: Status | None = Field(None, description="Set the case's status in the same step.")
    attachments: list[AttachmentIn] = Field(default_factory=list)
