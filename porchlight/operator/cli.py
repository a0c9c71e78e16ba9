"""``porchlight``: the staff command line.

    porchlight workspace create --name N    a workspace and its first staff API key
    porchlight api-key create|list|revoke   manage a workspace's staff API keys
        [--idempotency-key K]               create and revoke act once per key
    porchlight outbox --workspace-id W      the workspace's recent emails, newest first
        [--status S] [--recipient R] [--limit N] [--cursor C] [--json]
    porchlight outbox show EMAIL_ID --workspace-id W [--json]
                                            one email: its headers, state and plain text
    porchlight broker-users commands|apply --vhost V [--management-url URL]
                                            the RabbitMQ users of every process (production)

Every command talks to the running services over RabbitMQ (``PORCHLIGHT_AMQP_URI``).
Starting the stack is a developer's job, not the runtime's: ``make run`` or
``python -m devtools.run``. An error is one line on stderr and a non-zero exit: 2 for a
wrong request (JSON with the error's code and message), 3 when the services do not answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from typing import Any

from porchlight.client import AmqpClient, BrokerRefused, ServiceUnavailable
from porchlight.contracts.errors import InvalidInput, PorchlightError
from porchlight.operator import broker_access
from porchlight.runtime import request_context
from porchlight.runtime.settings import SettingsError, get_settings, redact_uri


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _client() -> AmqpClient:
    settings = get_settings()
    return AmqpClient(settings.amqp_uri, timeout=settings.rpc_timeout, name=broker_access.CLI_CLIENT_NAME)


def cmd_workspace_create(args: argparse.Namespace) -> int:
    data = {"name": args.name}
    for option in ("currency", "timezone", "locale", "brand_colour"):
        if getattr(args, option):
            data[option] = getattr(args, option)
    client = _client()
    try:
        created = client.call("identity", "create_workspace", data, "cli")
    finally:
        client.close()
    _print({
        "workspace_id": created["workspace"]["id"],
        "workspace": created["workspace"],
        "api_key": created["api_key"],
        "api_key_id": created["api_key_id"],
        "note": "The API key is shown once; store it now.",
    })
    return 0


def command(client: AmqpClient, key: str, service: str, method: str, *args: Any) -> Any:
    """A staff command under an idempotency key, tried a second time when no answer came:
    the service keeps the first answer under the key, so the command acts at most once."""
    with request_context.command(key):
        try:
            return client.call(service, method, *args)
        except ServiceUnavailable:
            return client.call(service, method, *args)


def cmd_api_key(args: argparse.Namespace) -> int:
    client = _client()
    key = args.idempotency_key or uuid.uuid4().hex
    try:
        if args.action == "create":
            result = command(client, key, "identity", "create_api_key", args.workspace_id, "cli",
                             {"label": args.label} if args.label else {})
        elif args.action == "list":
            result = client.call("identity", "list_api_keys", args.workspace_id)
        else:
            result = command(client, key, "identity", "revoke_api_key", args.workspace_id, "cli",
                             args.key_id)
    finally:
        client.close()
    _print(result)
    return 0


# -- the outbox --------------------------------------------------------------------------
def _moment(value: str | None) -> str:
    """``2026-03-01T09:30:12.345Z`` as ``2026-03-01 09:30`` (UTC), or ``-``."""
    if not value:
        return "-"
    return value.replace("T", " ")[:16]


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    # The last column (the subject) is not padded.
    widths[-1] = 0
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in (headers, *rows)]


def print_outbox(page: dict[str, Any]) -> None:
    emails = page["emails"]
    if not emails:
        print("No emails.")
        return
    headers = ("ID", "CREATED (UTC)", "TO", "STATUS", "ATTEMPTS", "SUBJECT")
    rows = [(e["id"], _moment(e["created_at"]), e["to"], e["status"], str(e["attempts"]), e["subject"])
            for e in emails]
    lines = _table(headers, rows)
    print(lines[0])
    indent = " " * (len(emails[0]["id"]) + 2)
    for line, email in zip(lines[1:], emails, strict=True):
        print(line)
        if email["status"] == "failed" and email.get("last_error"):
            print(f"{indent}last error: {email['last_error']}")
    if page.get("next_cursor"):
        print(f"More: add --cursor {page['next_cursor']}")


def print_email(email: dict[str, Any]) -> None:
    to = f"{email['recipient_name']} <{email['to']}>" if email.get("recipient_name") else email["to"]
    attachments = ", ".join(a["filename"] for a in email.get("attachments") or []) or "none"
    fields = (
        ("ID", email["id"]),
        ("To", to),
        ("From name", email["sender_name"]),
        ("Reply-To", email.get("reply_to") or "-"),
        ("Subject", email["subject"]),
        ("Status", email["status"]),
        ("Attempts", str(email["attempts"])),
        ("Last error", email.get("last_error") or "-"),
        ("Attachments", attachments),
        ("Created", _moment(email.get("created_at")) + " UTC"),
        ("Sent", _moment(email.get("sent_at")) + (" UTC" if email.get("sent_at") else "")),
    )
    width = max(len(name) for name, _ in fields) + 1
    for name, value in fields:
        print(f"{name + ':':<{width}} {value}")
    print()
    print(email["text_body"].rstrip("\n"))


def cmd_outbox(args: argparse.Namespace) -> int:
    client = _client()
    try:
        if args.action == "show":
            result = client.call("notifications", "get_email", args.workspace_id, args.email_id)
        else:
            query = {name: getattr(args, name) for name in ("status", "recipient", "limit", "cursor")
                     if getattr(args, name) is not None}
            result = client.call("notifications", "list_emails", args.workspace_id, query)
    finally:
        client.close()
    if args.json:
        _print(result)
    elif args.action == "show":
        print_email(result)
    else:
        print_outbox(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="porchlight", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    workspace = sub.add_parser("workspace", help="workspaces").add_subparsers(dest="action", required=True)
    create = workspace.add_parser("create", help="create a workspace and its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--currency", help="ISO 4217 code, default EUR")
    create.add_argument("--timezone", help="IANA zone, default UTC")
    create.add_argument("--locale", help="how numbers and dates are written, like en-US; default en-GB")
    create.add_argument("--brand-colour", dest="brand_colour", help="like #1d4ed8")
    create.set_defaults(func=cmd_workspace_create)

    keys = sub.add_parser("api-key", help="staff API keys")
    keys.add_argument("action", choices=("create", "list", "revoke"))
    keys.add_argument("--workspace-id", required=True)
    keys.add_argument("--label")
    keys.add_argument("--key-id", help="with revoke")
    keys.add_argument("--idempotency-key", help="with create or revoke: running the command again "
                      "with the same key acts once (default: a new key, retried once by itself)")
    keys.set_defaults(func=cmd_api_key)

    outbox = sub.add_parser(
        "outbox", help="the emails Porchlight sent or will send",
        description="List a workspace's recent emails, newest first, or show one with "
                    "`outbox show EMAIL_ID`.")
    outbox.add_argument("action", nargs="?", choices=("list", "show"), default="list",
                        help="list (the default) or show one email")
    outbox.add_argument("email_id", nargs="?", help="with show: the email's id")
    outbox.add_argument("--workspace-id", required=True)
    outbox.add_argument("--status", help="with list: queued, sending, sent or failed")
    outbox.add_argument("--recipient", help="with list: only emails to this address")
    outbox.add_argument("--limit", help="with list: how many, 1 to 100 (default 25)")
    outbox.add_argument("--cursor", help="with list: the id after which to go on (see 'More:')")
    outbox.add_argument("--json", action="store_true", help="print the service's answer as JSON")
    outbox.set_defaults(func=cmd_outbox)
    broker_access.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "revoke" and not args.key_id:
        print("porchlight: api-key revoke needs --key-id", file=sys.stderr)
        return 2
    if args.command == "outbox" and (args.action == "show") != bool(args.email_id):
        print("porchlight: outbox show needs an email id; the list takes none", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except InvalidInput as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message,
                                    "fields": exc.fields}}), file=sys.stderr)
        return 2
    except PorchlightError as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}), file=sys.stderr)
        return 2
    except BrokerRefused as exc:
        print(f"porchlight: {exc}: the user in PORCHLIGHT_AMQP_URI may not make this call; the "
              "command line needs the operator's user (porchlight broker-users --with-operator)",
              file=sys.stderr)
        return 3
    except ServiceUnavailable:
        print(f"porchlight: the services do not answer on {redact_uri(get_settings().amqp_uri)}. "
              "Is the stack running? Start it with `make run`.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
