"""Fixtures for the database-side mail tests (intake, threading, outbound, servers).

Imported by each test module rather than living in ``conftest.py``: that conftest belongs to
the pure parser tests, which also run without Django (``-p no:django``).
"""

from __future__ import annotations

import pytest

from skranke.mail.tests.mailfactory import make_mail


@pytest.fixture
def mailbox(team):
    from skranke.mail.models import Mailbox

    return Mailbox.objects.create(
        address="kundeservice@firma.no",
        team=team,
        display_name="Firma kundeservice",
        signature="Kari i kundeservice\nFirma AS",
        send_acknowledgement=False,
    )


@pytest.fixture
def mail():
    return make_mail


def _reset_task_backends() -> None:
    from django.tasks import task_backends

    # The handler caches settings and backend instances; Django does not reset them on
    # setting_changed, so an override needs this.
    task_backends._settings = None
    try:
        del task_backends["default"]
    except AttributeError:
        pass


@pytest.fixture
def immediate_tasks(settings):
    """Run enqueued tasks at once, in the enqueuing thread."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    _reset_task_backends()
    yield
    _reset_task_backends()


class SMTPSink:
    """Collects what an aiosmtpd server receives."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) in the test process; Django's SMTP backend sends to it."""
    from aiosmtpd.controller import Controller

    from tests.servers import free_port

    sink = SMTPSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        controller.stop()
