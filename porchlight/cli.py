"""``porchlight``: the staff command line.

    porchlight run                          the whole stack, with a demo workspace
    porchlight workspace create --name N    a workspace and its first staff API key
    porchlight api-key create|list|revoke   manage a workspace's staff API keys

Commands other than ``run`` talk to the running services over RabbitMQ (``AMQP_URI``).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from typing import Any

from porchlight import config
from porchlight.errors import InvalidInput, PorchlightError
from porchlight.rpc import RpcPool, ServiceUnavailable


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _pool() -> RpcPool:
    return RpcPool(config.nameko_config(), size=1, timeout=config.rpc_timeout())


def cmd_workspace_create(args: argparse.Namespace) -> int:
    data = {"name": args.name}
    for option in ("currency", "timezone", "brand_colour", "logo_url"):
        if getattr(args, option):
            data[option] = getattr(args, option)
    pool = _pool()
    try:
        created = pool.call("identity", "create_workspace", data, "cli")
    finally:
        pool.close()
    _print({
        "workspace_id": created["workspace"]["id"],
        "workspace": created["workspace"],
        "api_key": created["api_key"],
        "api_key_id": created["api_key_id"],
        "note": "The API key is shown once; store it now.",
    })
    return 0


def cmd_api_key(args: argparse.Namespace) -> int:
    pool = _pool()
    try:
        if args.action == "create":
            result = pool.call(
                "identity", "create_api_key", args.workspace_id, "cli",
                {"label": args.label} if args.label else {},
            )
        elif args.action == "list":
            result = pool.call("identity", "list_api_keys", args.workspace_id)
        else:
            result = pool.call("identity", "revoke_api_key", args.workspace_id, "cli", args.key_id)
    finally:
        pool.close()
    _print(result)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from porchlight.broker import BrokerUnavailable, ensure_broker
    from porchlight.demo import seed
    from porchlight.devstack import Stack

    # py-amqp warns about publish confirms that arrive while a probe's channel closes.
    logging.getLogger("amqp").setLevel(logging.ERROR)
    try:
        ensure_broker(config.amqp_uri())
    except BrokerUnavailable as exc:
        print(f"porchlight: {exc}", file=sys.stderr)
        return 3
    stack = Stack(host=args.host, portal_port=args.portal_port, admin_port=args.admin_port)

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Both signals stop the stack, even where the shell started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        print("Starting identity, sharing, documents, signatures, the worker, portal and admin …", flush=True)
        stack.start()
        if not args.no_demo:
            pool = RpcPool(config.nameko_config(stack.amqp_uri), size=1, timeout=10)
            try:
                demo = seed(pool, stack.admin_url)
            finally:
                pool.close()
            _print_welcome(stack, demo)
        else:
            print(f"Portal: {stack.portal_url}  Admin API: {stack.admin_url}/api/v1")
        print(f"Logs: {stack.log_dir}/. Press Ctrl-C to stop everything.", flush=True)
        while True:
            if dead := stack.dead():
                print(f"porchlight: {', '.join(dead)} stopped unexpectedly; "
                      f"see {stack.log_dir}. Stopping.", file=sys.stderr)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping …", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"porchlight: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C (or SIGTERM) must not interrupt the shutdown half-way and
        # leave children running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def _print_welcome(stack: Any, demo: dict[str, Any]) -> None:
    ws = demo["workspace"]
    print()
    print(f"Porchlight is running. Demo workspace: {ws['name']} ({ws['id']})")
    print()
    print("Customer portal — work-order links (open on a phone or a desktop browser):")
    for link in demo["links"]:
        wo = link["work_order"]
        print(f"  {wo['number']}  {wo['status']:<12} {link['url']}")
    print(f"  revoked link (shows the not-available page): {demo['revoked_url']}")
    print()
    print(f"Estimate to accept or decline:  {demo['estimate_url']}")
    print(f"Service report to sign:         {demo['service_report_url']}")
    print(f"Check a signed PDF:             {stack.portal_url}/verify")
    print()
    print(f"Admin API: {stack.admin_url}/api/v1   (OpenAPI: {stack.admin_url}/api/v1/openapi.json)")
    print(f"Staff API key (shown once): {demo['api_key']}")
    print("Try:")
    print(f"  curl -s -H 'Authorization: Bearer {demo['api_key']}' "
          f"{stack.admin_url}/api/v1/work-orders")
    print()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="porchlight", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run every service and both gateways")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--portal-port", type=int, default=8000)
    run.add_argument("--admin-port", type=int, default=8001)
    run.add_argument("--no-demo", action="store_true", help="do not seed the demo workspace")
    run.set_defaults(func=cmd_run)

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
    args = build_parser().parse_args(argv)
    if getattr(args, "action", None) == "revoke" and not args.key_id:
        print("porchlight: api-key revoke needs --key-id", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except InvalidInput as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message,
                                    "fields": exc.fields}}, indent=2), file=sys.stderr)
        return 2
    except PorchlightError as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}), file=sys.stderr)
        return 2
    except ServiceUnavailable:
        print(f"porchlight: the services do not answer on {config.amqp_uri()}. "
              "Is the stack running? Start it with `make run`.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
