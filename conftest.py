"""Shared personas for every test module: customer, agent, agent of another team, team lead,
admin. Server fixtures (PostgreSQL, Redis, Chromium) live in ``tests/servers.py``."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.servers"]


def configure_test_settings(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is deliberately slow; tests log personas in hundreds of times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    configure_test_settings(settings, tmp_path)
    # The personas are created with passwords; the production hasher costs ~0.5 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    from skranke.accounts.models import Team

    return Team.objects.create(name="Kundeservice", slug="kundeservice")


@pytest.fixture
def other_team(db):
    from skranke.accounts.models import Team

    return Team.objects.create(name="Faktura", slug="faktura")


@pytest.fixture
def agent(team):
    from skranke.accounts.models import User

    user = User.objects.create_user("kari@example.no", "pw-kari-123", name="Kari Nordmann")
    team.members.add(user)
    return user


@pytest.fixture
def other_agent(other_team):
    from skranke.accounts.models import User

    user = User.objects.create_user("ola@example.no", "pw-ola-123", name="Ola Hansen")
    other_team.members.add(user)
    return user


@pytest.fixture
def team_lead(team):
    from skranke.accounts.models import Role, User

    user = User.objects.create_user(
        "leder@example.no", "pw-leder-123", name="Lise Leder", role=Role.TEAM_LEAD
    )
    team.members.add(user)
    return user


@pytest.fixture
def admin_user(db):
    from skranke.accounts.models import User

    return User.objects.create_superuser("admin@example.no", "pw-admin-123", name="Admin")


@pytest.fixture
def customer(db):
    from skranke.customers.actions import create_customer

    return create_customer(name="Per Kunde", emails=["per@kunde.no"], phones=["+47 912 34 567"])


@pytest.fixture
def other_customer(db):
    from skranke.customers.actions import create_customer

    return create_customer(name="Anne Annen", emails=["anne@annen.no"])


@pytest.fixture
def case(customer, team, agent):
    from skranke.cases.actions import create_case

    return create_case(
        customer=customer,
        subject="Faktura stemmer ikke",
        team=team,
        body_text="Hei, fakturaen min er feil.",
    )


@pytest.fixture
def other_case(other_customer, other_team):
    from skranke.cases.actions import create_case

    return create_case(
        customer=other_customer,
        subject="Retur av vaskemaskin",
        team=other_team,
        body_text="Jeg vil returnere maskinen.",
    )


@pytest.fixture
def search_index(db):
    """Call to index every case and customer made so far.

    Actions index after commit, and a test runs inside one transaction that never commits;
    tests that search through a view or the API call this once their rows exist.
    """
    from skranke.cases.models import Case
    from skranke.customers.models import Customer
    from skranke.search.index import reindex

    def index_everything() -> None:
        reindex(
            cases=Case.objects.values_list("pk", flat=True),
            customers=Customer.objects.values_list("pk", flat=True),
        )

    return index_everything
