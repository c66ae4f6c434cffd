"""Search over cases and customers, on whichever engine the suite runs (SQLite or PostgreSQL).

The indexing hooks run after commit, so every test that writes runs its actions inside
``django_capture_on_commit_callbacks(execute=True)``.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from skranke.cases.actions import add_message, create_case, merge_cases, update_case
from skranke.cases.models import MessageKind
from skranke.customers.actions import (
    create_customer,
    create_organisation,
    merge_customers,
    update_customer,
    update_organisation,
)
from skranke.lib.aftercommit import forget_batches
from skranke.search import index
from skranke.search.query import (
    cases_in_order,
    find_case_by_number,
    search_cases,
    search_customers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def indexed(django_capture_on_commit_callbacks):
    """Run actions with their after-commit indexing."""

    def run(func, *args, **kwargs):
        # Fixtures made outside this helper left a batch waiting for the test transaction's
        # commit, which never comes; start a new one that the capture below will run.
        forget_batches()
        with django_capture_on_commit_callbacks(execute=True):
            return func(*args, **kwargs)

    return run


@pytest.fixture
def cases(indexed, customer, other_customer, team, other_team):
    faktura = indexed(
        create_case,
        customer=customer,
        subject="Faktura stemmer ikke",
        team=team,
        body_text="Hei, beløpet er feil.",
    )
    retur = indexed(
        create_case,
        customer=other_customer,
        subject="Vaskemaskin",
        team=team,
        body_text="Jeg vil returnere maskinen, den lekker vann.",
    )
    blåbær = indexed(
        create_case,
        customer=customer,
        subject="Blåbærsyltetøy",
        team=team,
        body_text="Glasset med blåbær var knust ved levering.",
    )
    hidden = indexed(
        create_case,
        customer=other_customer,
        subject="Fakturaen er for høy",
        team=other_team,
        body_text="Hemmelig sak for faktura-teamet.",
    )
    return {"faktura": faktura, "retur": retur, "blåbær": blåbær, "hidden": hidden}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("faktura", "faktura"),  # the subject as written
        ("fakturaen", "faktura"),  # definite form finds the bare noun
        ("FAKTURAER", "faktura"),  # plural, upper case
        ("faktu", "faktura"),  # prefix while typing
        ("retur", "retur"),  # the noun finds the verb "returnere"
        ("returnerte", "retur"),  # past tense finds the infinitive
        ("maskinene", "retur"),  # plural definite finds the definite singular
        ("lekke", "retur"),
        ("BLÅBÆR", "blåbær"),  # æøå, any case
        ("blåbærsylt", "blåbær"),  # start of a compound
        ("knuste glass", "blåbær"),  # several words, all must match
        ("kunde", "faktura"),  # the customer's email address
        ("per kunde", "faktura"),  # the customer's name
    ],
)
def test_bokmål_inflections_match(cases, agent, query, expected):
    assert cases[expected].pk in search_cases(agent, query)


def test_æøå_are_letters_not_their_plain_lookalikes(indexed, customer, team, agent):
    far = indexed(create_case, customer=customer, subject="Far ringte", team=team)
    får = indexed(create_case, customer=customer, subject="Får ikke logget inn", team=team)
    assert search_cases(agent, "far ringte") == [far.pk]
    assert search_cases(agent, "får logget") == [får.pk]


def test_all_words_must_match(cases, agent):
    assert search_cases(agent, "faktura vaskemaskin") == []
    assert search_cases(agent, "vaskemaskin lekker") == [cases["retur"].pk]


def test_subject_ranks_above_body(indexed, customer, team, agent):
    in_body = indexed(
        create_case,
        customer=customer,
        subject="Spørsmål",
        team=team,
        body_text="Gjelder en router jeg kjøpte.",
    )
    in_subject = indexed(
        create_case, customer=customer, subject="Router virker ikke", team=team, body_text="Hei."
    )
    assert search_cases(agent, "router") == [in_subject.pk, in_body.pk]


def test_agent_never_sees_other_teams_cases(cases, agent, other_agent):
    assert cases["hidden"].pk not in search_cases(agent, "faktura")
    assert search_cases(other_agent, "faktura") == [cases["hidden"].pk]
    assert search_cases(other_agent, "vaskemaskin") == []
    # Not by number either.
    assert find_case_by_number(agent, f"#{cases['hidden'].number}") is None
    assert cases["hidden"].pk not in search_cases(agent, str(cases["hidden"].number))


def test_moving_a_case_to_another_team_moves_it_in_search(
    indexed, cases, agent, other_agent, other_team
):
    case = cases["retur"]
    indexed(update_case, case, actor=agent, team=other_team)
    assert search_cases(agent, "vaskemaskin") == []
    assert search_cases(other_agent, "vaskemaskin") == [case.pk]


def test_agent_without_team_finds_nothing(cases, agent, team):
    team.members.remove(agent)
    assert search_cases(agent, "faktura") == []


def test_team_lead_sees_all_teams(cases, team_lead):
    found = search_cases(team_lead, "faktura")
    assert set(found) == {cases["faktura"].pk, cases["hidden"].pk}


def test_inactive_user_finds_nothing(cases, agent):
    agent.is_active = False
    agent.save()
    assert search_cases(agent, "faktura") == []


def test_case_number_goes_first(cases, agent):
    case = cases["retur"]
    assert find_case_by_number(agent, f"#{case.number}") == case
    assert find_case_by_number(agent, f" {case.number} ") == case
    assert find_case_by_number(agent, "vaskemaskin") is None
    assert search_cases(agent, f"#{case.number}")[0] == case.pk


def test_reply_and_note_are_searchable(indexed, cases, agent):
    case = cases["faktura"]
    assert search_cases(agent, "kreditnota") == []
    indexed(
        add_message,
        case,
        kind=MessageKind.REPLY,
        actor=agent,
        body_text="Vi har sendt deg en kreditnota.",
    )
    assert search_cases(agent, "kreditnotaen") == [case.pk]
    indexed(add_message, case, kind=MessageKind.NOTE, actor=agent, body_text="Sjekk med regnskap.")
    assert search_cases(agent, "regnskapet") == [case.pk]


def test_html_only_message_is_searchable(indexed, cases, agent):
    case = cases["faktura"]
    indexed(
        add_message,
        case,
        kind=MessageKind.CUSTOMER,
        body_html="<p>Jeg venter p&aring; <b>purringen</b></p>",
    )
    assert search_cases(agent, "purring på") == [case.pk]


def test_subject_change_is_indexed(indexed, cases, agent):
    case = cases["retur"]
    indexed(update_case, case, actor=agent, subject="Oppvaskmaskin lekker")
    assert search_cases(agent, "oppvaskmaskin") == [case.pk]
    assert search_cases(agent, "vaskemaskin") == []


def test_merge_moves_the_text(indexed, cases, agent):
    source, target = cases["blåbær"], cases["faktura"]
    indexed(merge_cases, source, target, actor=agent)
    assert search_cases(agent, "knust glass") == [target.pk]
    # The closed source keeps its subject.
    assert search_cases(agent, "blåbærsyltetøy") == [source.pk]


def test_rolled_back_change_is_not_indexed(cases, agent, django_capture_on_commit_callbacks):
    from django.db import transaction

    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                update_case(cases["retur"], actor=agent, subject="Tørketrommel")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert search_cases(agent, "tørketrommel") == []


def test_messages_are_appended_once_per_transaction_without_a_rebuild(
    cases, agent, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import transaction

    from skranke.search.backends import backend

    engine = backend()
    appended: list[tuple[int, str]] = []
    rebuilt: list[list[int]] = []
    real_append = engine.append_case_body
    monkeypatch.setattr(
        engine,
        "append_case_body",
        lambda pk, text: appended.append((pk, text)) or real_append(pk, text),
    )
    monkeypatch.setattr(index, "reindex_cases", lambda ids: rebuilt.append(list(ids)))
    case = cases["faktura"]
    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for text in ("Kjøleskap", "Fryseboks", "Oppvaskmaskin"):
                add_message(case, kind=MessageKind.NOTE, actor=agent, body_text=text)
    # One write for the whole transaction, and nothing read back or rebuilt.
    assert appended == [(case.pk, "Kjøleskap\nFryseboks\nOppvaskmaskin")]
    assert rebuilt == []
    assert search_cases(agent, "fryseboks") == [case.pk]
    assert search_cases(agent, "beløpet") == [case.pk]  # the opening message is still there


def test_a_case_without_a_document_is_rebuilt_when_a_message_comes(cases, agent, indexed):
    case = cases["retur"]
    index.backend().delete_cases([case.pk])
    assert search_cases(agent, "lekker") == []
    indexed(add_message, case, kind=MessageKind.NOTE, actor=agent, body_text="Ringte kunden")
    # Rebuilt from every message, not only the new one.
    assert search_cases(agent, "lekker") == [case.pk]
    assert search_cases(agent, "ringte") == [case.pk]


def test_a_full_document_is_rebuilt_instead_of_growing(cases, agent, indexed, monkeypatch):
    engine = index.backend()
    limit = "MAX_APPEND_DOCUMENT_BYTES" if hasattr(engine, "MAX_APPEND_DOCUMENT_BYTES") else None
    monkeypatch.setattr(engine, limit or "MAX_APPEND_BODY_CHARS", 1)
    rebuilt: list[list[int]] = []
    real = index.reindex_cases
    monkeypatch.setattr(index, "reindex_cases", lambda ids: rebuilt.append(list(ids)) or real(ids))
    case = cases["blåbær"]
    indexed(add_message, case, kind=MessageKind.NOTE, actor=agent, body_text="Bringebær")
    assert rebuilt == [[case.pk]]
    assert search_cases(agent, "bringebær") == [case.pk]


def test_a_change_in_the_same_transaction_wins_over_the_new_document(
    customer, team, agent, django_capture_on_commit_callbacks
):
    from django.db import transaction

    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            case = create_case(
                customer=customer, subject="Mikrobølgeovn", team=team, body_text="Den gnistrer."
            )
            update_case(case, actor=agent, subject="Stekeovn")
            add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Sendt til service")
    assert search_cases(agent, "stekeovn") == [case.pk]
    assert search_cases(agent, "mikrobølgeovn") == []
    assert search_cases(agent, "gnistrer") == [case.pk]
    assert search_cases(agent, "service") == [case.pk]


def test_a_new_customer_and_their_first_case_are_indexed_from_memory(
    team, agent, django_capture_on_commit_callbacks
):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    forget_batches()
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        with transaction.atomic():
            person = create_customer(
                name="Solveig Aasen", emails=["solveig@fjord.no"], phones=["+4791234567"]
            )
            case = create_case(customer=person, subject="Ny sykkel", team=team, body_text="Hei")
    # Nothing was read back to build the documents.
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    by_owner = ('"cases_message"."case_id"', '"customers_customeremail"."customer_id" ')
    assert not [sql for sql in reads if any(f"WHERE {column}" in sql for column in by_owner)]
    assert [c.pk for c in search_customers(agent, "solveig")] == [person.pk]
    assert [c.pk for c in search_customers(agent, "91234567")] == [person.pk]
    assert search_cases(agent, "solveig fjord") == [case.pk]
    assert search_cases(agent, "sykkel") == [case.pk]


@pytest.mark.parametrize(
    "query",
    ["", "   ", '"', '""', "*", "***", "AND OR NOT", "-", "!!!", "(", "')", "NEAR(", "^", ":*"],
)
def test_garbage_queries_give_empty_results(cases, agent, query):
    assert search_cases(agent, query) == []
    assert search_customers(agent, query) == []


def test_operators_are_plain_words(indexed, customer, team, agent):
    case = indexed(create_case, customer=customer, subject="Pakke NOT levert", team=team)
    assert search_cases(agent, 'pakke "not"') == [case.pk]
    assert search_cases(agent, "pakke -levert") == [case.pk]


def test_limit_and_offset(indexed, customer, team, agent):
    made = [
        indexed(create_case, customer=customer, subject=f"Strømbrudd {i}", team=team)
        for i in range(5)
    ]
    first = search_cases(agent, "strømbrudd", limit=2)
    rest = search_cases(agent, "strømbrudd", limit=10, offset=2)
    assert len(first) == 2 and len(rest) == 3
    assert set(first + rest) == {c.pk for c in made}


def test_cases_in_order_keeps_order_and_access(cases, agent):
    ids = [cases["retur"].pk, cases["hidden"].pk, cases["faktura"].pk]
    assert [c.pk for c in cases_in_order(agent, ids)] == [cases["retur"].pk, cases["faktura"].pk]


# --- Customers ----------------------------------------------------------------------------------


@pytest.fixture
def people(indexed):
    org = indexed(create_organisation, name="Fjordkraft Testbedrift", org_number="923609016")
    ola = indexed(
        create_customer,
        name="Ola Hansen",
        emails=["ola.hansen@example.no"],
        phones=["+47 922 33 444"],
        organisation=org,
    )
    hans = indexed(create_customer, name="Hans Ødegård", emails=["hans@firma.example"])
    lise = indexed(create_customer, name="Lise Berg", phones=["+46 70 123 45 67"])
    return {"org": org, "ola": ola, "hans": hans, "lise": lise}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ola Hansen", "ola"),
        ("ola h", "ola"),
        ("hansen", "ola"),
        ("ødegård", "hans"),
        ("ØDEG", "hans"),
        ("ola.hansen@example.no", "ola"),
        ("OLA.HANSEN@EXAMPLE.NO", "ola"),
        ("hans@firma", "hans"),
        ("+47 922 33 444", "ola"),
        ("92233444", "ola"),
        ("922 33 444", "ola"),
        ("0047 922 33 444", "ola"),
        ("4792233", "ola"),
        ("922 33", "ola"),
        ("(+47) 922-33-444", "ola"),
        ("+46701234567", "lise"),
        ("70 123 45 67", "lise"),
        ("fjordkraft", "ola"),
        ("923 609 016", "ola"),
    ],
)
def test_customer_search(people, agent, query, expected):
    assert people[expected] in search_customers(agent, query)


def test_customer_names_are_not_stemmed(people, agent):
    # Stemming would make "Hansen" and "Hans" the same word.
    assert search_customers(agent, "hansen") == [people["ola"]]


def test_customer_exact_email_comes_first(indexed, people, agent):
    indexed(create_customer, name="Ola Hansen Jr", emails=["ola.hansen.jr@example.no"])
    found = search_customers(agent, "ola.hansen@example.no")
    assert found[0] == people["ola"]


def test_customer_updates_are_indexed(indexed, people, agent, customer, team):
    case = indexed(create_case, customer=people["hans"], subject="Ny ruter", team=team)
    indexed(update_customer, people["hans"], name="Hans Ødegård Nilsen", emails=["hans@ny.example"])
    assert search_customers(agent, "nilsen") == [people["hans"]]
    assert search_customers(agent, "hans@firma.example") == []
    # The case shows the customer's name and address too.
    assert search_cases(agent, "nilsen") == [case.pk]
    indexed(update_organisation, people["org"], name="Havkraft")
    assert search_customers(agent, "havkraft") == [people["ola"]]


def test_merged_customer_is_replaced_by_target(indexed, people, agent):
    indexed(merge_customers, people["lise"], people["hans"])
    assert search_customers(agent, "lise berg") == []
    assert search_customers(agent, "+46 70 123 45 67") == [people["hans"]]


def test_inactive_user_finds_no_customers(people, agent):
    agent.is_active = False
    agent.save()
    assert search_customers(agent, "ola") == []


# --- Rebuild ------------------------------------------------------------------------------------


def test_rebuild_indexes_rows_inserted_without_actions(cases, people, agent, team, customer):
    from skranke.cases.models import Case, Message

    bulk = Case.objects.create(number=99999, subject="Importert sak", team=team, customer=customer)
    Message.objects.create(case=bulk, kind=MessageKind.CUSTOMER, body_text="Gammel strømregning")
    assert search_cases(agent, "strømregningen") == []
    call_command("search_reindex", "--batch", "2", verbosity=0)
    assert search_cases(agent, "strømregningen") == [bulk.pk]
    assert cases["faktura"].pk in search_cases(agent, "fakturaen")
    assert search_customers(agent, "hansen") == [people["ola"]]


def test_a_late_flush_of_a_new_case_never_overwrites_a_newer_document(
    customer, team, agent, django_capture_on_commit_callbacks
):
    from django.db import transaction

    # The creating transaction's after-commit flush is delayed behind another's.
    forget_batches()
    with django_capture_on_commit_callbacks(execute=False) as late:
        with transaction.atomic():
            case = create_case(
                customer=customer, subject="Vaskemaskin", team=team, body_text="Den lekker."
            )
    # A message arrives first: the case has no document yet, so it is rebuilt.
    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Fryseboks")
    for callback in late:
        callback()  # the new case's document, built from memory, comes too late
    assert search_cases(agent, "fryseboks") == [case.pk]
    assert search_cases(agent, "lekker") == [case.pk]


def test_a_late_flush_of_a_new_customer_never_overwrites_a_newer_document(
    agent, django_capture_on_commit_callbacks
):
    from django.db import transaction

    forget_batches()
    with django_capture_on_commit_callbacks(execute=False) as late:
        with transaction.atomic():
            person = create_customer(name="Solveig Aasen", emails=["solveig@fjord.no"])
    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            update_customer(person, name="Ragnhild Berg")
    for callback in late:
        callback()
    assert [c.pk for c in search_customers(agent, "ragnhild")] == [person.pk]
    assert search_customers(agent, "aasen") == []


def test_a_message_rolled_back_with_its_savepoint_is_not_indexed(
    cases, agent, django_capture_on_commit_callbacks
):
    from django.db import transaction

    case = cases["faktura"]
    forget_batches()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Kjøleskap")
            with pytest.raises(RuntimeError), transaction.atomic():
                add_message(case, kind=MessageKind.NOTE, actor=agent, body_text="Oppvaskmaskin")
                raise RuntimeError("undo")
    assert search_cases(agent, "kjøleskap") == [case.pk]
    assert search_cases(agent, "oppvaskmaskin") == []
