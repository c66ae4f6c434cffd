"""Login, logout, presence and language."""

from __future__ import annotations

from django.urls import reverse

from skranke.accounts.models import Presence


def test_login_page_in_norwegian_by_default(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "Logg inn" in response.content.decode()


def test_login_with_email_and_password(client, agent):
    response = client.post(
        reverse("accounts:login"), {"username": "kari@example.no", "password": "pw-kari-123"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:queue")


def test_wrong_password_shows_error(client, agent):
    response = client.post(
        reverse("accounts:login"), {"username": "kari@example.no", "password": "feil"}
    )
    assert response.status_code == 200
    assert "Feil e-postadresse eller passord" in response.content.decode()


def test_logout(client, agent):
    client.force_login(agent)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("cases:queue")).status_code == 302


def test_presence_switch(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("accounts:presence"), {"presence": "busy"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.presence == Presence.BUSY


def test_bad_presence_writes_nothing(client, agent):
    client.force_login(agent)
    client.post(reverse("accounts:presence"), {"presence": "sleeping"})
    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE


def test_anonymous_presence_is_refused(client, agent):
    response = client.post(reverse("accounts:presence"), {"presence": "busy"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE


def test_language_switch_to_english(client, agent):
    client.force_login(agent)
    client.post("/i18n/setlang/", {"language": "en", "next": "/cases/"})
    assert "My open cases" in client.get(reverse("cases:queue")).content.decode()
    client.post("/i18n/setlang/", {"language": "nb", "next": "/cases/"})
    assert "Mine åpne saker" in client.get(reverse("cases:queue")).content.decode()


def test_admin_lists_agents_teams_customers(client, admin_user, agent, customer):
    client.force_login(admin_user)
    for url in [
        "/admin/accounts/user/",
        "/admin/accounts/team/",
        "/admin/cases/category/",
        "/admin/customers/customer/",
        "/admin/customers/organisation/",
        "/admin/cases/tag/",
        f"/admin/accounts/user/{agent.pk}/change/",
        "/admin/accounts/user/add/",
        f"/admin/customers/customer/{customer.pk}/change/",
        "/admin/customers/customer/?q=per",
    ]:
        assert client.get(url).status_code == 200, url
