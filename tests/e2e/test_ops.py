"""The running stack's ops endpoints: every process's /metrics, the services' and the
worker's probes, and a portal page view seen in the portal's counters."""

from __future__ import annotations

import re

import pytest
import requests

from devtools.stack import SERVICES, WORKER
from tests.running_stack import eventually, ops_metrics

pytestmark = pytest.mark.e2e


def value(text: str, series: str) -> float:
    """The value of one exact series (``name{labels}`` as exported), 0 when absent."""
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_every_process_answers_its_probes_and_metrics(stack, office):
    for name in (*SERVICES, WORKER):
        for probe in ("/livez", "/readyz"):
            answer = requests.get(stack.ops_url(name) + probe, timeout=5)
            assert (answer.status_code, answer.text) == (200, "ok\n"), (name, probe)
        assert value(ops_metrics(stack, name), f'porchlight_amqp_connected{{component="{name}"}}') == 1.0
    # The office was made through the CLI: identity counted the call, by method and outcome.
    identity = ops_metrics(stack, "identity")
    assert value(identity, 'porchlight_rpc_handled_total{method="create_workspace",outcome="ok",'
                           'service="identity"}') >= 1
    assert "porchlight_worker_heartbeat_timestamp_seconds " in ops_metrics(stack, WORKER)
    for gateway in ("portal", "admin"):
        assert requests.get(getattr(stack, f"{gateway}_url") + "/readyz", timeout=5).text == "ok\n"
        connected = f'porchlight_amqp_connected{{component="{gateway}"}}'
        assert value(ops_metrics(stack, gateway), connected) == 1.0
    # Staff's API calls, by the admin's URL rules.
    office.work_order()
    assert value(ops_metrics(stack, "admin"), 'porchlight_http_requests_total{gateway="admin",method="POST",'
                                          'route="/api/v1/work-orders",status="201"}') >= 1


def test_page_views_are_counted_by_their_route_and_later_ones_served_from_memory(stack, office):
    minted = office.share(office.work_order()["id"])
    series = ('porchlight_http_requests_total{gateway="portal",method="GET",route="/portal/fsm/<token>",'
              'status="200"}')
    hits = 'porchlight_portal_read_model_lookups_total{kind="link",result="hit"}'
    before = ops_metrics(stack, "portal")
    views = 0

    def view_until_served_from_memory() -> bool:
        # The portal's event consumer connects with its first view, and until it is bound
        # nothing is kept: a few views may go to the services before one is a hit.
        nonlocal views
        assert requests.get(minted["url"], timeout=10).status_code == 200
        views += 1
        return value(ops_metrics(stack, "portal"), hits) > value(before, hits)

    assert eventually(view_until_served_from_memory, within=10)
    after = ops_metrics(stack, "portal")
    assert value(after, series) == value(before, series) + views
    assert minted["url"].rsplit("/", 1)[-1] not in after  # the token is in no label
    # The portal asked sharing for the link on the first view, and counted the call.
    resolved = 'porchlight_rpc_calls_total{method="resolve_token",outcome="ok",service="sharing"}'
    assert value(after, resolved) >= 1
