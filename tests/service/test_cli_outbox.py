"""``porchlight outbox`` against the real services over RabbitMQ: an estimate sent through
the admin API queues an email to its customer, and the CLI lists it and shows it; a wrong
id or filter is one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from porchlight.operator import cli

ADDRESS = "dana.fix@example.com"


@pytest.fixture
def outbox(services: dict[str, Any], settings_env: Any, make_staff: Any) -> dict[str, Any]:
    """A workspace whose customer was just emailed a sent estimate; the CLI on its broker."""
    settings_env(amqp_uri=services["AMQP_URI"], rpc_timeout="5")
    staff = make_staff("Brightwater Plumbing")
    customer = staff.created("/customers", {"name": "Dana Fix", "email": ADDRESS})
    sent = staff.sent_estimate([{"description": "Labour", "quantity": 1, "unit_price": "80"}],
                               customer_id=customer["id"])
    assert sent["customer_email"]["status"] == "queued", sent["customer_email"]
    return {"workspace_id": staff.workspace_id, "email": sent["customer_email"]["email"],
            "estimate": sent["estimate"]}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_outbox_lists_the_recent_emails_as_a_table(outbox, capsys):
    code, out, err = run(capsys, "outbox", "--workspace-id", outbox["workspace_id"])
    assert code == 0, err
    header, row, *rest = out.splitlines()
    assert header.split() == ["ID", "CREATED", "(UTC)", "TO", "STATUS", "ATTEMPTS", "SUBJECT"]
    email = outbox["email"]
    assert row.startswith(email["id"] + "  ")
    assert ADDRESS in row and email["subject"] in row
    assert email["created_at"][:10] in row
    # No delivery worker runs here, so the email waits in the queue.
    assert " queued " in row and rest == []


def test_outbox_filters_and_prints_json(outbox, capsys):
    code, out, _ = run(capsys, "outbox", "--workspace-id", outbox["workspace_id"],
                       "--recipient", ADDRESS, "--status", "queued", "--limit", "5", "--json")
    assert code == 0
    page = json.loads(out)
    assert [e["id"] for e in page["emails"]] == [outbox["email"]["id"]]
    assert page["next_cursor"] is None
    code, out, _ = run(capsys, "outbox", "--workspace-id", outbox["workspace_id"], "--status", "failed")
    assert code == 0 and out == "No emails.\n"


def test_outbox_show_prints_headers_then_the_plain_text(outbox, capsys):
    email = outbox["email"]
    code, out, err = run(capsys, "outbox", "show", email["id"], "--workspace-id", outbox["workspace_id"])
    assert code == 0, err
    head, _, body = out.partition("\n\n")
    fields = dict(line.split(":", 1) for line in head.splitlines())
    fields = {name: value.strip() for name, value in fields.items()}
    assert fields["To"] == f"Dana Fix <{ADDRESS}>"
    assert fields["From name"] == "Brightwater Plumbing"
    assert fields["Subject"] == email["subject"]
    assert fields["Status"] == "queued" and fields["Attempts"] == "0"
    assert fields["Last error"] == "-" and fields["Attachments"] == "none"
    assert {"Reply-To"} <= set(fields)
    # The plain-text part, with the link left out: the outbox never keeps it.
    assert outbox["estimate"]["number"] in body and "link removed" in body

    code, out, _ = run(capsys, "outbox", "show", email["id"], "--workspace-id",
                       outbox["workspace_id"], "--json")
    assert code == 0 and json.loads(out)["text_body"].strip() == body.strip()


def test_an_unknown_email_is_a_one_line_error(outbox, capsys):
    code, out, err = run(capsys, "outbox", "show", "0" * 24, "--workspace-id", outbox["workspace_id"])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert json.loads(err)["error"]["code"] == "not_found"


def test_another_workspaces_email_is_not_found(outbox, capsys, make_staff):
    other = make_staff("Rival Heating").workspace_id
    code, _, err = run(capsys, "outbox", "show", outbox["email"]["id"], "--workspace-id", other)
    assert code == 2 and json.loads(err)["error"]["code"] == "not_found"


def test_a_bad_status_is_a_one_line_error_naming_the_field(outbox, capsys):
    code, out, err = run(capsys, "outbox", "--workspace-id", outbox["workspace_id"], "--status", "lost")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    error = json.loads(err)["error"]
    assert error["code"] == "invalid" and "status" in error["fields"]


def test_show_needs_an_email_id(capsys):
    code, _, err = run(capsys, "outbox", "show", "--workspace-id", "0" * 24)
    assert code == 2 and "email id" in err


def test_no_services_is_a_clear_error(settings_env, capsys):
    settings_env(amqp_uri="amqp://guest:guest@127.0.0.1:1/", rpc_timeout="1")
    code, _, err = run(capsys, "outbox", "--workspace-id", "0" * 24)
    assert code == 3 and "make run" in err and len(err.strip().splitlines()) == 1


def test_a_failed_email_shows_its_last_error_under_its_row(capsys):
    def email(n: int, status: str, error: str | None) -> dict[str, Any]:
        return {"id": f"{n:024x}", "created_at": "2026-03-01T09:30:12.345Z", "to": ADDRESS,
                "status": status, "attempts": 5, "subject": f"Estimate EST-000{n}", "last_error": error}

    cli.print_outbox({"emails": [email(2, "failed", "550 5.1.1 No such mailbox"),
                                 email(1, "sent", None)], "next_cursor": "1" * 24})
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith(f"{2:024x}  2026-03-01 09:30  {ADDRESS}  failed")
    assert lines[2] == " " * 26 + "last error: 550 5.1.1 No such mailbox"
    assert lines[3].startswith(f"{1:024x}") and lines[4] == f"More: add --cursor {'1' * 24}"


# -- commands retried under a key ------------------------------------------------------------
def keys_of(workspace_id: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "api-key", "list", "--workspace-id", workspace_id)
    assert code == 0, err
    return json.loads(out)


def test_a_key_created_whose_answer_was_lost_is_created_once(outbox, capsys, monkeypatch):
    """The first answer never arrives (the service did the work): the CLI's own retry, under
    the same key, makes no second key — and says the first one's secret cannot be shown again."""
    workspace_id = outbox["workspace_id"]
    before = len(keys_of(workspace_id, capsys))
    real_call = cli.AmqpClient.call
    lost: list[str] = []

    def answer_lost_once(self, service, method, *args, **kwargs):
        answer = real_call(self, service, method, *args, **kwargs)
        if method == "create_api_key" and not lost:
            lost.append(method)
            raise cli.ServiceUnavailable("identity: no answer in time")
        return answer

    monkeypatch.setattr(cli.AmqpClient, "call", answer_lost_once)
    code, _, err = run(capsys, "api-key", "create", "--workspace-id", workspace_id, "--label", "ci")
    assert code == 2 and "shown only once" in err, err
    monkeypatch.undo()
    assert len(keys_of(workspace_id, capsys)) == before + 1

