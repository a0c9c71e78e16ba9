"""The "signature to PDF" section of ``bench/portal_pages.py``.

Staff create completed service reports through the admin API; a customer signs each one
over HTTP exactly as the portal's form does (GET the page for its CSRF token in a cookie
session, then POST the typed name and the pad's path data); staff then poll
``GET /api/v1/service-reports/<id>/pdf`` every 50 ms until it answers 200. Two figures per
report: how long the signing POST took to answer (the customer must be answered at once),
and the time from that answer to the signed PDF being downloadable.

Reports are signed sequentially: the next one is signed only once the previous one's PDF is
ready, so the figures are the latency of one signature through the queue and the worker,
not the time a queue of N renders takes to drain.
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

POLL_INTERVAL_S = 0.05
# The longest a measured report may wait for its PDF before the run is called failed; the
# warm-up report gets longer, since the Celery worker may still be starting up.
PDF_TIMEOUT_S = 60.0
WARMUP_PDF_TIMEOUT_S = 120.0
MODE = "sequential"
MODE_DETAIL = "sequential: one report at a time, the next signed once the previous PDF was ready"

NARRATIVE = (
    "Replaced the circulation pump and both isolation valves.\n"
    "Drained, refilled and bled the system; pressure holds at 1.4 bar after 30 minutes.\n"
    "Checked every radiator for heat and balanced the two upstairs."
)


class PdfBenchError(RuntimeError):
    """The signature-to-PDF measurement could not be made."""


def pad_path() -> str:
    """A realistic two-stroke signature as the portal's 480×160 pad sends it: a looping
    cursive name of 90 points, then an underline of 24, numbers to one decimal."""

    def stroke(points: Sequence[tuple[float, float]]) -> str:
        return " ".join(f"{'L' if i else 'M'}{x:.1f} {y:.1f}" for i, (x, y) in enumerate(points))

    name = []
    for i in range(90):
        t = i / 89
        x = 40 + 300 * t + 14 * math.sin(9 * math.pi * t)
        y = 78 - 30 * math.sin(6 * math.pi * t) * (1 - 0.4 * t) + 6 * math.cos(15 * math.pi * t)
        name.append((x, y))
    underline = []
    for i in range(24):
        t = i / 23
        underline.append((70 + 310 * t, 128 - 10 * t + 3 * math.sin(2 * math.pi * t)))
    return f"{stroke(name)} {stroke(underline)}"


SIGNATURE_PATH = pad_path()


# -- staff side -----------------------------------------------------------------------


class StaffApi:
    """The admin API with one workspace's staff key, on one keep-alive session."""

    def __init__(self, admin_url: str, api_key: str) -> None:
        self.base = admin_url + "/api/v1"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {api_key}"

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(self.base + path, json=body or {}, timeout=10)
        if response.status_code not in (200, 201):
            raise PdfBenchError(f"POST {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.patch(self.base + path, json=body, timeout=10)
        if response.status_code != 200:
            raise PdfBenchError(f"PATCH {path} answered {response.status_code}: {response.text[:500]}")
        return response.json()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=10)

    def close(self) -> None:
        self.http.close()


@dataclass(frozen=True)
class Report:
    id: str
    number: str
    url: str  # the customer's signing page


def create_reports(api: StaffApi, customer_id: str, count: int) -> list[Report]:
    """``count`` service reports awaiting signature, each on a completed work order of its own."""
    reports = []
    for n in range(1, count + 1):
        wo = api.post("/work-orders", {
            "title": f"Circulation pump replacement ({n})", "status": "completed",
            "customer_id": customer_id, "location": "12 Orchard Lane\nRiverside, RS1 4AB",
            "description": "The pump is noisy and the upstairs radiators stay cold.",
        })
        created = api.post("/service-reports", {"work_order_id": wo["id"], "narrative": NARRATIVE})
        done = api.post(f"/service-reports/{created['id']}/complete")
        reports.append(Report(created["id"], created["number"], done["url"]))
    return reports


# -- one signature ----------------------------------------------------------------------


def csrf_token(html: str, page: str = "the service-report page") -> str:
    """The CSRF token of a portal form (the soak's estimate page uses it too)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise PdfBenchError(f"{page} has no CSRF token")
    return match[1]


def sign_and_wait(api: StaffApi, report: Report, timeout: float = PDF_TIMEOUT_S,
                  poll_interval: float = POLL_INTERVAL_S) -> dict[str, Any]:
    """Sign ``report`` like a customer, then poll its PDF until it is ready; the timings (ms)."""
    with requests.Session() as customer:
        page = customer.get(report.url, timeout=10)
        if page.status_code != 200 or "Submit signature" not in page.text:
            raise PdfBenchError(f"the signing page of {report.number} answered {page.status_code}")
        form = {"csrf_token": csrf_token(page.text), "signer_name": "Alex Morgan",
                "signature_path": SIGNATURE_PATH}
        started = time.perf_counter()
        signed = customer.post(report.url, data=form, timeout=10, allow_redirects=False)
        answered = time.perf_counter()
    if signed.status_code != 303:
        raise PdfBenchError(f"signing {report.number} answered {signed.status_code}, expected 303: "
                            f"{signed.text[:500]}")
    polls = 0
    while True:
        polls += 1
        response = api.get(f"/service-reports/{report.id}/pdf")
        if response.status_code == 200:
            ready = time.perf_counter()
            break
        if response.status_code != 409 or "not ready" not in response.text:
            raise PdfBenchError(f"GET the PDF of {report.number} answered {response.status_code}: "
                                f"{response.text[:500]}")
        now = time.perf_counter()
        if now - answered > timeout:
            raise PdfBenchError(f"the PDF of {report.number} was not ready {timeout:g}s after "
                                "the signature; is the Celery worker running?")
        time.sleep(max(0.0, answered + polls * poll_interval - now))  # a fixed 50 ms cadence
    content = response.content
    if (response.headers.get("Content-Type") != "application/pdf" or not content.startswith(b"%PDF")
            or response.headers.get("X-Content-SHA256") != hashlib.sha256(content).hexdigest()):
        raise PdfBenchError(f"the PDF of {report.number} is not the PDF its headers describe")
    return {
        "report_id": report.id,
        "number": report.number,
        "signing_post_ms": round(1000 * (answered - started), 2),
        "pdf_ready_ms": round(1000 * (ready - answered), 2),
        "polls": polls,
        "pdf_bytes": len(content),
    }


# -- the batch --------------------------------------------------------------------------


def nearest_rank(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "p95": round(nearest_rank(values, 0.95), 2),
        "max": round(max(values), 2),
        "min": round(min(values), 2),
    }


def measure_batch(api: StaffApi, reports: Sequence[Report],
                  progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Sign every report in turn (sequentially) and summarise the timings."""
    runs = []
    for report in reports:
        runs.append(sign_and_wait(api, report))
        if progress and len(runs) % 10 == 0:
            progress(f"  {len(runs)}/{len(reports)} signed and rendered")
    return {
        "mode": MODE,
        "mode_detail": MODE_DETAIL,
        "reports": len(runs),
        "poll_interval_ms": round(1000 * POLL_INTERVAL_S),
        "percentiles": "median; p95 by nearest rank",
        "signing_post_ms": summary([r["signing_post_ms"] for r in runs]),
        "signature_to_pdf_ms": summary([r["pdf_ready_ms"] for r in runs]),
        "per_report": runs,
    }


def print_figures(figures: dict[str, Any]) -> None:
    warmup = figures.get("warmup")
    print()
    print(f"Signature to PDF: {figures['reports']} service reports, {figures['mode_detail']}.")
    print(f"  The PDF is polled every {figures['poll_interval_ms']} ms"
          + (f"; 1 warm-up report before them is not counted (its PDF was ready in "
             f"{warmup['pdf_ready_ms']:.0f} ms)." if warmup else "."))
    print(f"  {'':<36} {'median':>8} {'p95':>8} {'max':>8}")
    for label, key in (("signing POST answered (ms)", "signing_post_ms"),
                       ("signature answered → PDF ready (ms)", "signature_to_pdf_ms")):
        fig = figures[key]
        print(f"  {label:<36} {fig['median']:>8.1f} {fig['p95']:>8.1f} {fig['max']:>8.1f}")
