from __future__ import annotations

import hashlib
import io
import json
import sys

import pytest

from skranke.cases.models import Case
from skranke.cli import main
from skranke.mail.models import InboundEmail
from skranke.mail.tests.fixtures import *  # noqa: F403 (fixtures)

pytestmark = pytest.mark.django_db

JSON_KEYS = [
    "case_number",
    "from_address",
    "from_name",
    "subject",
    "text_body",
    "attachments",
    "message_id",
    "in_reply_to",
    "references",
    "is_auto_reply",
    "is_bounce",
    "threaded_by",
]


@pytest.fixture
def eml(tmp_path, mail):
    def write(**kwargs) -> str:
        path = tmp_path / f"mail-{len(list(tmp_path.iterdir()))}.eml"
        path.write_bytes(mail(**kwargs))
        return str(path)

    return write


def test_ingest_file_prints_the_case_number(mailbox, eml, capsys):
    assert main(["mail", "ingest", eml()]) == 0
    case = Case.objects.get()
    assert capsys.readouterr().out.strip() == str(case.number)


def test_ingest_from_stdin(mailbox, mail, monkeypatch, capsys):
    stdin = io.TextIOWrapper(io.BytesIO(mail(subject="Fra pipe")))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["mail", "ingest", "-"]) == 0
    assert Case.objects.get().subject == "Fra pipe"
    assert capsys.readouterr().out.strip() == str(Case.objects.get().number)


def test_second_delivery_prints_the_same_case(mailbox, eml, capsys):
    path = eml()
    main(["mail", "ingest", path])
    first = capsys.readouterr().out
    assert main(["mail", "ingest", path]) == 0
    captured = capsys.readouterr()
    assert captured.out == first
    assert "already imported" in captured.err
    assert Case.objects.count() == 1


def test_dry_run_stores_nothing(mailbox, eml, capsys):
    assert main(["mail", "ingest", "--dry-run", eml()]) == 0
    assert Case.objects.count() == 0 and InboundEmail.objects.count() == 0
    assert "would go to a new case" in capsys.readouterr().err


def test_json_has_exactly_the_documented_keys(mailbox, eml, capsys):
    path = eml(
        sender="Åse Ødegård <ase@kunde.no>",
        subject="Vedlegg",
        attachments=[("bilde.png", b"\x89PNG fake", "image/png")],
    )
    assert main(["mail", "ingest", "--json", path]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line
    data = json.loads(out)
    assert list(data) == JSON_KEYS
    assert data["case_number"] == Case.objects.get().number
    assert data["from_address"] == "ase@kunde.no" and data["from_name"] == "Åse Ødegård"
    assert data["attachments"] == [
        {
            "filename": "bilde.png",
            "content_type": "image/png",
            "size": 9,
            "sha256": hashlib.sha256(b"\x89PNG fake").hexdigest(),
        }
    ]
    assert data["threaded_by"] is None


def test_json_dry_run_reports_the_thread(mailbox, eml, capsys):
    main(["mail", "ingest", eml()])
    number = int(capsys.readouterr().out)
    assert main(["mail", "ingest", "--dry-run", "--json", eml(subject=f"SV: [#{number}]")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["case_number"] == number
    assert data["threaded_by"] == "case_number"
    assert Case.objects.get().messages.count() == 1


def test_unknown_recipient_exits_non_zero_with_reason(mailbox, eml, capsys):
    assert main(["mail", "ingest", eml(to="noen@annet.no")]) == 67
    assert "no enabled mailbox for the recipients (noen@annet.no)" in capsys.readouterr().err


def test_empty_message_is_rejected(mailbox, tmp_path, capsys):
    path = tmp_path / "empty.eml"
    path.write_bytes(b"")
    assert main(["mail", "ingest", str(path)]) == 65
    assert "rejected: the message is empty" in capsys.readouterr().err


def test_missing_file(capsys):
    assert main(["mail", "ingest", "/nonexistent/x.eml"]) == 64
    assert "cannot read /nonexistent/x.eml" in capsys.readouterr().err


def test_explicit_mailbox_and_envelope_recipient(mailbox, eml, capsys):
    path = eml(to="noen@annet.no")
    assert main(["mail", "ingest", "--mailbox", "kundeservice@firma.no", path]) == 0
    path = eml(to="noen@annet.no", subject="To")
    assert main(["mail", "ingest", "--recipient", "kundeservice@firma.no", path]) == 0
    assert Case.objects.count() == 2
