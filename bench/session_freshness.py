"""The session-freshness section of ``bench/portal_pages.py``: once a session has ended, how
soon is it refused — on every portal process?

Each portal process keeps who a session cookie signs in in its memory (``PortalReads.session``
in ``gateway/portal/reads.py``) and drops it when identity announces a change to the contact.
So an ended session is refused at its next request only once that event has reached the
process that request lands on. Two kinds of trial, ``--session-trials`` (default 30) of each:

* sign-out everywhere: a contact signed in on two devices, a phone and a laptop; the laptop
  signs out everywhere — the profile page's form, ``POST /portal/sign-out`` with
  ``everywhere=yes`` — which ends the phone's session too (the realistic case: the phone is
  lost);
* remove access: staff ``POST /api/v1/customers/<id>/contacts/<id>/remove-access``.

Before the change, the phone's session is in the memory of every portal process: the trial
opens keep-alive connections to the portal until each gunicorn worker has taken one (which
worker took a connection is read from Linux's /proc: the process holding the socket whose
peer is the connection's local address) and views the signed-in dashboard on each. Once the
change's answer has returned, it asks ``GET /portal`` with the phone's cookie on those
connections in turn, as fast as one client can, until each has been refused (303 to the
sign-in page). The figure is the time from that answer until the last process refused; until
the first refusal is kept too. A trial still answered 200 after 5 s fails the run.

Sessions without email: the emailed code goes to a contact at most once in 3 minutes, so each
trial has a contact of its own, added by staff (``POST /customers/<id>/contacts``, to a
customer the section makes in the demo workspace), given a temporary password by staff, who
signs in with it (``POST /portal/sign-in/password``) and chooses their own
(``/portal/choose-password``), as the portal makes them; the laptop then signs in with that
one. Nobody is invited: staff's invitation window (50 per workspace in 24 hours) is untouched,
and no record email goes to these contacts. identity counts sign-in tries per address (10 in
15 minutes; a contact here makes at most two) and per IP (50 in 15 minutes, more than the
trials need): each device connects from a loopback address of its own (127.0.1.1, 127.0.1.2,
…), as devices on different networks would, so the trials leave 127.0.0.1's limit, which the
other sections' sign-ins use, alone.
"""

from __future__ import annotations

import http.client
import itertools
import os
import secrets
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from portal_reads import FreshnessError, poll, summary
from requests.adapters import HTTPAdapter
from signature_pdf import StaffApi, csrf_token
from soak import process_tree

from gateway.portal.session import PLAIN_COOKIE

# What every trial's contact chooses for their password (at least 12 characters, not a
# common one, not their name or address).
PASSWORD = "copper lantern orchard meadow"
# Views of the dashboard on each connection before the change (the first one fills the
# process's memory).
WARM_VIEWS = 3
# Connections opened, at most, per portal process to find one that each process took.
TRIES_PER_PROCESS = 10
KINDS = ("sign_out_everywhere", "remove_access")


# -- a contact's devices ----------------------------------------------------------------


def loopback_addresses() -> Iterator[str]:
    """127.0.1.1, 127.0.1.2, …: one per device, each a network of its own to identity's
    per-IP limits. Linux's loopback interface holds all of 127.0.0.0/8, so a connection to the
    stack's 127.0.0.1 may come from any of them."""
    for n in itertools.count():
        yield f"127.0.{1 + n // 254}.{1 + n % 254}"


class FromAddress(HTTPAdapter):
    """Connects from ``source`` rather than the kernel's choice."""

    def __init__(self, source: str) -> None:
        self.source = source  # before HTTPAdapter's __init__, which makes the pool manager
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.source, 0), **kwargs)


class Device:
    """A contact's browser on one device: a cookie session, from an address of its own."""

    def __init__(self, portal_url: str, source: str) -> None:
        self.portal_url, self.source = portal_url, source
        self.http = requests.Session()
        self.http.mount("http://", FromAddress(source))

    def form(self, path: str, page: str) -> str:
        """The CSRF token of the form on ``path``'s page."""
        answer = self.http.get(self.portal_url + path, timeout=10, allow_redirects=False)
        if answer.status_code != 200:
            raise FreshnessError(f"GET {path} answered {answer.status_code}")
        return csrf_token(answer.text, page)

    def post(self, path: str, form: dict[str, str], then: str) -> None:
        """Send a form; the portal must answer with a redirect to a path ending ``then``."""
        answer = self.http.post(self.portal_url + path, data=form, timeout=10, allow_redirects=False)
        if answer.status_code != 303 or not answer.headers.get("Location", "").endswith(then):
            raise FreshnessError(f"POST {path} answered {answer.status_code} "
                                 f"({answer.headers.get('Location')}), not a redirect to {then}: "
                                 f"{answer.text[:300]}")

    def sign_in(self, email: str, password: str, then: str) -> None:
        token = self.form("/portal/sign-in", "the sign-in page")
        self.post("/portal/sign-in/password", {"csrf_token": token, "email": email, "password": password},
                  then)

    def choose_password(self) -> None:
        """After a temporary password: the contact's own, ``PASSWORD``."""
        token = self.form("/portal/choose-password", "the choose-password page")
        self.post("/portal/choose-password",
                  {"csrf_token": token, "new_password": PASSWORD, "confirm_password": PASSWORD}, "/portal")

    @property
    def session(self) -> str:
        return self.http.cookies[PLAIN_COOKIE]

    def close(self) -> None:
        self.http.close()


# -- connections, and the portal process behind each ---------------------------------------


class Line:
    """One keep-alive connection to the portal from a device, asking with its session
    cookie; ``process``: the portal worker that took it."""

    def __init__(self, portal_url: str, device: Device) -> None:
        parts = urlsplit(portal_url)
        self.server = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.http = http.client.HTTPConnection(*self.server, timeout=10, source_address=(device.source, 0))
        self.headers = {"Cookie": f"{PLAIN_COOKIE}={device.session}"}
        self.process: int | None = None
        self.refused_at: float | None = None

    def dashboard(self) -> http.client.HTTPResponse:
        try:
            self.http.request("GET", "/portal", headers=self.headers)
            answer = self.http.getresponse()
            answer.read()
        except (http.client.HTTPException, OSError) as exc:
            # gunicorn closes a connection idle for longer than its keep-alive (2 s): a
            # trial's steps follow each other far sooner unless the machine is swamped.
            raise FreshnessError(f"the connection to portal process {self.process} failed: {exc!r}") from exc
        return answer

    def signed_in(self) -> bool:
        """Whether the dashboard answers as signed in (200) or refuses (303 to the sign-in
        page); anything else fails the run."""
        answer = self.dashboard()
        if answer.status == 200:
            return True
        if answer.status == 303 and (answer.getheader("Location") or "").endswith("/portal/sign-in"):
            return False
        raise FreshnessError(f"GET /portal answered {answer.status} ({answer.getheader('Location')})")

    def close(self) -> None:
        self.http.close()


def _address(hex_address: str) -> tuple[str, int]:
    """An IPv4 ``address:port`` of /proc/net/tcp (hex; the address in host byte order)."""
    ip, port = hex_address.split(":")
    return socket.inet_ntoa(struct.pack("=I", int(ip, 16))), int(port, 16)


def process_of(line: Line, processes: list[int]) -> int | None:
    """The process, of ``processes``, that holds the server's end of ``line``'s connection."""
    client = line.http.sock.getsockname()[:2]
    inode = None
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        if _address(fields[1]) == line.server and _address(fields[2]) == client:
            inode = f"socket:[{fields[9]}]"
            break
    for pid in processes if inode else ():
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == inode:
                    return pid
            except OSError:
                continue  # closed meanwhile
    return None


def on_every_process(portal_url: str, device: Device, processes: list[int]) -> list[Line]:
    """One connection to each portal process, each with the device's session viewed
    ``WARM_VIEWS`` times: the session is in every process's memory."""
    taken: dict[int, Line] = {}
    try:
        for _ in range(TRIES_PER_PROCESS * len(processes)):
            line = Line(portal_url, device)
            if not line.signed_in():
                raise FreshnessError("a session just signed in was refused")
            line.process = process_of(line, processes)
            if line.process is None or line.process in taken:
                line.close()
                continue
            taken[line.process] = line
            if len(taken) == len(processes):
                break
        else:
            raise FreshnessError(f"{TRIES_PER_PROCESS * len(processes)} connections reached only the "
                                 f"portal processes {sorted(taken)} of {processes}")
        for line in taken.values():
            for _ in range(WARM_VIEWS - 1):
                if not line.signed_in():
                    raise FreshnessError("a session was refused while warming up")
    except BaseException:
        close(*taken.values())
        raise
    return list(taken.values())


def close(*connections: Line | Device) -> None:
    for connection in connections:
        connection.close()


def refusals(lines: list[Line], answered: float) -> dict[str, Any]:
    """After a change that ended the lines' session answered at ``answered``
    (``time.perf_counter()``): the milliseconds until every process, and until the first,
    refused the session, asked in turn as fast as one client can."""
    turns = itertools.cycle(lines)

    def ask() -> None:
        line = next(line for line in turns if line.refused_at is None)
        if not line.signed_in():
            line.refused_at = time.perf_counter()

    every = poll(ask, lambda _: all(line.refused_at is not None for line in lines), started=answered)
    by_process = {str(line.process): 1000 * (line.refused_at - answered) for line in lines if line.refused_at}
    return {"every_ms": every, "first_ms": min(by_process.values()), "by_process_ms": by_process}


# -- the trials ---------------------------------------------------------------------------


class Trials:
    """The section's customer, the addresses of its devices and the portal's processes."""

    def __init__(self, api: StaffApi, portal_url: str, processes: list[int]) -> None:
        self.api, self.portal_url, self.processes = api, portal_url, processes
        self.addresses = loopback_addresses()
        self.customer = api.post("/customers", {"name": "Sam Freshness",
                                                "email": "sam.freshness@example.org"})
        self.contacts = 0

    def device(self) -> Device:
        return Device(self.portal_url, next(self.addresses))

    def contact(self) -> tuple[str, str, str]:
        """A new contact with a temporary password from staff: the contact's path in the
        admin API, their address and that password."""
        self.contacts += 1
        email = f"trial.{self.contacts}.{secrets.token_hex(4)}@freshness.example.org"
        path = f"/customers/{self.customer['id']}/contacts"
        contact = self.api.post(path, {"name": f"Pat Trial {self.contacts}", "email": email,
                                       "role": "member"})
        path += f"/{contact['id']}"
        temporary = self.api.post(path + "/temporary-password")["temporary_password"]
        return path, email, temporary

    def signed_in(self, email: str, temporary: str) -> Device:
        """The contact's phone, signed in with staff's temporary password, then their own."""
        phone = self.device()
        phone.sign_in(email, temporary, then="/portal/choose-password")
        phone.choose_password()
        return phone

    def after(self, phone: Device, change: Callable[[], Any]) -> dict[str, Any]:
        """The phone's session in every portal process's memory; then ``change``, and how
        long after its answer each process refused the session."""
        lines = on_every_process(self.portal_url, phone, self.processes)
        try:
            change()
            return refusals(lines, time.perf_counter())
        finally:
            close(*lines)

    def sign_out_everywhere(self) -> dict[str, Any]:
        """The laptop signs out everywhere, with the profile page's form."""
        _path, email, temporary = self.contact()
        phone, laptop = self.signed_in(email, temporary), self.device()
        try:
            laptop.sign_in(email, PASSWORD, then="/portal")
            form = {"csrf_token": laptop.form("/portal/profile", "the profile page"), "everywhere": "yes"}
            return self.after(phone, lambda: laptop.post("/portal/sign-out", form, then="/portal/sign-in"))
        finally:
            close(phone, laptop)

    def remove_access(self) -> dict[str, Any]:
        """Staff remove the contact's access."""
        path, email, temporary = self.contact()
        phone = self.signed_in(email, temporary)
        try:
            return self.after(phone, lambda: self.api.post(path + "/remove-access"))
        finally:
            phone.close()


def session_freshness(api: StaffApi, portal_url: str, portal_leader: int, trials: int,
                      progress: Callable[[str], None] = print) -> dict[str, Any]:
    """``trials`` of each kind against the running stack (``portal_leader``: the pid of the
    portal's gunicorn master, whose workers are the processes)."""
    processes = process_tree(portal_leader)[1:]
    if not processes:
        raise FreshnessError("the portal gateway has no worker processes to measure")
    runs = Trials(api, portal_url, processes)
    measured: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        for n in range(1, trials + 1):
            measured[kind].append(getattr(runs, kind)())
            if n % 10 == 0 or n == trials:
                progress(f"  {kind.replace('_', ' ')}: {n}/{trials} trials")
    figures: dict[str, Any] = {
        "trials": trials, "processes": len(processes), "contacts": runs.contacts,
        "figure": "ms from the change's answer until every portal process refused the session",
    }
    for kind, runs_of_kind in measured.items():
        figures[kind] = {**summary([run["every_ms"] for run in runs_of_kind]),
                         "first_refusal": summary([run["first_ms"] for run in runs_of_kind]),
                         "per_trial": runs_of_kind}
    figures["worst_ms"] = max(figures[kind]["max_ms"] for kind in KINDS)
    return figures


def print_figures(figures: dict[str, Any]) -> None:
    print()
    print(f"Session freshness: {figures['trials']} trials of each kind, {figures['contacts']} contacts "
          f"signed in by password; each timed from the change's answer until every one of the portal's "
          f"{figures['processes']} processes refused the session (and until the first did).")
    print(f"  {'(ms)':<36} {'p50':>8} {'p99':>8} {'worst':>8}   {'first p50':>9} {'first worst':>11}")
    for kind, label in (("sign_out_everywhere", "refused after sign-out everywhere"),
                        ("remove_access", "refused after access removed")):
        fig = figures[kind]
        first = fig["first_refusal"]
        print(f"  {label:<36} {fig['p50_ms']:>8.1f} {fig['p99_ms']:>8.1f} {fig['max_ms']:>8.1f}   "
              f"{first['p50_ms']:>9.1f} {first['max_ms']:>11.1f}")
