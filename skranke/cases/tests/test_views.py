"""Case page, queue and new-case views: access, writes through actions, bad input."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from skranke.cases.actions import create_case, update_case
from skranke.cases.models import Case, CaseEvent, CaseLink, EventKind, Message, MessageKind, Status
from skranke.customers.models import Customer

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def logged_in(client, agent):
    client.force_login(agent)
    return client


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["cases:queue", "cases:new", "cases:queue_nav"],
)
def test_anonymous_is_sent_to_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_anonymous_case_page_redirects(client, case):
    response = client.get(reverse("cases:detail", args=[case.number]))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


GET_PAGES = ["cases:detail", "cases:timeline", "cases:properties"]
POST_PAGES = ["cases:reply", "cases:properties", "cases:quick", "cases:merge", "cases:link"]


@pytest.mark.parametrize("name", GET_PAGES)
def test_other_team_gets_404_on_reads(client, other_agent, case, name):
    client.force_login(other_agent)
    assert client.get(reverse(name, args=[case.number])).status_code == 404


@pytest.mark.parametrize("name", POST_PAGES)
def test_other_team_gets_404_on_writes(client, other_agent, case, name):
    client.force_login(other_agent)
    events = CaseEvent.objects.count()
    response = client.post(
        reverse(name, args=[case.number]),
        {"kind": "reply", "body": "x", "do": "solve", "merge-number": 1, "link-number": 1},
    )
    assert response.status_code == 404
    assert CaseEvent.objects.count() == events


def test_other_team_cannot_fetch_attachment(client, other_agent, case, agent):
    client.force_login(agent)
    client.post(
        reverse("cases:reply", args=[case.number]),
        {"kind": "note", "body": "vedlegg", "attachments": SimpleUploadedFile("a.txt", b"hei")},
    )
    attachment = Message.objects.filter(case=case).last().attachments.get()
    url = reverse("cases:attachment", args=[case.number, attachment.pk])
    assert client.get(url).status_code == 200
    client.force_login(other_agent)
    assert client.get(url).status_code == 404


def test_team_lead_sees_other_teams(client, team_lead, other_case):
    client.force_login(team_lead)
    assert client.get(reverse("cases:detail", args=[other_case.number])).status_code == 200


# --- queues ---------------------------------------------------------------------------------------


def test_queue_lists_my_cases_not_other_teams(logged_in, agent, case, other_case):
    update_case(case, assignee=agent)
    response = logged_in.get(reverse("cases:queue"))
    assert response.status_code == 200
    content = response.content.decode()
    assert case.subject in content
    assert other_case.subject not in content


def test_queue_empty_state(logged_in, db):
    response = logged_in.get(reverse("cases:queue"))
    assert "empty" in response.content.decode()


@pytest.mark.parametrize("slug", ["mine", "unassigned", "open", "follow_up", "solved"])
def test_every_queue_renders(logged_in, case, slug):
    assert logged_in.get(reverse("cases:queue_named", args=[slug])).status_code == 200


def test_unknown_queue_is_404(logged_in, db):
    assert logged_in.get(reverse("cases:queue_named", args=["nope"])).status_code == 404


def test_queue_filters_and_partial(logged_in, case, customer, team):
    urgent = create_case(customer=customer, subject="Haster veldig", team=team, priority="urgent")
    url = reverse("cases:queue_named", args=["open"])
    response = logged_in.get(url, {"priority": "urgent"}, HTTP_HX_TARGET="queue-list", **HTMX)
    content = response.content.decode()
    assert urgent.subject in content
    assert case.subject not in content
    assert "<html" not in content  # a partial, not the page
    # Bad filter values are ignored, not an error.
    assert logged_in.get(url, {"priority": "bogus", "team": "x", "page": "-3"}).status_code == 200


def test_queue_search_by_number_jumps_to_case(logged_in, case):
    response = logged_in.get(reverse("cases:queue_named", args=["open"]), {"q": f"#{case.number}"})
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()


def test_queue_search_for_other_teams_number_does_not_jump(logged_in, other_case):
    response = logged_in.get(
        reverse("cases:queue_named", args=["open"]), {"q": str(other_case.number)}
    )
    assert response.status_code == 200


@pytest.fixture
def invoice_cases(customer, other_customer, team, other_team, search_index):
    """Cases whose text (not subject) says "faktura", in the agent's team and another."""
    mine = create_case(
        customer=customer,
        subject="Mangler brev i mai",
        team=team,
        body_text="Jeg har ikke fått faktura for mai.",
    )
    urgent = create_case(
        customer=customer,
        subject="Dobbel belastning",
        team=team,
        priority="urgent",
        body_text="Faktura nummer to er feil.",
    )
    unrelated = create_case(customer=customer, subject="Ny ruter", team=team, body_text="Hei")
    hidden = create_case(
        customer=other_customer,
        subject="Hemmelig sak",
        team=other_team,
        body_text="Denne faktura er for et annet team.",
    )
    search_index()
    return {"mine": mine, "urgent": urgent, "unrelated": unrelated, "hidden": hidden}


def test_queue_search_matches_inflected_words_in_messages(logged_in, invoice_cases):
    response = logged_in.get(reverse("cases:queue_named", args=["open"]), {"q": "fakturaen"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Mangler brev i mai" in content and "Dobbel belastning" in content
    assert "Ny ruter" not in content
    assert "Hemmelig sak" not in content


def test_queue_search_keeps_the_queue_filters(logged_in, invoice_cases):
    url = reverse("cases:queue_named", args=["open"])
    response = logged_in.get(
        url, {"q": "fakturaen", "priority": "urgent"}, HTTP_HX_TARGET="queue-list", **HTMX
    )
    content = response.content.decode()
    assert "Dobbel belastning" in content and "Mangler brev i mai" not in content
    # Another sort reorders the matches instead of ranking them.
    content = logged_in.get(url, {"q": "fakturaen", "sort": "created"}).content.decode()
    assert content.index("Dobbel belastning") < content.index("Mangler brev i mai")
    assert "Ny ruter" not in content and "Hemmelig sak" not in content


def test_queue_search_other_teams_case_never_shows(client, other_agent, invoice_cases):
    client.force_login(other_agent)
    content = client.get(
        reverse("cases:queue_named", args=["open"]), {"q": "faktura"}
    ).content.decode()
    assert "Hemmelig sak" in content
    assert "Mangler brev i mai" not in content and "Dobbel belastning" not in content


def test_queue_search_pages_through_ranked_matches(agent, customer, team, search_index):
    from skranke.cases import queues

    for i in range(5):
        create_case(customer=customer, subject=f"Faktura {i}", team=team)
    search_index()
    cases = queues.QUEUES["open"].build(agent)
    first = queues.search_page(cases, agent, "faktura", queues.RELEVANCE, 1, size=3)
    second = queues.search_page(cases, agent, "faktura", queues.RELEVANCE, 2, size=3)
    assert (len(first.cases), first.has_next, first.total) == (3, True, None)
    assert (len(second.cases), second.has_next, second.start) == (2, False, 4)
    assert not {c.pk for c in first.cases} & {c.pk for c in second.cases}


def test_queue_pagination_and_capped_count(logged_in, customer, team, settings):
    from skranke.cases import queues

    for i in range(7):
        create_case(customer=customer, subject=f"Sak {i}", team=team)
    page = queues.page_of(queues.sort(Case.objects.all(), "updated"), 2, size=3)
    assert (page.start, page.end, page.has_next, page.total.value) == (4, 6, True, 7)
    queues_cap = queues.COUNT_CAP
    try:
        queues.COUNT_CAP = 5
        total = queues.count(Case.objects.all())
        assert total.capped and str(total) == "5+"
    finally:
        queues.COUNT_CAP = queues_cap


def test_queue_query_count_is_bounded(client, agent, customer, team, django_assert_max_num_queries):
    for i in range(30):
        case = create_case(customer=customer, subject=f"Sak {i}", team=team, tags=["a", f"t{i}"])
        update_case(case, assignee=agent)
    client.force_login(agent)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("cases:queue_named", args=["open"]))
    assert response.content.decode().count("data-row") == 30
    with django_assert_max_num_queries(10):
        client.get(reverse("cases:queue"), HTTP_HX_TARGET="queue-list", **HTMX)


def test_bulk_assign_to_me(logged_in, agent, case, other_case):
    response = logged_in.post(
        reverse("cases:bulk"),
        {"numbers": [case.number, other_case.number], "action": "assign_me"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    other_case.refresh_from_db()
    assert case.assignee == agent
    assert other_case.assignee is None  # another team's case is not touched
    assert case.events.filter(kind=EventKind.ASSIGNEE, actor=agent).exists()


def test_bulk_status_htmx_triggers_refresh(logged_in, case):
    response = logged_in.post(
        reverse("cases:bulk"),
        {"numbers": [case.number], "action": "status", "status": "solved"},
        **HTMX,
    )
    assert response["HX-Trigger"] == "queue-refresh"
    case.refresh_from_db()
    assert case.status == Status.SOLVED


def test_bulk_without_selection_writes_nothing(logged_in, case):
    events = CaseEvent.objects.count()
    logged_in.post(reverse("cases:bulk"), {"action": "status", "status": "solved"})
    logged_in.post(reverse("cases:bulk"), {"numbers": [case.number], "action": "status"})
    assert CaseEvent.objects.count() == events


def test_queue_nav_counts(logged_in, agent, case):
    update_case(case, assignee=agent)
    content = logged_in.get(reverse("cases:queue_nav")).content.decode()
    assert 'id="queue-nav"' in content


# --- case page ------------------------------------------------------------------------------------


def test_case_page_shows_timeline_customer_and_notes(logged_in, agent, case, customer, team):
    from skranke.cases.actions import add_message

    add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Intern merknad her")
    create_case(customer=customer, subject="Eldre sak", team=team)
    content = logged_in.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "Hei, fakturaen min er feil." in content
    assert "msg-note" in content and "Intern merknad her" in content
    assert "per@kunde.no" in content
    assert "Eldre sak" in content


def test_case_page_hides_customers_cases_of_other_teams(logged_in, case, customer, other_team):
    create_case(customer=customer, subject="Hemmelig faktura", team=other_team)
    content = logged_in.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "Hemmelig faktura" not in content


def test_case_page_query_count(client, agent, case, django_assert_max_num_queries):
    from skranke.cases.actions import add_message

    for i in range(10):
        add_message(case, kind=MessageKind.REPLY, actor=agent, body_text=f"svar {i}")
    update_case(case, assignee=agent, priority="high", tags=["x"])
    client.force_login(agent)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("cases:detail", args=[case.number])).status_code == 200


def test_reply_writes_message_and_event(logged_in, agent, case):
    response = logged_in.post(
        reverse("cases:reply", args=[case.number]), {"kind": "reply", "body": "Vi ser på det."}
    )
    assert response.status_code == 302
    message = case.messages.get(kind=MessageKind.REPLY)
    assert message.author == agent and message.body_text == "Vi ser på det."
    case.refresh_from_db()
    assert case.status == Status.OPEN
    assert case.events.filter(kind=EventKind.MESSAGE).exists()


def test_reply_htmx_returns_fragments(logged_in, case):
    response = logged_in.post(
        reverse("cases:reply", args=[case.number]),
        {"kind": "note", "body": "Notat", "status": "pending"},
        **HTMX,
    )
    content = response.content.decode()
    assert 'id="timeline"' in content and 'hx-swap-oob="true"' in content
    assert "Notat" in content
    assert case.messages.filter(kind=MessageKind.NOTE).exists()


def test_empty_reply_is_refused(logged_in, case):
    before = Message.objects.count()
    response = logged_in.post(
        reverse("cases:reply", args=[case.number]), {"kind": "reply", "body": "  "}
    )
    assert response.status_code == 400
    assert Message.objects.count() == before


def test_oversize_attachment_is_refused_with_clear_message(logged_in, case, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 10
    before = (Message.objects.count(), CaseEvent.objects.count())
    upload = SimpleUploadedFile("stor.pdf", b"x" * 11, content_type="application/pdf")
    response = logged_in.post(
        reverse("cases:reply", args=[case.number]),
        {"kind": "reply", "body": "Se vedlegg", "attachments": upload},
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "stor.pdf" in content and "11" in content
    assert (Message.objects.count(), CaseEvent.objects.count()) == before


def test_oversize_attachment_in_norwegian(client, agent, case, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 10
    client.force_login(agent)
    client.cookies["django_language"] = "nb"
    upload = SimpleUploadedFile("stor.pdf", b"x" * 11)
    response = client.post(
        reverse("cases:reply", args=[case.number]),
        {"kind": "reply", "body": "x", "attachments": upload},
        **HTMX,
    )
    assert "største" in response.content.decode()


def test_properties_change_writes_events(logged_in, agent, case, other_team):
    data = {
        "props-status": "pending",
        "props-priority": "high",
        "props-type": "complaint",
        "props-category": "",
        "props-team": case.team_id,
        "props-assignee": agent.pk,
        "props-tags": "faktura, Viktig",
        "props-follow_up_at": "2030-01-02T10:00",
    }
    response = logged_in.post(reverse("cases:properties", args=[case.number]), data)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.priority, case.type, case.assignee) == (
        "pending",
        "high",
        "complaint",
        agent,
    )
    assert sorted(case.tags.values_list("name", flat=True)) == ["faktura", "viktig"]
    kinds = set(case.events.values_list("kind", flat=True))
    assert {
        EventKind.STATUS,
        EventKind.PRIORITY,
        EventKind.TYPE,
        EventKind.ASSIGNEE,
        EventKind.TAGS,
    } <= kinds


def test_properties_bad_input_writes_nothing(logged_in, case):
    events = CaseEvent.objects.count()
    data = {
        "props-status": "pending",
        "props-priority": "nope",
        "props-type": "question",
        "props-team": case.team_id,
    }
    response = logged_in.post(reverse("cases:properties", args=[case.number]), data, **HTMX)
    assert response.status_code == 200
    assert "error" in response.content.decode()
    assert CaseEvent.objects.count() == events
    case.refresh_from_db()
    assert case.status == Status.NEW


def test_quick_assign_and_solve(logged_in, agent, case):
    logged_in.post(reverse("cases:quick", args=[case.number]), {"do": "assign_me"})
    logged_in.post(reverse("cases:quick", args=[case.number]), {"do": "solve"}, **HTMX)
    case.refresh_from_db()
    assert case.assignee == agent and case.status == Status.SOLVED
    assert (
        logged_in.post(reverse("cases:quick", args=[case.number]), {"do": "x"}).status_code == 400
    )


def test_merge_into_other_case(logged_in, case, customer, team):
    target = create_case(customer=customer, subject="Hovedsak", team=team, body_text="første")
    response = logged_in.post(
        reverse("cases:merge", args=[case.number]), {"merge-number": target.number}
    )
    assert response.status_code == 302 and response["Location"] == target.get_absolute_url()
    case.refresh_from_db()
    assert case.merged_into == target and case.status == Status.CLOSED


def test_merge_into_invisible_or_missing_case_is_refused(logged_in, case, other_case):
    for number in (other_case.number, 999999, case.number):
        response = logged_in.post(
            reverse("cases:merge", args=[case.number]), {"merge-number": number}
        )
        assert response.status_code == 400
    case.refresh_from_db()
    assert case.merged_into is None


def test_link_cases(logged_in, case, customer, team):
    other = create_case(customer=customer, subject="Relatert", team=team)
    logged_in.post(reverse("cases:link", args=[case.number]), {"link-number": other.number}, **HTMX)
    assert CaseLink.objects.filter(from_case=case, to_case=other).exists()
    content = logged_in.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert "Relatert" in content


# --- new case -------------------------------------------------------------------------------------


def _new_case_data(team, **extra):
    data = {
        "subject": "Ringte om faktura",
        "body": "Kunden lurer på forfall.",
        "message_kind": "customer",
        "channel": "phone",
        "team": team.pk,
        "priority": "normal",
        "type": "question",
        "assign_to_me": "on",
    }
    data.update(extra)
    return data


def test_new_case_for_known_caller_by_phone(logged_in, agent, customer, team):
    response = logged_in.post(
        reverse("cases:new"), _new_case_data(team, customer_phone="912 34 567")
    )
    case = Case.objects.get(subject="Ringte om faktura")
    assert response.status_code == 302 and response["Location"] == case.get_absolute_url()
    assert case.customer == customer and case.channel == "phone" and case.assignee == agent


def test_new_case_creates_new_customer(logged_in, team):
    logged_in.post(
        reverse("cases:new"),
        _new_case_data(
            team, customer_email="Ny@Kunde.no", customer_name="Nils Ny", channel="walk_in"
        ),
    )
    customer = Customer.objects.get(emails__address="ny@kunde.no")
    assert customer.name == "Nils Ny"
    assert customer.cases.get().channel == "walk_in"


def test_new_case_bad_input_writes_nothing(logged_in, team, settings):
    settings.SKRANKE_MAX_ATTACHMENT_BYTES = 5
    counts = (Customer.objects.count(), Case.objects.count())
    bad = [
        _new_case_data(team),  # no customer
        _new_case_data(team, customer_phone="abc"),
        _new_case_data(team, customer_email="ny@kunde.no", subject=""),
        _new_case_data(
            team, customer_email="ny@kunde.no", attachments=SimpleUploadedFile("x.bin", b"123456")
        ),
    ]
    for data in bad:
        response = logged_in.post(reverse("cases:new"), data)
        assert response.status_code == 400
    assert (Customer.objects.count(), Case.objects.count()) == counts


def test_customer_lookup_as_you_type(logged_in, customer, search_index):
    search_index()
    response = logged_in.get(
        reverse("cases:customer_lookup"), {"customer_email": "per@kunde"}, **HTMX
    )
    assert "Per Kunde" in response.content.decode()
    response = logged_in.get(
        reverse("cases:customer_lookup"), {"customer_phone": "91234567"}, **HTMX
    )
    assert "Per Kunde" in response.content.decode()
    picked = logged_in.get(reverse("cases:customer_pick"), {"customer": customer.pk}, **HTMX)
    assert f'value="{customer.pk}"' in picked.content.decode()


def test_priority_sort(logged_in, customer, team):
    """Rank first, then the last update; with one priority filtered, the last update alone."""
    low = create_case(customer=customer, subject="Lav", team=team, priority="low")
    urgent = create_case(customer=customer, subject="Haster", team=team, priority="urgent")
    high_old = create_case(customer=customer, subject="Høy gammel", team=team, priority="high")
    high_new = create_case(customer=customer, subject="Høy ny", team=team, priority="high")
    update_case(high_new, subject="Høy ny!")
    url = reverse("cases:queue_named", args=["open"])

    def numbers(query: str) -> list[int]:
        html = logged_in.get(url + query).content.decode()
        return [int(part.split('"')[0]) for part in html.split('data-number="')[1:]]

    assert numbers("?sort=priority") == [
        urgent.number,
        high_new.number,
        high_old.number,
        low.number,
    ]
    assert numbers("?sort=priority&priority=high") == [high_new.number, high_old.number]
    assert (
        'value="priority" selected'
        in logged_in.get(url + "?sort=priority&priority=high").content.decode()
    )


def test_queue_columns_line_up_when_narrow_screens_hide_some(logged_in, agent, case):
    """The tablet layout hides columns by class; header and rows must carry the same ones."""
    import re

    from skranke.cases.actions import assign_case

    assign_case(case, agent, actor=agent)
    html = logged_in.get(reverse("cases:queue")).content.decode()
    head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    row = re.search(r"<tbody[^>]*>\s*<tr[^>]*>(.*?)</tr>", html, re.S).group(1)
    head_cells = re.findall(r"<th(?: class=\"([^\"]*)\")?", head)
    row_cells = re.findall(r"<td(?: class=\"([^\"]*)\")?", row)
    assert len(head_cells) == len(row_cells)
    for th_class, td_class in zip(head_cells, row_cells, strict=True):
        hidden = {c for c in td_class.split() if c in {"col-customer", "col-team", "col-assignee"}}
        assert hidden <= set(th_class.split()), (th_class, td_class)
