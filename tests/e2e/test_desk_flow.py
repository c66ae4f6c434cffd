"""The agent's journey in a real Chromium: log in, open a queue, open a case, reply, reassign,
solve — while a colleague's browser shows the same case changing live."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.browser

TIMEOUT = 10_000


def _outside_loop(fn, *args, **kwargs):
    """Run an action off the test thread: Playwright's event loop runs here, and a broadcast
    (async_to_sync) can't be sent from a thread with a running loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


@pytest.fixture
def colleague(team):
    from skranke.accounts.models import User

    user = User.objects.create_user("ola.k@example.no", "pw-ola-k-123", name="Ola Kollega")
    team.members.add(user)
    return user


def _log_in(browser, base_url, email, password):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(base_url + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit].button-primary")
    page.wait_for_url(re.compile(r"/cases/"))
    return context, page


def test_reply_reassign_solve_seen_live(live_desk, chromium_browser, agent, colleague, case):
    from playwright.sync_api import expect

    from skranke.cases.actions import assign_case
    from skranke.cases.models import Case, MessageKind, Status

    _outside_loop(assign_case, case, agent, actor=agent)

    # The colleague has the case open first.
    other_context, other = _log_in(chromium_browser, live_desk, "ola.k@example.no", "pw-ola-k-123")
    other.goto(f"{live_desk}/cases/{case.number}/")
    expect(other.locator("body")).to_have_attribute("data-live", "connected")

    context, page = _log_in(chromium_browser, live_desk, "kari@example.no", "pw-kari-123")
    # My open cases is the default queue.
    expect(page.locator("h1")).to_have_text("Mine åpne saker")
    page.get_by_role("link", name=case.subject).click()
    page.wait_for_url(f"**/cases/{case.number}/")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")

    # Collision warning: the colleague sees that Kari is on the case, then that she is writing.
    expect(other.locator("#presence-warning")).to_contain_text("Kari Nordmann ser på saken")
    page.keyboard.press("r")
    page.locator("#reply-form textarea").type("Hei Per, vi har rettet fakturaen.")
    expect(other.locator("#presence-warning")).to_contain_text("Kari Nordmann skriver et svar")

    # Reply (Ctrl+Enter sends).
    page.keyboard.press("Control+Enter")
    expect(page.locator("#timeline")).to_contain_text("vi har rettet fakturaen")
    expect(page.locator("#reply-form textarea")).to_have_value("")
    expect(other.locator("#timeline")).to_contain_text("vi har rettet fakturaen")

    # Reassign to the colleague through the properties panel.
    page.select_option("#id_props-assignee", label="Ola Kollega")
    page.locator("#properties button[type=submit]").click()
    expect(page.locator("#case-header")).to_contain_text("Ola Kollega")
    expect(other.locator("#case-header")).to_contain_text("Ola Kollega")

    # Solve with the keyboard.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("s")
    expect(page.locator("#case-header .badge").first).to_have_text("Løst")
    expect(other.locator("#case-header .badge").first).to_have_text("Løst")
    expect(other.locator("#timeline")).to_contain_text("Status: Åpen → Løst")

    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.SOLVED
    assert case.assignee == colleague
    assert case.messages.filter(kind=MessageKind.REPLY, author=agent).count() == 1

    # The solved case appears in the colleague's "recently solved" queue.
    other.goto(f"{live_desk}/cases/queue/solved/")
    expect(other.locator("#queue-list")).to_contain_text(case.subject)
    context.close()
    other_context.close()
