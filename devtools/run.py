"""``python -m devtools.run`` (what ``make run`` calls): start every service, the worker and
both gateways on this machine, seed a demo workspace, print its links, and stop
everything on Ctrl-C.

Unless ``PORCHLIGHT_SMTP_URL`` names a mail server, the worker sends every email to a local
one that keeps them as ``.eml`` files in ``.stack/mail/``; ``porchlight outbox`` lists them.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from devtools.broker import require_broker
from devtools.demo import seed
from devtools.stack import ROOT, SERVICES, WORKER, Stack
from porchlight.client import AmqpClient
from porchlight.runtime.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.run",
        description="Run every Porchlight service and both gateways, with a demo workspace.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--portal-port", type=int, default=8000)
    parser.add_argument("--admin-port", type=int, default=8001)
    parser.add_argument("--no-demo", action="store_true", help="do not seed the demo workspace")
    parser.add_argument("--replicas", type=int, default=1, choices=range(1, 5), metavar="N",
                        help="run N processes of every service and of the worker (1-4). Replicas "
                             "share their data through PORCHLIGHT_MONGODB_URI or, without it, "
                             "through a local in-memory store the stack starts")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # py-amqp warns about publish confirms that arrive while a probe's channel closes.
    logging.getLogger("amqp").setLevel(logging.ERROR)
    if code := require_broker():
        return code
    replicas = {kind: args.replicas for kind in (*SERVICES, WORKER)}
    stack = Stack(host=args.host, portal_port=args.portal_port, admin_port=args.admin_port,
                  replicas=replicas)

    def _terminate(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    # Both signals stop the stack, even where the shell started us with SIGINT ignored.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        print("Starting identity, sharing, documents, signatures, notifications, the worker, "
              "portal and admin …", flush=True)
        stack.start()
        workspace_id = None
        if not args.no_demo:
            client = AmqpClient(stack.amqp_uri, timeout=10, name="demo")
            try:
                demo = seed(client, stack.admin_url)
            finally:
                client.close()
            print_welcome(stack, demo)
            workspace_id = demo["workspace"]["id"]
        else:
            print(f"Portal: {stack.portal_url}  Admin API: {stack.admin_url}/api/v1")
        print(mail_line(stack, workspace_id))
        print(data_line(stack))
        print("Ops endpoints (/metrics, /livez, /readyz): "
              + ", ".join(f"{name} {stack.ops_url(name)}" for name in stack.processes))
        if stack.users is not None:
            print(stack.users.describe())
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


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it, as a newcomer types it."""
    try:
        return f"{path.relative_to(ROOT)}/"
    except ValueError:
        return f"{path}/"


def mail_line(stack: Stack, workspace_id: str | None = None) -> str:
    """Where the stack's emails go, and how to list them."""
    workspace = workspace_id or "<workspace id>"
    outbox = f"`porchlight outbox --workspace-id {workspace}` lists it"
    if stack.mail is None:
        return f"Mail: sent through the server in PORCHLIGHT_SMTP_URL; {outbox}."
    return (f"Mail: every email is kept in {shown_path(stack.mail_dir)} "
            f"(local server at {stack.mail.url}); {outbox}.")


def data_line(stack: Stack) -> str:
    """Where the services keep their data."""
    if stack.store_uri:
        return (f"Data: in memory in the local store at {stack.store_uri}, which every replica "
                "shares; it is lost when Porchlight stops.")
    if get_settings().mongodb_uri:
        return "Data: in the MongoDB that PORCHLIGHT_MONGODB_URI names."
    return "Data: in memory in each service's process; it is lost when Porchlight stops."


def print_welcome(stack: Stack, demo: dict[str, Any]) -> None:
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
    print(f"The same for a customer who reads French: {demo['french_estimate_url']}")
    print("  (every page has a language menu at the bottom: English, Français, Español, Deutsch)")
    print(f"Service report to sign:         {demo['service_report_url']}")
    print(f"Check a signed PDF:             {stack.portal_url}/verify")
    print()
    customer = demo["customer"]
    print(f"Emails to {customer['name']} <{customer['email']}>:")
    for what, reply in demo["customer_emails"].items():
        email = reply.get("email") or {}
        if reply["status"] == "queued":
            print(f"  {what}: queued — {email.get('subject')} ({email.get('id')})")
        else:
            print(f"  {what}: {reply['status']} — {reply.get('reason')}")
    print(f"  See the outbox: porchlight outbox --workspace-id {ws['id']}")
    print()
    contact = demo["contact"]
    print(f"Customer accounts: {contact['name']} may sign in at {stack.portal_url}/portal once invited:")
    print(f"  curl -s -X POST -H 'Authorization: Bearer {demo['api_key']}' {stack.admin_url}/api/v1"
          f"/customers/{contact['customer_id']}/contacts/{contact['id']}/invite")
    print(f"  then open the invitation in {stack.mail_dir if stack.mail else 'your mailbox'}"
          " and follow its link (or type its code).")
    print()
    project = demo["project"]
    print(f"Project {project['number']} \"{project['name']}\" (active, 40 % done, three tasks, hours logged,"
          f" two documents, the team's comments, an information request with three items)")
    print(f"  is shared with {demo['customer']['name']} at comment level: once signed in, open")
    print(f"  {stack.portal_url}/portal/projects  (Projects in the menu; Active projects on the overview;"
          " its Documents and Comments tabs; Documents and Information requests in the menu)")
    print()
    print(f"Admin API: {stack.admin_url}/api/v1   (OpenAPI: {stack.admin_url}/api/v1/openapi.json)")
    print(f"Staff API key (shown once): {demo['api_key']}")
    print("Try:")
    print(f"  curl -s -H 'Authorization: Bearer {demo['api_key']}' "
          f"{stack.admin_url}/api/v1/work-orders")
    print()


if __name__ == "__main__":
    sys.exit(main())
