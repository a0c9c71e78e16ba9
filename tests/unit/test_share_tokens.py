import re

import pytest

from porchlight.contracts import share_tokens


def test_minted_tokens_have_the_documented_shape_and_do_not_repeat():
    seen = set()
    for entity_type, prefix in share_tokens.PREFIXES.items():
        for _ in range(50):
            raw = share_tokens.mint(entity_type)
            assert re.fullmatch(prefix + r"_[0-9a-f]{40}", raw)
            assert share_tokens.entity_type_of(raw) == entity_type
            seen.add(raw)
    assert len(seen) == 150


HEX = "0123456789abcdef" * 3


@pytest.mark.parametrize("raw", [
    "wo_" + HEX[:39], "wo_" + HEX[:41], "wo_" + HEX[:40].upper(), "wo_" + HEX[:39] + "g",
    "xx_" + HEX[:40], "wo-" + HEX[:40], "wo_" + HEX[:40] + "\n", " wo_" + HEX[:40],
    "wo_../../" + HEX[:34], "", "wo_", "WO_" + HEX[:40], None, 12,
])
def test_malformed_tokens_name_no_entity(raw):
    assert share_tokens.entity_type_of(raw) is None


def test_digest_is_sha256_hex_and_not_the_token():
    raw = share_tokens.mint("work_order")
    digest = share_tokens.digest(raw)
    assert re.fullmatch(r"[0-9a-f]{64}", digest) and raw[3:] not in digest


def test_redact_hides_tokens_in_text():
    raw = share_tokens.mint("estimate")
    line = f"GET /portal/fsm/estimate/{raw} 200"
    assert raw not in share_tokens.redact(line)
    assert "est_[redacted]" in share_tokens.redact(line)


def test_portal_urls_per_entity_type():
    assert share_tokens.portal_url("http://p/", "work_order", "wo_x") == "http://p/portal/fsm/wo_x"
    assert share_tokens.portal_url("http://p", "estimate", "est_x") == "http://p/portal/fsm/estimate/est_x"


def test_a_reports_file_link_is_redacted_like_a_token() -> None:
    signed = "WyJhYWFh.ZmlsZQ.Xy3-9_kq"  # what URLSafeTimedSerializer makes: letters, digits, . _ -
    line = f"GET /portal/files/{signed} 200 3.1ms"
    assert share_tokens.redact(line) == "GET /portal/files/[redacted] 200 3.1ms"
    assert share_tokens.redact(f"/portal/files/{signed}?download=1") == "/portal/files/[redacted]?download=1"
