"""The agent workspace: queues, the case page and the new-case form.

Views are thin: read through ``access``, write through ``actions``, render one template per
screen. htmx requests get a partial of the same template (``template#partial``), so the first
render, the htmx swap and the live refresh after a websocket ``case.changed`` share markup.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from skranke.accounts.models import Team
from skranke.cases import actions, queues
from skranke.cases.access import access_case, visible_cases
from skranke.cases.forms import (
    BulkForm,
    CaseNumberForm,
    CasePropertiesForm,
    NewCaseForm,
    QueueFilterForm,
    ReplyForm,
    active_agents,
    to_attachments,
)
from skranke.cases.models import Case, CaseLink, MessageKind, Status
from skranke.cases.timeline import message_entry, timeline
from skranke.customers.access import access_customer
from skranke.customers.actions import find_or_create_customer
from skranke.customers.models import Customer
from skranke.lib.widgets import option_tags
from skranke.mail import actions as mail_actions
from skranke.search.query import find_case_by_number, search_customers

# --- queues ---------------------------------------------------------------------------------------


def _queue_context(request: HttpRequest, slug: str) -> dict[str, Any]:
    queue = queues.QUEUES.get(slug)
    if queue is None:
        raise Http404("No such queue")
    form = QueueFilterForm(request.GET)
    filters = form.filters
    user = request.user
    cases = queues.apply_filters(queue.build(user), filters, user)  # type: ignore[arg-type]
    text = (filters.get("q") or "").strip()
    sort_key = filters.get("sort") or (queues.RELEVANCE if text else queue.default_sort)
    if text:
        page = queues.search_page(cases, user, text, sort_key, filters.get("page") or 1)  # type: ignore[arg-type]
    else:
        if sort_key == queues.RELEVANCE:
            sort_key = queue.default_sort
        page = queues.queue_page(
            queue,
            cases,
            sort_key,
            filters.get("page") or 1,
            one_priority=bool(filters.get("priority")),
            narrowed=any(filters.get(k) for k in ("channel", "type", "team", "tag")),
        )
    params = {k: v for k, v in request.GET.items() if v and k != "page"}
    active_filters = [
        k
        for k in ("status", "priority", "channel", "type", "team", "assignee", "tag", "q")
        if params.get(k)
    ]
    base = reverse("cases:queue_named", args=[queue.slug])
    # The agent lists (filter and bulk bar) are written in Python, and only when the full page
    # is drawn: a template loop over hundreds of agents, twice, was most of the page's server
    # time (docs/benchmarks.md).
    agents = cache(lambda: list(active_agents().values_list("pk", "name")))
    assignee = str(form["assignee"].value() or "")
    return {
        "queue": queue,
        "active_queue": queue.slug,
        "form": form,
        "page": page,
        "sort_key": sort_key,
        "filtered": bool(active_filters),
        "list_url": base
        + ("?" + urlencode({**params, "page": page.number}) if params or page.number > 1 else ""),
        "queue_url": base,
        "next_url": base + "?" + urlencode({**params, "page": page.number + 1}),
        "previous_url": base + "?" + urlencode({**params, "page": page.number - 1}),
        "bulk_form": BulkForm(),
        "assignee_value": assignee,
        "assignee_options": lambda: option_tags(agents(), selected=assignee),
        "agent_options": lambda: option_tags(agents()),
        "team_value": str(form["team"].value() or ""),
        "teams": Team.objects.all(),
        "statuses": Status.choices,
    }


@require_GET
def queue(request: HttpRequest, slug: str = queues.DEFAULT_QUEUE) -> HttpResponse:
    # A case number typed in the search box goes straight to the case.
    case = find_case_by_number(request.user, request.GET.get("q", ""))  # type: ignore[arg-type]
    if case is not None:
        return redirect(case)
    context = _queue_context(request, slug)
    if request.htmx and request.htmx.target == "queue-list":  # type: ignore[attr-defined]
        return render(request, "cases/queue.html#queue_list", context)
    return render(request, "cases/queue.html", context)


@require_GET
def queue_nav(request: HttpRequest) -> HttpResponse:
    """The sidebar queues with counts, refreshed by desk.js after a ``case.changed``."""
    return render(request, "base.html#queue_nav", {"active_queue": request.GET.get("active", "")})


@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    back = request.POST.get("next") or reverse("cases:queue")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("cases:queue")
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(str(e) for e in error))
        return _back_to_list(request, back)
    data = form.cleaned_data
    # Only cases the agent can see; numbers of other teams' cases are silently ignored.
    cases = list(visible_cases(request.user).filter(number__in=data["numbers"]))  # type: ignore[arg-type]
    if data["action"] == "assign_me":
        changes: dict[str, Any] = {"assignee": request.user}
    elif data["action"] == "assign":
        changes = {"assignee": data["assignee"]}
    elif data["action"] == "unassign":
        changes = {"assignee": None}
    else:
        changes = {"status": data["status"]}
    try:
        changed = actions.bulk_update_cases(cases, actor=request.user, **changes)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back_to_list(request, back)
    messages.success(request, _("%(count)s cases updated.") % {"count": changed})
    return _back_to_list(request, back)


def _back_to_list(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        # The list refreshes itself (and shows the messages) when it hears this event.
        response = HttpResponse("")
        response["HX-Trigger"] = "queue-refresh"
        return response
    return redirect(url)


# --- the case page --------------------------------------------------------------------------------


def _case_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    user = request.user
    seen = visible_cases(user)  # type: ignore[arg-type]
    # Linked ids first (two index look-ups on CaseLink), then the cases: an OR across the two
    # link joins made the planner walk every case of the agent's teams (bench/bench_pages.py).
    link_pairs = CaseLink.objects.filter(Q(from_case=case) | Q(to_case=case)).values_list(
        "from_case_id", "to_case_id"
    )
    linked_ids = {to if frm == case.pk else frm for frm, to in link_pairs} - {case.pk}
    linked = (
        seen.filter(pk__in=linked_ids).select_related("assignee") if linked_ids else seen.none()
    )
    other_cases = (
        seen.filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .order_by("-created_at")
        .only("number", "subject", "status", "created_at", "channel")[:10]
    )
    customer = (
        Customer.objects.filter(pk=case.customer_id)
        .select_related("organisation")
        .prefetch_related("emails", "phones")
        .first()
    )
    return {
        "case": case,
        "entries": timeline(case),
        "customer": customer,
        "other_cases": other_cases,
        "linked_cases": linked,
        "properties_form": forms.get("properties_form") or CasePropertiesForm.for_case(case),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "merge_form": forms.get("merge_form") or CaseNumberForm(prefix="merge"),
        "link_form": forms.get("link_form") or CaseNumberForm(prefix="link"),
        "statuses": Status,
        "merged_into": case.merged_into,
    }


@require_GET
def detail(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number)  # type: ignore[arg-type]
    return render(request, "cases/detail.html", _case_context(request, case))


@require_GET
def timeline_partial(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number)  # type: ignore[arg-type]
    # The header (status, assignee) comes along out of band; forms with unsaved input don't.
    context = {"case": case, "entries": timeline(case)}
    html = render(request, "cases/detail.html#timeline", context).content.decode()
    html += render(
        request, "cases/detail.html#case_header", {**context, "oob": True}
    ).content.decode()
    return HttpResponse(html)


def properties(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number, write=request.method == "POST")  # type: ignore[arg-type]
    if request.method == "GET":
        form = CasePropertiesForm.for_case(case)
        return render(
            request, "cases/detail.html#properties", {"case": case, "properties_form": form}
        )
    if request.method != "POST":
        return HttpResponse(status=405)
    form = CasePropertiesForm.for_case(case, request.POST)
    if form.is_valid():
        try:
            actions.update_case(case, actor=request.user, **form.changes())  # type: ignore[arg-type]
        except ValidationError as exc:
            _errors_to_form(form, exc)
    if form.errors:
        return _rerender(request, case, "properties", properties_form=form)
    return _after_write(request, case, _("Saved."))


@require_POST
def reply(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number, write=True)  # type: ignore[arg-type]
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_message(
                case,
                kind=data["kind"],
                body_text=data["body"],
                actor=request.user,  # type: ignore[arg-type]
                attachments=to_attachments(data["attachments"]),
                new_status=data["status"] or None,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return _rerender(request, case, "reply_form", reply_form=form)
    sent = _("Note added.") if form.cleaned_data["kind"] == MessageKind.NOTE else _("Reply sent.")
    return _after_write(request, case, sent, parts=(*_REFRESHED_PARTS, "reply_form"))


@require_POST
def quick(request: HttpRequest, number: int) -> HttpResponse:
    """One-key actions from the case page and the keyboard: assign to me, solve."""
    case = access_case(request.user, number, write=True)  # type: ignore[arg-type]
    what = request.POST.get("do")
    if what == "assign_me":
        actions.assign_case(case, request.user, actor=request.user)  # type: ignore[arg-type]
        note = _("Assigned to you.")
    elif what == "solve":
        actions.update_case(case, actor=request.user, status=Status.SOLVED)  # type: ignore[arg-type]
        note = _("Case solved.")
    else:
        return HttpResponse(_("Unknown action."), status=400)
    return _after_write(request, case, note)


@require_POST
def merge(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number, write=True)  # type: ignore[arg-type]
    form, target = _other_case_from_form(request, "merge")
    if target is not None:
        try:
            actions.merge_cases(case, target, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error("number", exc)
        else:
            messages.success(
                request, _("Merged into case #%(number)s.") % {"number": target.number}
            )
            return _redirect(request, target.get_absolute_url())
    return _rerender(request, case, "merge_form", merge_form=form)


@require_POST
def link(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number, write=True)  # type: ignore[arg-type]
    form, other = _other_case_from_form(request, "link")
    if other is not None:
        try:
            actions.link_cases(case, other, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_error("number", exc)
        else:
            return _after_write(request, case, _("Cases linked."))
    return _rerender(request, case, "merge_form", link_form=form)


def _other_case_from_form(request: HttpRequest, prefix: str) -> tuple[CaseNumberForm, Case | None]:
    """The case a merge or link form names, if the user may see it; errors go on the form."""
    form = CaseNumberForm(request.POST, prefix=prefix)
    if not form.is_valid():
        return form, None
    other = visible_cases(request.user).filter(number=form.cleaned_data["number"]).first()  # type: ignore[arg-type]
    if other is None:
        form.add_error("number", _("No case with that number."))
    return form, other


@require_GET
def attachment(request: HttpRequest, number: int, attachment_id: int) -> FileResponse:
    case = access_case(request.user, number)  # type: ignore[arg-type]
    from skranke.cases.models import Attachment

    item = Attachment.objects.filter(pk=attachment_id, message__case=case).first()
    if item is None:
        raise Http404("No such attachment")
    return FileResponse(
        item.file.open("rb"),
        as_attachment=True,
        filename=item.filename,
        content_type=item.content_type,
    )


@require_POST
def retry_delivery(request: HttpRequest, number: int, message_id: int) -> HttpResponse:
    """The "retry" button on a reply that failed to send; swaps in the message itself."""
    case = access_case(request.user, number, write=True)  # type: ignore[arg-type]
    message = case.messages.filter(pk=message_id, kind=MessageKind.REPLY).first()
    if message is None:
        raise Http404("No such message")
    error = ""
    try:
        mail_actions.retry_delivery(message)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            messages.error(request, error)
        else:
            messages.success(request, _("Sending the reply again."))
        return redirect(case.get_absolute_url())
    message = (
        case.messages.prefetch_related("attachments").select_related("author").get(pk=message.pk)
    )
    context = {
        "case": case,
        "m": message,
        "entry": message_entry(message, case),
        "retry_error": error,
    }
    return render(request, "cases/detail.html#message", context)


def _errors_to_form(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _rerender(request: HttpRequest, case: Case, partial: str, **forms: Any) -> HttpResponse:
    """Invalid input: show the form again with its errors; nothing was written."""
    context = _case_context(request, case, **forms)
    if request.htmx:  # type: ignore[attr-defined]
        # The case page's forms swap nothing themselves; every fragment comes back out of band.
        context["oob"] = True
        return render(request, f"cases/detail.html#{partial}", context)
    return render(request, "cases/detail.html", context, status=400)


_REFRESHED_PARTS = ("case_header", "timeline", "properties", "merge_form")


def _render_parts(
    request: HttpRequest, context: dict[str, Any], parts: tuple[str, ...]
) -> HttpResponse:
    html = "".join(
        render(request, f"cases/detail.html#{name}", context).content.decode() for name in parts
    )
    return HttpResponse(html)


def _after_write(
    request: HttpRequest, case: Case, note: str, *, parts: tuple[str, ...] = _REFRESHED_PARTS
) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        case = access_case(request.user, case.number)  # type: ignore[arg-type]
        context = _case_context(request, case)
        context.update(oob=True, flash=note)
        return _render_parts(request, context, parts)
    messages.success(request, note)
    return redirect(case.get_absolute_url())


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- new case (phone call, walk-in) ---------------------------------------------------------------


def new_case(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = NewCaseForm(request.POST, request.FILES)
        case = None
        if form.is_valid():
            case = _register_case(request, form)
        if case is not None:
            messages.success(request, _("Case #%(number)s created.") % {"number": case.number})
            return _redirect(request, case.get_absolute_url())
        status = 200 if request.htmx else 400  # type: ignore[attr-defined]
    else:
        first_team = user.teams.first()  # type: ignore[union-attr]
        preset = request.GET.get("customer", "")
        form = NewCaseForm(
            initial={
                "team": first_team.pk if first_team else None,
                "customer_id": int(preset) if preset.isdigit() else None,
            }
        )
        status = 200
    picked = _picked_customer(request, form)
    return render(request, "cases/new.html", {"form": form, "picked": picked}, status=status)


def _picked_customer(request: HttpRequest, form: NewCaseForm) -> Customer | None:
    raw = form["customer_id"].value()
    if raw and str(raw).isdigit():
        try:
            return access_customer(request.user, int(raw))  # type: ignore[arg-type]
        except Http404:
            return None
    return None


def _register_case(request: HttpRequest, form: NewCaseForm) -> Case | None:
    data = form.cleaned_data
    try:
        # The customer and the case are one registration: a failure in either writes neither.
        with transaction.atomic():
            if data["customer_id"]:
                customer = access_customer(request.user, data["customer_id"])  # type: ignore[arg-type]
            else:
                customer = find_or_create_customer(
                    email=data["customer_email"],
                    phone=data["customer_phone"],
                    name=data["customer_name"],
                )
            return actions.create_case(
                customer=customer,
                subject=data["subject"],
                team=data["team"],
                actor=request.user,  # type: ignore[arg-type]
                body_text=data["body"],
                message_kind=data["message_kind"],
                channel=data["channel"],
                priority=data["priority"],
                type=data["type"],
                assignee=request.user if data["assign_to_me"] else None,  # type: ignore[arg-type]
                attachments=to_attachments(data["attachments"]),
            )
    except Http404:
        form.add_error(None, _("That customer no longer exists."))
    except ValidationError as exc:
        _errors_to_form(form, exc)
    return None


@require_GET
def customer_lookup(request: HttpRequest) -> HttpResponse:
    """Matches while the agent types an email, phone number or name on the new-case form."""
    fields = ("customer_email", "customer_phone", "customer_name")
    trigger = request.htmx.trigger_name if request.htmx else None  # type: ignore[attr-defined]
    order = [trigger, *fields] if trigger in fields else list(fields)
    text = next(
        (request.GET.get(f, "").strip() for f in order if request.GET.get(f, "").strip()), ""
    )
    matches = search_customers(request.user, text, limit=6) if text else []  # type: ignore[arg-type]
    return render(
        request, "cases/new.html#customer_matches", {"matches": matches, "searched": bool(text)}
    )


@require_GET
def customer_pick(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("customer", "")
    picked = access_customer(request.user, int(raw)) if raw.isdigit() else None  # type: ignore[arg-type]
    return render(request, "cases/new.html#customer_box", {"picked": picked, "form": NewCaseForm()})
