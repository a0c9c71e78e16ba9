"""``porchlight``: the staff command line.

    porchlight workspace create --name N    a workspace and its first staff API key
    porchlight api-key create|list|revoke   manage a workspace's staff API keys

Every command talks to the running services over RabbitMQ (``PORCHLIGHT_AMQP_URI``).
Starting the stack is a developer's job, not the runtime's: ``make run`` or
``python -m devtools.run``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from porchlight.amqp import AmqpClient, ServiceUnavailable
from porchlight.errors import InvalidInput, PorchlightError
from porchlight.settings import SettingsError, get_settings, redact_uri


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _client() -> AmqpClient:
    settings = get_settings()
    return AmqpClient(settings.amqp_uri, timeout=settings.rpc_timeout, name="porchlight-cli")


def cmd_workspace_create(args: argparse.Namespace) -> int:
    data = {"name": args.name}
    for option in ("currency", "timezone", "brand_colour", "logo_url"):
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


def cmd_api_key(args: argparse.Namespace) -> int:
    client = _client()
    try:
        if args.action == "create":
            result = client.call(
                "identity", "create_api_key", args.workspace_id, "cli",
                {"label": args.label} if args.label else {},
            )
        elif args.action == "list":
            result = client.call("identity", "list_api_keys", args.workspace_id)
        else:
            result = client.call("identity", "revoke_api_key", args.workspace_id, "cli", args.key_id)
    finally:
        client.close()
    _print(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="porchlight", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    workspace = sub.add_parser("workspace", help="workspaces").add_subparsers(dest="action", required=True)
    create = workspace.add_parser("create", help="create a workspace and its first API key")
    create.add_argument("--name", required=True)
    create.add_argument("--currency", help="ISO 4217 code, default EUR")
    create.add_argument("--timezone", help="IANA zone, default UTC")
    create.add_argument("--brand-colour", dest="brand_colour", help="like #1d4ed8")
    create.add_argument("--logo-url", dest="logo_url", help="https:// address of a logo")
    create.set_defaults(func=cmd_workspace_create)

    keys = sub.add_parser("api-key", help="staff API keys")
    keys.add_argument("action", choices=("create", "list", "revoke"))
    keys.add_argument("--workspace-id", required=True)
    keys.add_argument("--label")
    keys.add_argument("--key-id", help="with revoke")
    keys.set_defaults(func=cmd_api_key)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "revoke" and not args.key_id:
        print("porchlight: api-key revoke needs --key-id", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except InvalidInput as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message,
                                    "fields": exc.fields}}, indent=2), file=sys.stderr)
        return 2
    except PorchlightError as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}), file=sys.stderr)
        return 2
    except ServiceUnavailable:
        print(f"porchlight: the services do not answer on {redact_uri(get_settings().amqp_uri)}. "
              "Is the stack running? Start it with `make run`.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
