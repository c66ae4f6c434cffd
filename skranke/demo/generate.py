"""The demo desk: teams, agents, customers and a few months of cases, generated from a seed.

The same code builds the 3,000-case demo and the million-case benchmark data set, so it writes
with ``bulk_create`` in batches instead of calling ``create_case``/``add_message`` per case. It
must still produce exactly what those actions would have: the same statuses and timestamps, and
the same ``CaseEvent`` rows (``created``, ``assignee``, ``status``, ``message`` …) in the same
order, because reports and SLA clocks are computed from the events. Each case is simulated as a
sequence of agent and customer actions in time, and cut off at "now": whatever had not happened
yet leaves the case new, open or pending.
"""

from __future__ import annotations

import bisect
import math
import random
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import get_hasher, make_password
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from skranke.accounts.models import Presence, Role, Team, User
from skranke.cases.actions import next_numbers
from skranke.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    Category,
    Channel,
    EventKind,
    Message,
    MessageKind,
    Priority,
    Status,
    Tag,
)
from skranke.customers.models import Customer, CustomerEmail, CustomerPhone, Organisation
from skranke.demo import conversations as talk
from skranke.demo import vocabulary as vocab
from skranke.demo.bulk import TableWriter, datetime_adapter, json_adapter, reserve_ids
from skranke.demo.calendar import OpeningHours
from skranke.lib.maintenance import analyze
from skranke.lib.validators import ORG_NUMBER_WEIGHTS

DEMO_DOMAIN = "demo.skranke.no"
DEMO_PASSWORD = "skranke-demo"
# DEMO_PASSWORD hashed ahead of time: the hasher is slow on purpose (a second per call), and
# every demo user has the same well-known password anyway.
_DEMO_PASSWORD_HASH = (
    "pbkdf2_sha256$1500000$skrankeDemoPasswordSalt2026$2gKB7sJmTgR8PGjNJj7gO05+efziczvn7JDCWsHYYbQ="
)
# Marks customers and organisations the demo created, so --reset removes only those.
DEMO_SOURCE = {"source": "demo"}

# (first name, surname, teams, languages, skills). The login is the first name.
DEMO_AGENTS: tuple[tuple[str, str, tuple[str, ...], list[str], list[str]], ...] = (
    ("Kari", "Hansen", ("Kundeservice",), ["nb", "en"], ["levering", "bestilling"]),
    ("Ola", "Johansen", ("Kundeservice",), ["nb", "en"], ["levering", "produkt"]),
    ("Ingrid", "Larsen", ("Kundeservice", "Retur og reklamasjon"), ["nb", "en", "sv"], ["retur"]),
    ("Ahmed", "Ali", ("Kundeservice",), ["nb", "en", "ar"], ["bestilling", "b2b"]),
    ("Sofie", "Berg", ("Kundeservice",), ["nb"], ["produkt", "tilbakemelding"]),
    ("Magnus", "Haugen", ("Teknisk støtte",), ["nb", "en"], ["app", "nettbutikk"]),
    ("Nora", "Lie", ("Teknisk støtte",), ["nb", "en"], ["konto", "personvern"]),
    ("Jonas", "Dahl", ("Teknisk støtte", "Kundeservice"), ["nb", "en", "de"], ["app", "betaling"]),
    ("Hilde", "Solberg", ("Faktura",), ["nb", "en"], ["faktura", "inkasso"]),
    ("Per", "Kristiansen", ("Faktura",), ["nb"], ["faktura", "b2b"]),
    ("Marit", "Eide", ("Retur og reklamasjon",), ["nb", "en"], ["reklamasjon", "forbrukerrett"]),
    ("Emil", "Strand", ("Retur og reklamasjon",), ["nb", "en", "pl"], ["retur", "reklamasjon"]),
)
LEAD = ("Silje", "Moen", "leder")
ADMIN = ("Tone", "Bakken", "admin")

CHANNEL_WEIGHTS = {
    Channel.EMAIL: 44,
    Channel.PHONE: 22,
    Channel.CHAT: 14,
    Channel.WEB: 15,
    Channel.WALK_IN: 5,
}
PRIORITY_WEIGHTS = {Priority.LOW: 14, Priority.NORMAL: 66, Priority.HIGH: 15, Priority.URGENT: 5}
# Number of customer messages and replies in a conversation (internal notes come on top).
LENGTH_WEIGHTS = {1: 6, 2: 20, 3: 26, 4: 22, 5: 15, 6: 11}
DAY_WEIGHTS = (1.45, 1.15, 1.05, 1.0, 0.9, 0.45, 0.35)  # Monday is the busiest day
AUTO_CLOSE_AFTER = 4 * 86400  # solved cases close by themselves after four days
MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class DemoConfig:
    cases: int = 3000
    customers: int = 500
    seed: int = 2026
    days: int = 90
    organisations: int | None = None  # default: one per eight customers
    agents: int = len(DEMO_AGENTS)  # more than twelve adds generated agents (benchmarks)
    english_share: float = 0.10
    after_hours_share: float = 0.07  # email/web cases that arrive while the desk is closed
    batch_size: int = 2000
    now: datetime | None = None  # fixed "now" for reproducible tests


@dataclass
class DemoSummary:
    loaded: bool
    teams: int = 0
    agents: int = 0
    organisations: int = 0
    customers: int = 0
    cases: int = 0
    messages: int = 0
    events: int = 0
    rows: int = 0
    seconds: float = 0.0
    analyze_seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# --- public API -------------------------------------------------------------------------------


def demo_is_loaded() -> bool:
    return User.objects.filter(email=f"admin@{DEMO_DOMAIN}").exists()


def load_demo(
    config: DemoConfig | None = None,
    *,
    reset: bool = False,
    progress: bool = True,
    out: Callable[[str], None] = print,
) -> DemoSummary:
    """Load the demo desk. Without ``reset`` an already loaded demo is left alone."""
    config = config or DemoConfig()
    if demo_is_loaded():
        if not reset:
            out(
                "Demo data is already loaded; nothing to do. "
                "Run `skranke demo --reset` to delete it and load it again."
            )
            _print_logins(out)
            return DemoSummary(loaded=False)
        delete_demo()
    summary = _Generator(config, progress=progress).run()
    from skranke.demo.workforce import create_contracts

    create_contracts(DEMO_DOMAIN, config.seed)
    # The bulk writer bypasses the actions, so the search index is rebuilt in one pass.
    from skranke.search.index import rebuild as rebuild_search_index

    rebuild_search_index(progress=_write_stderr if progress else None)
    # Planner statistics for the new rows: without them SQLite scans whole tables for
    # filtered queues (docs/benchmarks.md).
    summary.analyze_seconds = analyze()
    out(
        f"Demo data loaded: {summary.teams} teams, {summary.agents} agents, "
        f"{summary.organisations} organisations, {summary.customers} customers, "
        f"{summary.cases} cases, {summary.messages} messages, {summary.events} events "
        f"in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s)."
    )
    _print_logins(out)
    return summary


def _write_stderr(text: str) -> None:
    sys.stderr.write(text)


def delete_demo() -> None:
    """Remove everything the demo created (and cases filed in the demo teams since)."""
    with transaction.atomic():
        teams = Team.objects.filter(name__in=[t[0] for t in talk.TEAMS])
        customers = Customer.objects.filter(custom_fields__source="demo")
        case_ids = Case.objects.filter(Q(team__in=teams) | Q(customer__in=customers)).values("id")
        CaseEvent.objects.filter(case_id__in=case_ids).delete()
        Attachment.objects.filter(message__case_id__in=case_ids).delete()
        Message.objects.filter(case_id__in=case_ids).delete()
        CaseLink.objects.filter(Q(from_case_id__in=case_ids) | Q(to_case_id__in=case_ids)).delete()
        Case.tags.through.objects.filter(case_id__in=case_ids).delete()
        Case.objects.filter(merged_into_id__in=case_ids).update(merged_into=None)
        Case.objects.filter(id__in=case_ids).delete()
        CustomerEmail.objects.filter(customer__in=customers).delete()
        CustomerPhone.objects.filter(customer__in=customers).delete()
        Customer.objects.filter(merged_into__in=customers).update(merged_into=None)
        customers.delete()
        Organisation.objects.filter(custom_fields__source="demo").delete()
        User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").delete()
        teams.delete()
        Category.objects.filter(name__in=[t.name for t in talk.TOPICS], case__isnull=True).delete()
        Tag.objects.filter(name__in=_demo_tag_names(), cases__isnull=True).delete()


def _demo_password_hash() -> str:
    hasher = get_hasher()
    if hasher.algorithm == "pbkdf2_sha256" and not hasher.must_update(_DEMO_PASSWORD_HASH):
        return _DEMO_PASSWORD_HASH
    return make_password(DEMO_PASSWORD)


def _demo_tag_names() -> list[str]:
    names = ["vip", "b2b"]
    for topic in talk.TOPICS:
        names += [t for t in topic.tags if t not in names]
    return names


def _print_logins(out: Callable[[str], None]) -> None:
    out("")
    out(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    out(f"  {'admin@' + DEMO_DOMAIN:<28} administrator")
    out(f"  {'leder@' + DEMO_DOMAIN:<28} team lead (kundeserviceleder), all teams")
    for first, _surname, teams, _langs, _skills in DEMO_AGENTS:
        out(f"  {_login(first) + '@' + DEMO_DOMAIN:<28} agent, {', '.join(teams)}")


# --- helpers ----------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    text = text.lower().replace("ø", "o").replace("æ", "ae").replace("å", "a")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "." for c in text).strip(".")


def _login(first: str) -> str:
    return _ascii(first).replace(".", "")


def make_org_number(rng: random.Random) -> str:
    """A random organisasjonsnummer with a valid mod-11 check digit (starts with 8 or 9)."""
    while True:
        digits = [rng.choice((8, 9))] + [rng.randrange(10) for _ in range(7)]
        remainder = sum(d * w for d, w in zip(digits, ORG_NUMBER_WEIGHTS, strict=True)) % 11
        check = 0 if remainder == 0 else 11 - remainder
        if check != 10:
            return "".join(map(str, digits)) + str(check)


# The 4x and 9x blocks that numbering plans (and libphonenumber) give to mobile phones.
MOBILE_PREFIXES = ("40", "41", "46", "47", "48", *(str(n) for n in range(90, 100)))


def make_mobile(rng: random.Random) -> str:
    """A Norwegian mobile number in E.164: +47 followed by 4xxxxxxx or 9xxxxxxx."""
    return f"+47{rng.choice(MOBILE_PREFIXES)}{rng.randrange(1_000_000):06d}"


def _weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Cut(Exception):
    """The simulated case has reached "now": what comes next has not happened yet."""


@dataclass
class _Person:
    pk: int
    first: str
    name: str
    english: bool
    organisation_id: int | None


@dataclass
class _Agent:
    pk: int
    first: str
    name: str
    english: bool


# --- the generator ----------------------------------------------------------------------------


class _Generator:
    def __init__(self, config: DemoConfig, *, progress: bool) -> None:
        self.config = config
        self.progress = progress
        self.rng = random.Random(config.seed)
        now = config.now or timezone.now().replace(second=0, microsecond=0)
        self.now_dt = now.astimezone(UTC)
        self.now = self.now_dt.timestamp()
        self.window_start = self.now - config.days * 86400
        first_day = datetime.fromtimestamp(self.window_start, UTC).date() - timedelta(days=1)
        self.calendar = OpeningHours(first_day, self.now_dt.date() + timedelta(days=30))
        self.summary = DemoSummary(loaded=True)
        self.started = time.perf_counter()
        self.adapt_dt = datetime_adapter()
        self.adapt_json = json_adapter()
        self.json_empty = self.adapt_json({})
        self.json_channel = {c: self.adapt_json({"channel": c}) for c in Channel.values}
        self.case_writer = TableWriter(Case, _CASE_COLUMNS)
        self.message_writer = TableWriter(Message, _MESSAGE_COLUMNS)
        self.event_writer = TableWriter(
            CaseEvent,
            ("case_id", "kind", "actor_id", "created_at", "old_value", "new_value", "data"),
        )
        self.tag_writer = TableWriter(Case.tags.through, ("case_id", "tag_id"))

    # The run ------------------------------------------------------------------------------

    def run(self) -> DemoSummary:
        with transaction.atomic():
            self._create_desk()
            self._create_organisations()
            self._create_customers()
        arrivals = self._arrivals()
        with transaction.atomic():
            first_number = next_numbers(len(arrivals)) if arrivals else 0
        self._rows(1)
        size = max(1, self.config.batch_size)
        with _bulk_load_pragmas():
            for start in range(0, len(arrivals), size):
                with transaction.atomic():
                    self._create_cases(first_number + start, arrivals[start : start + size])
                self._report_progress(min(start + size, len(arrivals)), len(arrivals))
        if self.progress and len(arrivals) >= size:
            sys.stderr.write("\n")
        self.summary.seconds = time.perf_counter() - self.started
        return self.summary

    def _rows(self, n: int) -> None:
        self.summary.rows += n

    def _report_progress(self, done: int, total: int) -> None:
        if not self.progress or total < self.config.batch_size:
            return
        elapsed = time.perf_counter() - self.started
        rate = self.summary.rows / elapsed if elapsed else 0
        sys.stderr.write(
            f"\rDemo data: {done:,}/{total:,} cases ({100 * done // total} %), "
            f"{self.summary.rows:,} rows, {rate:,.0f} rows/s "
        )
        sys.stderr.flush()

    # Teams, agents, categories, tags ------------------------------------------------------

    def _create_desk(self) -> None:
        created = datetime.fromtimestamp(self.window_start - 400 * 86400, UTC)
        self.teams: dict[str, Team] = {}
        for name, slug, description in talk.TEAMS:
            team, _ = Team.objects.get_or_create(
                name=name,
                defaults={
                    "slug": slug,
                    "email": f"{slug}@{DEMO_DOMAIN}",
                    "description": description,
                },
            )
            self.teams[name] = team
        self.summary.teams = len(self.teams)
        password = _demo_password_hash()
        presences = [Presence.AVAILABLE, Presence.AVAILABLE, Presence.BUSY, Presence.AWAY]
        specs = list(DEMO_AGENTS)
        rng = self.rng
        team_names = [t[0] for t in talk.TEAMS]
        while len(specs) < self.config.agents:
            first, surname = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.SURNAMES)
            specs.append((first, surname, (rng.choice(team_names),), ["nb", "en"], []))
        users = []
        memberships: list[tuple[User, tuple[str, ...]]] = []
        for index, (first, surname, teams, languages, skills) in enumerate(specs):
            # The twelve named agents log in with their first name; generated ones are numbered.
            login = (
                _login(first)
                if index < len(DEMO_AGENTS)
                else f"{_ascii(first)}.{_ascii(surname)}.{index}"
            )
            user = User(
                email=f"{login}@{DEMO_DOMAIN}",
                name=f"{first} {surname}",
                role=Role.AGENT,
                password=password,
                languages=languages,
                skills=skills,
                capacity=rng.choice((15, 20, 20, 25, 30)),
                presence=presences[index % len(presences)] if index < 8 else Presence.OFFLINE,
                date_joined=created,
            )
            users.append(user)
            memberships.append((user, teams))
        lead = User(
            email=f"{LEAD[2]}@{DEMO_DOMAIN}",
            name=f"{LEAD[0]} {LEAD[1]}",
            role=Role.TEAM_LEAD,
            password=password,
            languages=["nb", "en"],
            skills=["opplæring"],
            capacity=10,
            presence=Presence.AVAILABLE,
            date_joined=created,
        )
        admin = User(
            email=f"{ADMIN[2]}@{DEMO_DOMAIN}",
            name=f"{ADMIN[0]} {ADMIN[1]}",
            role=Role.ADMIN,
            password=password,
            languages=["nb", "en"],
            is_staff=True,
            is_superuser=True,
            capacity=0,
            presence=Presence.OFFLINE,
            date_joined=created,
        )
        User.objects.bulk_create([*users, lead, admin])
        users = list(User.objects.filter(email__in=[u.email for u in users]))
        by_email = {u.email: u for u in users}
        lead = User.objects.get(email=lead.email)
        through = Team.members.through
        rows = []
        self.agents_by_team: dict[str, list[_Agent]] = {name: [] for name in self.teams}
        for spec_user, teams in memberships:
            user = by_email[spec_user.email]
            agent = _Agent(user.pk, user.get_short_name(), user.name, "en" in user.languages)
            for name in teams:
                rows.append(through(team_id=self.teams[name].pk, user_id=user.pk))
                self.agents_by_team[name].append(agent)
        for team in self.teams.values():
            rows.append(through(team_id=team.pk, user_id=lead.pk))
        through.objects.bulk_create(rows, ignore_conflicts=True)
        self.lead = _Agent(lead.pk, lead.get_short_name(), lead.name, True)
        self.summary.agents = len(users) + 2
        self._rows(len(users) + 2 + len(rows) + len(self.teams))

        self.categories: dict[str, Category] = {}
        for topic in talk.TOPICS:
            category, _ = Category.objects.update_or_create(
                name=topic.name, defaults={"team": self.teams[topic.team]}
            )
            self.categories[topic.name] = category
        tag_names = _demo_tag_names()
        Tag.objects.bulk_create([Tag(name=n) for n in tag_names], ignore_conflicts=True)
        self.tag_ids = dict(Tag.objects.filter(name__in=tag_names).values_list("name", "id"))
        self._rows(len(self.categories) + len(tag_names))

    # Organisations and customers ----------------------------------------------------------

    def _create_organisations(self) -> None:
        rng = self.rng
        count = self.config.organisations
        if count is None:
            count = max(1, self.config.customers // 8) if self.config.customers else 0
        taken: set[str] = set()
        domains: set[str] = set()
        numbers: set[str] = set(
            Organisation.objects.exclude(org_number="").values_list("org_number", flat=True)
        )
        orgs: list[Organisation] = []
        while len(orgs) < count:
            stem, trade = rng.choice(vocab.COMPANY_STEMS), rng.choice(vocab.COMPANY_TRADES)
            name = f"{stem} {trade} {rng.choice(vocab.COMPANY_FORMS)}"
            if name in taken:
                name = f"{stem}{rng.choice(('vik', 'dal', 'nes', 'berg', 'heim'))} {trade} AS"
                if name in taken:
                    name = f"{name} {len(orgs)}"
            taken.add(name)
            number = make_org_number(rng)
            while number in numbers:
                number = make_org_number(rng)
            numbers.add(number)
            domain = _ascii(f"{stem}{trade}").replace(".", "")
            if domain in domains:
                domain = f"{domain}{len(orgs)}"
            domains.add(domain)
            domain += ".example"
            orgs.append(
                Organisation(
                    name=name,
                    org_number=number,
                    email_domains=[domain],
                    custom_fields=dict(DEMO_SOURCE),
                    created_at=datetime.fromtimestamp(
                        self.window_start - rng.uniform(200, 2000) * 86400, UTC
                    ),
                )
            )
        for start in range(0, len(orgs), 5000):
            Organisation.objects.bulk_create(orgs[start : start + 5000])
        self.organisations = orgs
        self.summary.organisations = len(orgs)
        self._rows(len(orgs))

    def _create_customers(self) -> None:
        rng = self.rng
        config = self.config
        emails_taken: set[str] = set(CustomerEmail.objects.values_list("address", flat=True))
        phones_taken: set[str] = set(CustomerPhone.objects.values_list("number", flat=True))
        people: list[tuple[tuple[Any, ...], list[str], list[str], bool]] = []
        source = self.adapt_json(DEMO_SOURCE)
        for _ in range(config.customers):
            english = rng.random() < config.english_share
            if english and rng.random() < 0.7:
                first, surname = (
                    rng.choice(vocab.ENGLISH_FIRST_NAMES),
                    rng.choice(vocab.ENGLISH_SURNAMES),
                )
            else:
                first, surname = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.SURNAMES)
            org = (
                rng.choice(self.organisations)
                if self.organisations and rng.random() < 0.2
                else None
            )
            postal_code, city = rng.choice(vocab.POSTAL_PLACES)
            number = rng.randint(1, 120)
            letter = rng.choice("ABC") if rng.random() < 0.1 else ""
            base = f"{_ascii(first)}.{_ascii(surname)}"
            emails: list[str] = []
            if org is not None:
                emails.append(self._unique(f"{base}@{org.email_domains[0]}", emails_taken, rng))
            if org is None or rng.random() < 0.3:
                if rng.random() < 0.9 or org is None:
                    domain = rng.choice(vocab.PRIVATE_EMAIL_DOMAINS)
                    emails.append(self._unique(f"{base}@{domain}", emails_taken, rng))
            phones: list[str] = []
            if rng.random() < 0.85 or not emails:
                phones.append(self._unique_phone(phones_taken, rng))
                if rng.random() < 0.05:
                    phones.append(self._unique_phone(phones_taken, rng))
            joined = self.adapt_dt(self.window_start - rng.uniform(1, 1500) * 86400)
            row = (
                f"{first} {surname}",
                "en" if english else "nb",
                org.pk if org else None,
                f"{rng.choice(vocab.STREETS)} {number}{letter}",
                postal_code,
                city,
                source,
                joined,
                joined,
            )
            people.append((row, emails, phones, english))
        customers = TableWriter(
            Customer,
            (
                "id",
                "name",
                "preferred_language",
                "organisation_id",
                "address",
                "postal_code",
                "city",
                "custom_fields",
                "created_at",
                "updated_at",
            ),
        )
        email_writer = TableWriter(CustomerEmail, ("customer_id", "address", "is_primary"))
        phone_writer = TableWriter(CustomerPhone, ("customer_id", "number", "is_primary"))
        first_id = reserve_ids(Customer, len(people)) if people else 0
        self.people: list[_Person] = []
        email_rows, phone_rows = [], []
        for offset, (row, emails, phones, english) in enumerate(people):
            pk = first_id + offset
            email_rows += [(pk, a, i == 0) for i, a in enumerate(emails)]
            phone_rows += [(pk, n, i == 0) for i, n in enumerate(phones)]
            self.people.append(_Person(pk, row[0].split(" ")[0], row[0], english, row[2]))
        size = 20000
        for start in range(0, len(people), size):
            customers.insert(
                [(first_id + start + i, *p[0]) for i, p in enumerate(people[start : start + size])]
            )
        for start in range(0, len(email_rows), size):
            email_writer.insert(email_rows[start : start + size])
        for start in range(0, len(phone_rows), size):
            phone_writer.insert(phone_rows[start : start + size])
        self._rows(len(people) + len(email_rows) + len(phone_rows))
        self.summary.customers = len(self.people)
        # A few customers write often; most only now and then.
        self.customer_weights = list(
            _cumulative(1.0 / (1 + i) ** 0.3 for i in range(len(self.people)))
        )
        rng.shuffle(self.people)

    @staticmethod
    def _unique(address: str, taken: set[str], rng: random.Random) -> str:
        local, _, domain = address.partition("@")
        candidate = address
        while candidate in taken:
            candidate = f"{local}{rng.randrange(1, 1000)}@{domain}"
        taken.add(candidate)
        return candidate

    @staticmethod
    def _unique_phone(taken: set[str], rng: random.Random) -> str:
        number = make_mobile(rng)
        while number in taken:
            number = make_mobile(rng)
        taken.add(number)
        return number

    # Arrivals ------------------------------------------------------------------------------

    def _arrivals(self) -> list[tuple[float, str]]:
        """(arrival time, channel) for every case, in arrival order.

        Phone, chat and walk-in only arrive while the desk is open; a small share of email and
        web-form cases arrive in the evening, early morning or on holidays.
        """
        rng = self.rng
        n = self.config.cases
        if n <= 0 or not self.people:
            return []
        open_slots, open_cum, closed_slots, closed_cum = self._slots()
        channels = list(CHANNEL_WEIGHTS)
        channel_cum = list(_cumulative(CHANNEL_WEIGHTS.values()))
        picked = rng.choices(channels, cum_weights=channel_cum, k=n)
        arrivals: list[tuple[float, str]] = []
        share = self.config.after_hours_share
        for channel in picked:
            closed = (
                channel in (Channel.EMAIL, Channel.WEB) and rng.random() < share and closed_slots
            )
            slots, cum = (closed_slots, closed_cum) if closed else (open_slots, open_cum)
            start, end = slots[_pick(rng, cum)]
            arrivals.append((start + rng.random() * (end - start), channel))
        arrivals.sort(key=lambda a: a[0])
        return arrivals

    def _slots(
        self,
    ) -> tuple[list[tuple[float, float]], list[float], list[tuple[float, float]], list[float]]:
        """Fifteen-minute slots in the window with their relative traffic."""
        open_slots: list[tuple[float, float]] = []
        open_weights: list[float] = []
        closed_slots: list[tuple[float, float]] = []
        closed_weights: list[float] = []
        span = self.now - self.window_start
        for day in self.calendar.days:
            if day.start > self.now or day.start + 86400 < self.window_start:
                continue
            # Traffic grows a little over the window (the brief: volume keeps growing).
            trend = 0.9 + 0.2 * max(0.0, min(1.0, (day.start - self.window_start) / span))
            t = day.start + 6 * HOUR
            while t < day.start + 23 * HOUR:
                end = min(t + 15 * MINUTE, self.now)
                if t < self.window_start or t >= self.now:
                    t += 15 * MINUTE
                    continue
                if day.is_open and day.opens <= t < day.closes:
                    hour = (t - day.start) / HOUR
                    open_slots.append((t, end))
                    open_weights.append(
                        DAY_WEIGHTS[day.weekday] * _hour_weight(hour, day.weekday) * trend
                    )
                else:
                    closed_slots.append((t, end))
                    closed_weights.append(1.0)
                t += 15 * MINUTE
        return (
            open_slots,
            list(_cumulative(open_weights)),
            closed_slots,
            list(_cumulative(closed_weights)),
        )

    # Cases ---------------------------------------------------------------------------------

    def _create_cases(self, first_number: int, arrivals: list[tuple[float, str]]) -> None:
        built = [
            _CaseSimulation(self, first_number + i, ts, ch).build()
            for i, (ts, ch) in enumerate(arrivals)
        ]
        case_id = reserve_ids(Case, len(built))
        message_id = reserve_ids(Message, sum(len(b.messages) for b in built))
        adapt_json = self.adapt_json
        empty = self.json_empty
        cases, messages, events, tags = [], [], [], []
        statuses = self.summary.statuses
        for b in built:
            cases.append((case_id, *b.case))
            first_message = message_id
            for message in b.messages:
                messages.append((message_id, case_id, *message))
                message_id += 1
            for kind, at, actor, old, new, data, index in b.events:
                if index is not None:
                    data = adapt_json({"message_id": first_message + index})
                elif data is None:
                    data = empty
                events.append((case_id, kind, actor, at, old, new, data))
            tags += [(case_id, tag_id) for tag_id in b.tag_ids]
            status = b.case[2]
            statuses[status] = statuses.get(status, 0) + 1
            case_id += 1
        self.case_writer.insert(cases)
        self.message_writer.insert(messages)
        self.event_writer.insert(events)
        self.tag_writer.insert(tags)
        self.summary.cases += len(cases)
        self.summary.messages += len(messages)
        self.summary.events += len(events)
        self._rows(len(cases) + len(messages) + len(events) + len(tags))

    def pick_person(self) -> _Person:
        return self.people[_pick(self.rng, self.customer_weights)]

    def pick_agent(self, team: str, english: bool) -> _Agent:
        agents = self.agents_by_team[team] or [self.lead]
        if english:
            speakers = [a for a in agents if a.english]
            agents = speakers or agents
        return self.rng.choice(agents)


# The columns the generator writes, in the order of its row tuples.
_CASE_COLUMNS = (
    "id",
    "number",
    "subject",
    "status",
    "priority",
    "type",
    "channel",
    "category_id",
    "team_id",
    "assignee_id",
    "customer_id",
    "organisation_id",
    "language",
    "follow_up_at",
    "created_at",
    "updated_at",
    "first_response_at",
    "solved_at",
    "closed_at",
    "last_customer_message_at",
    "message_count",
)
_MESSAGE_COLUMNS = (
    "id",
    "case_id",
    "kind",
    "channel",
    "author_id",
    "customer_id",
    "body_text",
    "created_at",
    "external_id",
    "delivery_status",
)
# (kind, time, actor id, old value, new value, data, index of the message the event is about)
_Event = tuple[str, Any, int | None, str, str, Any, int | None]


@dataclass
class _CaseBuild:
    case: tuple[Any, ...]  # _CASE_COLUMNS without the id
    messages: list[tuple[Any, ...]]  # _MESSAGE_COLUMNS without id and case_id
    events: list[_Event]
    tag_ids: list[int]


class _CaseSimulation:
    """One case from arrival to closing, as the actions would have recorded it."""

    def __init__(self, gen: _Generator, number: int, created: float, channel: str) -> None:
        self.gen = gen
        self.rng = rng = gen.rng
        self.dt = gen.adapt_dt
        self.number = number
        self.created = created
        self.channel = channel
        self.person = gen.pick_person()
        self.english = self.person.english
        self.topic = rng.choices(talk.TOPICS, weights=[t.weight for t in talk.TOPICS])[0]
        self.type = _weighted(rng, self.topic.types)
        priority = _weighted(rng, PRIORITY_WEIGHTS)
        if self.type == "complaint" and priority == Priority.NORMAL and rng.random() < 0.3:
            priority = Priority.HIGH
        self.priority = priority
        self.team = self.topic.team
        # Some cases land in first-line Kundeservice and are handed over to the right team.
        self.hand_over = self.team != "Kundeservice" and rng.random() < 0.1
        if self.hand_over:
            self.team = "Kundeservice"
        self.status: str = Status.NEW
        self.assignee: _Agent | None = None
        self.follow_up: float | None = None
        self.first_response: float | None = None
        self.solved: float | None = None
        self.closed: float | None = None
        self.last_customer: float | None = None
        self.updated = created
        self.messages: list[tuple[Any, ...]] = []
        self.events: list[_Event] = []
        lang_en = self.english
        self.fill = {
            "order": str(rng.randint(1_000_000, 9_999_999)),
            "invoice": str(rng.randint(200_000, 999_999)),
            "tracking": f"70{rng.randrange(10**14):014d}",
            "amount": f"{rng.choice((149, 249, 399, 499, 799, 1290, 1999, 2490, 4990))}",
            "product": rng.choice(talk.PRODUCTS_EN if lang_en else talk.PRODUCTS_NB),
            "first": self.person.first,
            "name": self.person.name,
            "agent": "",
            "team": "",
            "date": "",
            "opening": "",
        }
        self.fill["date"] = _local_date(created - rng.randint(1, 10) * 86400, lang_en)

    # Building blocks mirroring the actions ----------------------------------------------------

    def _at(self, ts: float) -> float:
        if ts > self.gen.now:
            raise _Cut
        self.updated = ts
        return ts

    def _event(
        self,
        kind: str,
        ts: float,
        actor: _Agent | None,
        old: object = "",
        new: object = "",
        data: Any = None,
        message: int | None = None,
    ) -> None:
        self.events.append(
            (
                str(kind),
                self.dt(ts),
                actor.pk if actor else None,
                _str(old),
                _str(new),
                data,
                message,
            )
        )

    def _message(self, ts: float, kind: str, body: str, author: _Agent | None, channel: str) -> int:
        """Store a message; returns its index in the case (its id is known only later)."""
        email = channel == Channel.EMAIL
        index = len(self.messages)
        customer = kind == MessageKind.CUSTOMER
        self.messages.append(
            (
                str(kind),
                str(channel),
                author.pk if author and not customer else None,
                self.person.pk if customer else None,
                body,
                self.dt(ts),
                f"<{self.number}.{index}@{DEMO_DOMAIN}>"
                if email and kind != MessageKind.NOTE
                else "",
                "sent" if email and kind == MessageKind.REPLY else "",
            )
        )
        if customer:
            self.last_customer = ts
        if kind == MessageKind.REPLY and self.first_response is None:
            self.first_response = ts
        return index

    def _set_status(self, ts: float, status: str, actor: _Agent | None) -> None:
        if status == self.status:
            return
        self._event(EventKind.STATUS, ts, actor, self.status, status)
        self.status = status
        # The same stamps as actions._stamp_status.
        if status == Status.SOLVED:
            self.solved = ts
        elif status == Status.CLOSED:
            self.closed = ts
            self.solved = self.solved or ts
        else:
            self.solved = self.closed = None
        if status not in (Status.PENDING, Status.ON_HOLD):
            self.follow_up = None

    def _add_message(
        self,
        ts: float,
        kind: str,
        body: str,
        actor: _Agent | None,
        *,
        channel: str | None = None,
        new_status: str | None = None,
    ) -> None:
        """As actions.add_message on an existing case."""
        message = self._message(ts, kind, body, actor, channel or self.channel)
        self._event(
            EventKind.MESSAGE,
            ts,
            actor if kind != MessageKind.CUSTOMER else None,
            new=kind,
            message=message,
        )
        status = new_status
        if status is None and kind == MessageKind.CUSTOMER:
            if self.status in (Status.PENDING, Status.SOLVED, Status.ON_HOLD):
                status = Status.OPEN
        if status is None and kind == MessageKind.REPLY and self.status == Status.NEW:
            status = Status.OPEN
        if status:
            self._set_status(ts, status, actor if kind != MessageKind.CUSTOMER else None)

    def _assign(self, ts: float, agent: _Agent | None, actor: _Agent | None) -> None:
        """As actions.update_case(assignee=…)."""
        old = self.assignee
        self._event(EventKind.ASSIGNEE, ts, actor, old.pk if old else "", agent.pk if agent else "")
        self.assignee = agent
        if agent is not None and self.status == Status.NEW:
            self._set_status(ts, Status.OPEN, actor)

    def _set_follow_up(self, ts: float, when: float, actor: _Agent | None) -> None:
        self._event(EventKind.FOLLOW_UP, ts, actor, _iso(self.follow_up), _iso(when))
        self.follow_up = when

    # Delays ---------------------------------------------------------------------------------

    def _agent_time(self, after: float, mean_minutes: float) -> float:
        """When an agent next acts: business hours only, with a long tail of slow cases."""
        rng = self.rng
        if self.channel == Channel.CHAT and mean_minutes <= 60:
            return self.gen.calendar.next_open(after + rng.uniform(20, 240))
        minutes = rng.expovariate(1 / mean_minutes)
        if rng.random() < 0.2:
            minutes += rng.uniform(1, 6) * 24 * 60  # busy days, or waiting for someone else
        return self.gen.calendar.next_open(after + 60 + minutes * 60)

    def _customer_time(self, after: float) -> float:
        rng = self.rng
        if self.channel == Channel.CHAT and rng.random() < 0.8:
            return after + rng.uniform(20, 180)
        return after + 300 + rng.expovariate(1 / (20 * HOUR))

    # Text -----------------------------------------------------------------------------------

    def _text(self, template: str) -> str:
        return _capitalise(template.format_map(self.fill))

    def _customer_body(self, template: str) -> str:
        rng = self.rng
        en = self.english
        greeting = talk.GREETING_EN if en else talk.GREETING_NB
        sign = rng.choice(talk.SIGN_OFF_CUSTOMER_EN if en else talk.SIGN_OFF_CUSTOMER_NB)
        return greeting + self._text(template) + sign.format_map(self.fill)

    def _agent_body(self, template: str) -> str:
        en = self.english
        greeting = talk.GREETING_NAMED_EN if en else talk.GREETING_NAMED_NB
        sign = talk.SIGN_OFF_AGENT_EN if en else talk.SIGN_OFF_AGENT_NB
        return greeting.format_map(self.fill) + self._text(template) + sign.format_map(self.fill)

    def _use_agent(self, agent: _Agent) -> None:
        self.fill["agent"] = agent.first if agent.first else agent.name
        self.fill["team"] = self.team

    # The story ------------------------------------------------------------------------------

    def build(self) -> _CaseBuild:
        gen, rng, topic = self.gen, self.rng, self.topic
        en = self.english
        tags = list(rng.sample(topic.tags, k=rng.choice((0, 1, 1, 2))))
        if self.person.organisation_id and rng.random() < 0.5:
            tags.append("b2b")
        if rng.random() < 0.03:
            tags.append("vip")
        tags = sorted(set(tags))
        subject = self._text(rng.choice(topic.subjects_en if en else topic.subjects_nb))
        opening = self._text(rng.choice(topic.openings_en if en else topic.openings_nb))
        self.fill["opening"] = opening
        created = self.created
        length = _weighted(rng, LENGTH_WEIGHTS)

        # create_case ---------------------------------------------------------------------
        if self.channel in (Channel.PHONE, Channel.WALK_IN):
            # An agent registers the call or visit: the case starts assigned, with a note.
            agent = gen.pick_agent(self.team, en)
            self._use_agent(agent)
            self.status = Status.OPEN
            self.assignee = agent
            self._event(
                EventKind.CREATED,
                created,
                agent,
                new=Status.OPEN,
                data=gen.json_channel[self.channel],
            )
            self._event(EventKind.ASSIGNEE, created, agent, new=agent.pk)
            creator: _Agent | None = agent
            notes = talk.PHONE_NOTES_NB if self.channel == Channel.PHONE else talk.WALK_IN_NOTES_NB
            first_body = rng.choice(notes).format_map(self.fill)
            first_kind = MessageKind.NOTE
        else:
            creator = None
            self._event(
                EventKind.CREATED,
                created,
                None,
                new=Status.NEW,
                data=gen.json_channel[self.channel],
            )
            first_body = self._customer_body(opening)
            first_kind = MessageKind.CUSTOMER
        if tags:
            self._event(EventKind.TAGS, created, creator, "", ",".join(tags))
        self._message(created, first_kind, first_body, creator, self.channel)

        try:
            self._story(length)
        except _Cut:
            pass

        dt = self.dt
        case = (
            self.number,
            subject[:300],
            str(self.status),
            str(self.priority),
            str(self.type),
            str(self.channel),
            gen.categories[topic.name].pk,
            gen.teams[self.team].pk,
            self.assignee.pk if self.assignee else None,
            self.person.pk,
            self.person.organisation_id,
            "en" if en else "nb",
            dt(self.follow_up) if self.follow_up else None,
            dt(created),
            dt(self.updated),
            dt(self.first_response) if self.first_response else None,
            dt(self.solved) if self.solved else None,
            dt(self.closed) if self.closed else None,
            dt(self.last_customer) if self.last_customer else None,
            len(self.messages),
        )
        return _CaseBuild(case, self.messages, self.events, [gen.tag_ids[t] for t in tags])

    def _story(self, length: int) -> None:
        gen, rng, topic = self.gen, self.rng, self.topic
        en = self.english
        t = self.created
        urgent = {Priority.URGENT: 15, Priority.HIGH: 40, Priority.NORMAL: 90, Priority.LOW: 180}
        mean = urgent[self.priority]

        # Someone takes the case (phone and walk-in cases are taken by whoever answered).
        if self.assignee is None:
            t = self._at(self._agent_time(t, mean * 0.6))
            taker = gen.pick_agent(self.team, en)
            self._use_agent(taker)
            self._assign(t, taker, taker if rng.random() < 0.75 else gen.lead)
        elif (
            self.channel == Channel.PHONE
            and length <= 2
            and not self.hand_over
            and rng.random() < 0.7
        ):
            # Solved during the call.
            t = self._at(t + rng.uniform(2, 12) * MINUTE)
            self._set_status(t, Status.SOLVED, self.assignee)
            self._close(t)
            return

        agent: _Agent | None
        if self.hand_over:
            agent = self.assignee
            t = self._at(self._agent_time(t, 30))
            target = topic.team
            self._add_message(t, MessageKind.NOTE, talk.HAND_OVER_NOTE.format(team=target), agent)
            old_team = gen.teams[self.team].pk
            self.team = target
            self._event(EventKind.TEAM, t, agent, old_team, gen.teams[target].pk)
            self._event(EventKind.ASSIGNEE, t, agent, agent.pk if agent else "", "")
            self.assignee = None
            t = self._at(self._agent_time(t, mean))
            new_agent = gen.pick_agent(target, en)
            self._use_agent(new_agent)
            self._assign(t, new_agent, new_agent)

        reply_channel = (
            Channel.EMAIL if self.channel in (Channel.PHONE, Channel.WALK_IN) else self.channel
        )
        replies = topic.replies_en if en else topic.replies_nb
        follow_ups = talk.CUSTOMER_FOLLOW_UPS_EN if en else talk.CUSTOMER_FOLLOW_UPS_NB
        # Turns after the first message: reply, customer, reply, …
        turns = length - 1
        for turn in range(turns):
            last = turn == turns - 1
            agent = self.assignee
            if turn % 2 == 0:  # the agent's turn
                if rng.random() < 0.15:
                    t = self._at(self._agent_time(t, mean * 0.5))
                    note = rng.choice(topic.notes or talk.GENERIC_NOTES).format_map(self.fill)
                    self._add_message(t, MessageKind.NOTE, note, agent)
                t = self._at(self._agent_time(t, mean))
                if turn == 0:
                    body = self._agent_body(rng.choice(replies))
                else:
                    body = self._agent_body(
                        rng.choice(talk.FOLLOW_UP_REPLIES_EN if en else talk.FOLLOW_UP_REPLIES_NB)
                    )
                if last:
                    self._reply_and_finish(t, body, reply_channel)
                    return
                waiting = rng.random() < 0.5
                self._add_message(
                    t,
                    MessageKind.REPLY,
                    body,
                    agent,
                    channel=reply_channel,
                    new_status=Status.PENDING if waiting else None,
                )
                if waiting and rng.random() < 0.4:
                    self._set_follow_up(t, _follow_up_time(gen, t, rng), agent)
            else:  # the customer's turn
                t = self._at(self._customer_time(t))
                if last:
                    thanks = rng.choice(talk.CUSTOMER_THANKS_EN if en else talk.CUSTOMER_THANKS_NB)
                    self._add_message(t, MessageKind.CUSTOMER, self._customer_body(thanks), None)
                    t = self._at(self._agent_time(t, mean))
                    self._set_status(t, Status.SOLVED, self.assignee)
                    self._close(t)
                    return
                self._add_message(
                    t, MessageKind.CUSTOMER, self._customer_body(rng.choice(follow_ups)), None
                )
                if self.priority == Priority.NORMAL and rng.random() < 0.05:
                    t = self._at(self._agent_time(t, 20))
                    self._event(
                        EventKind.PRIORITY, t, self.assignee, Priority.NORMAL, Priority.HIGH
                    )
                    self.priority = Priority.HIGH
        if turns == 0:
            # A single message: the agent deals with it without writing back (or on the phone).
            t = self._at(self._agent_time(t, mean))
            self._set_status(t, Status.SOLVED, self.assignee)
            self._close(t)

    def _reply_and_finish(self, t: float, body: str, channel: str) -> None:
        rng, gen = self.rng, self.gen
        agent = self.assignee
        outcome = rng.random()
        if outcome < 0.78:
            self._add_message(
                t, MessageKind.REPLY, body, agent, channel=channel, new_status=Status.SOLVED
            )
            self._close(t)
            return
        if outcome < 0.95:
            # Waiting for the customer, with a reminder; no answer comes, so the agent solves it.
            self._add_message(
                t, MessageKind.REPLY, body, agent, channel=channel, new_status=Status.PENDING
            )
            when = _follow_up_time(gen, t, rng)
            self._set_follow_up(t, when, agent)
            t = self._at(gen.calendar.next_open(when + rng.expovariate(1 / (20 * HOUR))))
            self._add_message(t, MessageKind.NOTE, talk.NO_ANSWER_NOTE, agent)
            self._set_status(t, Status.SOLVED, agent)
            self._close(t)
            return
        # On hold while a supplier answers, then solved with a final reply.
        self._add_message(t, MessageKind.REPLY, body, agent, channel=channel)
        t = self._at(self._agent_time(t, 30))
        self._add_message(t, MessageKind.NOTE, talk.ON_HOLD_NOTE, agent)
        self._set_status(t, Status.ON_HOLD, agent)
        when = _follow_up_time(gen, t, rng)
        self._set_follow_up(t, when, agent)
        t = self._at(gen.calendar.next_open(when + rng.uniform(0, 8) * HOUR))
        final = self._agent_body(
            rng.choice(talk.FOLLOW_UP_REPLIES_EN if self.english else talk.FOLLOW_UP_REPLIES_NB)
        )
        self._add_message(
            t, MessageKind.REPLY, final, agent, channel=channel, new_status=Status.SOLVED
        )
        self._close(t)

    def _close(self, solved_at: float) -> None:
        # The time-based automation closes solved cases after four days.
        t = self._at(solved_at + AUTO_CLOSE_AFTER + self.rng.uniform(0, HOUR))
        self._set_status(t, Status.CLOSED, None)


@contextmanager
def _bulk_load_pragmas() -> Iterator[None]:
    """SQLite: checkpoint the WAL rarely and cache more while loading millions of rows.

    With the default (a checkpoint, and an fsync, every 4 MB of WAL) a large load spends most
    of its time waiting for the disk. Durability is unchanged: every batch still commits.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint=50000")
        cursor.execute("PRAGMA cache_size=-524288")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")
            cursor.execute(f"PRAGMA cache_size={int(cache)}")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- small pure helpers -----------------------------------------------------------------------


def _cumulative(values: Iterable[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def _pick(rng: random.Random, cum_weights: list[float]) -> int:
    return bisect.bisect_right(cum_weights, rng.random() * cum_weights[-1])


def _hour_weight(hour: float, weekday: int) -> float:
    """Traffic through the day: a morning peak (steeper on Mondays) and a lunchtime bump."""
    if hour < 10:
        weight = 1.5
    elif hour < 11.5:
        weight = 1.3
    elif hour < 13:
        weight = 1.45  # lunch: people call and write in their break
    elif hour < 15:
        weight = 1.05
    elif hour < 17:
        weight = 0.8
    else:
        weight = 0.55
    if weekday == 0 and hour < 11.5:
        weight *= 1.4
    return weight


def _follow_up_time(gen: _Generator, t: float, rng: random.Random) -> float:
    """A follow-up reminder a few days ahead, at the start of a working hour."""
    when = t + rng.choice((1, 2, 3, 5, 7)) * 86400
    return math.floor(gen.calendar.next_open(when) / HOUR) * HOUR + HOUR


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(round(ts, 3), UTC).isoformat() if ts is not None else ""


def _str(value: object) -> str:
    return "" if value is None else str(value)[:300]


def _local_date(ts: float, english: bool) -> str:
    day: date = datetime.fromtimestamp(ts, UTC).date()
    return day.strftime("%d %b %Y") if english else day.strftime("%d.%m.%Y")
