"""Cases in the JSON API. Each handler: parse → ``access_case`` → action → schema."""

from __future__ import annotations

from enum import Enum
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, Query, Router, Schema, Status

from skranke.accounts.models import Team, User
from skranke.cases.access import access_case, visible_cases
from skranke.cases.actions import (
    NewAttachment,
    add_message,
    create_case,
    update_case,
)
from skranke.cases.models import Attachment, Case, Category, Message, MessageKind
from skranke.cases.schemas import (
    MAX_PAGE_SIZE,
    AttachmentIn,
    CaseCreate,
    CaseFilters,
    CaseInclude,
    CaseOut,
    CasePage,
    CaseUpdate,
    CustomerRef,
    EventPage,
    MessageCreate,
    MessageOut,
    MessagePage,
)
from skranke.customers.access import access_customer
from skranke.customers.actions import find_or_create_customer
from skranke.customers.models import Customer
from skranke.lib.api import InvalidInput, Loc, as_db_id, user_of
from skranke.lib.cursors import Page, paginate, paginate_ranked
from skranke.search import query as search
from skranke.search.query import cases_in_order

router = Router(tags=["cases"])


class PageParams(Schema):
    limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE)
    cursor: str | None = None


@router.get("", response=CasePage, url_name="case_list")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> Page[Case]:
    """Cases the agent may see, newest change first, one page at a time; with ``q``, the
    matches best first."""
    user = user_of(request)
    cases = filter_cases(visible_cases(user), filters, user)
    loaded = cases.select_related(
        "team", "assignee", "customer", "organisation", "category", "merged_into"
    ).prefetch_related("tags")
    if filters.q.strip():
        return paginate_ranked(
            lambda offset, count: cases_in_order(
                user,
                search.search_cases(user, filters.q, limit=count, offset=offset, within=cases),
                loaded,
            ),
            limit=filters.limit,
            cursor=filters.cursor,
            depth=search.CANDIDATES,
            fetch_cap=search.MAX_LIMIT,
        )
    return paginate(loaded, order=filters.order, limit=filters.limit, cursor=filters.cursor)


@router.post("", response={201: CaseOut}, url_name="case_create")
def create(request: HttpRequest, payload: CaseCreate) -> Status[Case]:
    """Open a case for an existing customer (by id) or one found or created by email/phone."""
    user = user_of(request)
    team = team_from_ref(payload.team, ["body", "team"])
    assignee = agent_from_ref(payload.assignee, ["body", "assignee"])
    category = category_from_ref(payload.category, ["body", "category"])
    # One transaction around both actions: a case that can't be created (an oversize
    # attachment, say) must not leave behind the customer that was created for it.
    with transaction.atomic():
        customer = customer_from_ref(user, payload.customer)
        case = create_case(
            customer=customer,
            subject=payload.subject,
            team=team,
            actor=user,
            body_text=payload.body_text,
            body_html=payload.body_html,
            message_kind=payload.message_kind.value,
            channel=payload.channel.value,
            priority=payload.priority.value,
            type=payload.type.value,
            category=category,
            tags=payload.tags,
            assignee=assignee,
            language=payload.language.value if payload.language else None,
            attachments=new_attachments(payload.attachments),
        )
    return Status(201, case)


@router.get("/{number}", response=CaseOut, url_name="case_detail")
def get(request: HttpRequest, number: int, options: Query[CaseInclude]) -> Case:
    case = access_case(user_of(request), number)
    if options.messages:
        case.api_messages = list(_messages(case).order_by("created_at", "pk"))  # type: ignore[attr-defined]
    return case


@router.patch("/{number}", response=CaseOut, url_name="case_update")
def update(request: HttpRequest, number: int, payload: CaseUpdate) -> Case:
    """Change any of the fields given; each real change writes one event."""
    user = user_of(request)
    case = access_case(user, number, write=True)
    changes: dict[str, Any] = {
        key: value.value if isinstance(value, Enum) else value
        for key, value in payload.model_dump(exclude_unset=True).items()
    }
    if "team" in changes:
        changes["team"] = team_from_ref(changes["team"], ["body", "team"])
    if "assignee" in changes:
        changes["assignee"] = agent_from_ref(changes["assignee"], ["body", "assignee"])
    if "category" in changes:
        changes["category"] = category_from_ref(changes["category"], ["body", "category"])
    update_case(case, actor=user, **changes)
    return case


@router.get("/{number}/messages", response=MessagePage, url_name="case_messages")
def list_messages(request: HttpRequest, number: int, page: Query[PageParams]) -> Page[Message]:
    """The conversation, oldest first, internal notes included."""
    case = access_case(user_of(request), number)
    return paginate(_messages(case), order="created_at", limit=page.limit, cursor=page.cursor)


@router.post("/{number}/messages", response={201: MessageOut}, url_name="case_add_message")
def create_message(request: HttpRequest, number: int, payload: MessageCreate) -> Status[Message]:
    """Reply to the customer, add an internal note, or record what the customer said."""
    user = user_of(request)
    case = access_case(user, number, write=True)
    message = add_message(
        case,
        kind=payload.kind.value,
        actor=user,
        customer=case.customer if payload.kind == MessageKind.CUSTOMER else None,
        body_text=payload.body_text,
        body_html=payload.body_html,
        attachments=new_attachments(payload.attachments),
        new_status=payload.status.value if payload.status else None,
    )
    return Status(201, _messages(case).get(pk=message.pk))


@router.get("/{number}/events", response=EventPage, url_name="case_events")
def list_events(request: HttpRequest, number: int, page: Query[PageParams]) -> Page[Any]:
    """The case's history: every change, with who made it and when."""
    case = access_case(user_of(request), number)
    events = case.events.select_related("actor")
    return paginate(events, order="created_at", limit=page.limit, cursor=page.cursor)


@router.get(
    "/{number}/attachments/{attachment_id}",
    url_name="case_attachment",
    response={200: None},
    openapi_extra={"responses": {"200": {"description": "The file", "content": {"*/*": {}}}}},
)
def download_attachment(request: HttpRequest, number: int, attachment_id: int) -> FileResponse:
    case = access_case(user_of(request), number)
    attachment = Attachment.objects.filter(message__case=case, pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such attachment")
    # Always a download: an uploaded HTML file must never render on Skranke's origin.
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


# --- Parsing helpers --------------------------------------------------------------------------


def _messages(case: Case) -> QuerySet[Message]:
    return case.messages.select_related("author").prefetch_related("attachments")


def filter_cases(cases: QuerySet[Case], filters: CaseFilters, user: User) -> QuerySet[Case]:
    if filters.status:
        cases = cases.filter(status__in=[s.value for s in filters.status])
    if filters.priority:
        cases = cases.filter(priority__in=[p.value for p in filters.priority])
    if filters.type:
        cases = cases.filter(type__in=[t.value for t in filters.type])
    if filters.channel:
        cases = cases.filter(channel__in=[c.value for c in filters.channel])
    if filters.team:
        by_team = Q(team__slug=filters.team)
        if (team_id := as_db_id(filters.team)) is not None:
            by_team |= Q(team_id=team_id)
        cases = cases.filter(by_team)
    if filters.assignee:
        who = filters.assignee.strip().lower()
        if who == "me":
            cases = cases.filter(assignee=user)
        elif who == "none":
            cases = cases.filter(assignee__isnull=True)
        elif (agent_id := as_db_id(who)) is not None:
            cases = cases.filter(assignee_id=agent_id)
        else:
            cases = cases.filter(assignee__email=who)
    if filters.customer is not None:
        cases = cases.filter(customer_id=filters.customer)
    if filters.organisation is not None:
        cases = cases.filter(organisation_id=filters.organisation)
    if filters.tag:
        cases = cases.filter(tags__name=filters.tag.strip().lower())
    if filters.updated_after:
        cases = cases.filter(updated_at__gt=filters.updated_after)
    return cases


def new_attachments(items: list[AttachmentIn]) -> list[NewAttachment]:
    return [
        NewAttachment(
            filename=item.filename, content=item.content_base64, content_type=item.content_type
        )
        for item in items
    ]


def team_from_ref(ref: int | str, loc: Loc) -> Team:
    team = None
    if (team_id := as_db_id(ref)) is not None:
        team = Team.objects.filter(pk=team_id).first()
    if team is None and isinstance(ref, str):
        team = Team.objects.filter(slug=ref).first()
    if team is None:
        raise InvalidInput(loc, f"No team with id or slug {ref!r}.", "unknown_team")
    return team


def agent_from_ref(ref: int | str | None, loc: Loc) -> User | None:
    if ref is None:
        return None
    agents = User.objects.filter(is_active=True)
    if (agent_id := as_db_id(ref)) is not None:
        agent = agents.filter(pk=agent_id).first()
    elif isinstance(ref, int):
        agent = None
    else:
        agent = agents.filter(email=ref.strip().lower()).first()
    if agent is None:
        raise InvalidInput(loc, f"No active agent with id or email {ref!r}.", "unknown_agent")
    return agent


def category_from_ref(ref: int | str | None, loc: Loc) -> Category | None:
    if ref is None:
        return None
    if (category_id := as_db_id(ref)) is not None:
        category = Category.objects.filter(pk=category_id).first()
    elif isinstance(ref, int):
        category = None
    else:
        category = Category.objects.filter(name__iexact=ref.strip()).first()
    if category is None:
        raise InvalidInput(loc, f"No category with id or name {ref!r}.", "unknown_category")
    return category


_CONTACT_FIELDS = {"emails": "email", "phones": "phone"}


def customer_from_ref(user: User, ref: CustomerRef) -> Customer:
    if ref.id is not None:
        try:
            customer = access_customer(user, ref.id)
        except Http404:
            raise InvalidInput(
                ["body", "customer", "id"], f"No customer with id {ref.id}.", "unknown_customer"
            ) from None
        if customer.merged_into_id:
            raise InvalidInput(
                ["body", "customer", "id"],
                f"Customer {ref.id} was merged into customer {customer.merged_into_id}; "
                "use that id.",
                "merged_customer",
            )
        return customer
    try:
        return find_or_create_customer(email=ref.email or "", phone=ref.phone or "", name=ref.name)
    except ValidationError as exc:
        # Report the clash where the client put the value: customer.email / customer.phone.
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError(
            {f"customer.{_CONTACT_FIELDS.get(k, k)}": v for k, v in exc.error_dict.items()}
        ) from exc
