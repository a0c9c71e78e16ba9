"""The admin API keeps the promise its own OpenAPI document makes, checked by a tool
none of us wrote: schemathesis generates requests from ``/api/v1/openapi.json`` — valid
ones, schema-violating ones, and stateful sequences that follow the document's links
(create an estimate, send it, revoke its link, …) — against the running stack, and
checks every answer: no server error, only documented statuses, content types, headers
and bodies that match their schemas, schema-violating input refused, created resources
findable, authentication enforced, 405 with ``Allow``.

Two checks are left out on purpose: ``positive_data_acceptance`` (a request the schema
allows may still break a business rule only the service can check, e.g. a valid-until
date in the past) and ``object_level_authorization`` (tenant isolation is tested
directly, with two workspaces, in the gateway and end-to-end tests).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.running_stack import office_of

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

EXCLUDED_CHECKS = "positive_data_acceptance,object_level_authorization"
MAX_EXAMPLES = 40
SEED = 20261121


def test_admin_api_keeps_its_documented_contract(stack):
    # A workspace of its own: the generated requests rename it and change its branding
    # (PATCH /workspace), which the other end-to-end tests' office must not see.
    office = office_of(stack, "Contract Testing Ltd")
    report_dir = ROOT / "tests" / "output" / "schemathesis"
    report_dir.mkdir(parents=True, exist_ok=True)
    run = subprocess.run([
        str(Path(sys.executable).parent / "st"), "run", stack.admin_url + "/api/v1/openapi.json",
        "--header", f"Authorization: Bearer {office.api_key}",
        "--checks", "all", "--exclude-checks", EXCLUDED_CHECKS,
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--request-timeout", "20", "--suppress-health-check", "too_slow,filter_too_much",
        "--report", "junit", "--report-junit-path", str(report_dir / "junit.xml"),
    ], capture_output=True, text=True, timeout=1500, cwd=report_dir)
    (report_dir / "output.txt").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    # The run did real work: every operation tested, the stateful phase run, many cases.
    operations = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", run.stdout)
    assert operations and operations.group(1) == operations.group(2) == operations.group(3), run.stdout
    assert re.search(r"Scenarios: +[1-9]", run.stdout), run.stdout  # the stateful phase ran
    generated = int(re.search(r"(\d+) generated", run.stdout).group(1))
    assert generated >= 20 * int(operations.group(1)), run.stdout
    assert (report_dir / "junit.xml").exists()
