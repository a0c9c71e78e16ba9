"""The signer's IP: the peer address, or X-Forwarded-For only through trusted proxies."""

import pytest
from flask import Flask

from gateway.web import client_ip


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config["TRUSTED_PROXIES"] = "10.0.0.2, 10.0.0.3, 10.1.0.0/16, fd00::/64"
    return app


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.9", None, "203.0.113.9"),  # no proxy
    ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # an untrusted peer cannot claim another address
    ("10.0.0.2", "198.51.100.1", "198.51.100.1"),  # our proxy vouches for the customer
    ("10.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a spoofed first hop is ignored
    ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # two of our proxies in a row
    ("10.0.0.2", "not-an-ip", "10.0.0.2"),  # garbage: fall back to the peer
    ("10.0.0.2", None, "10.0.0.2"),
    ("10.0.0.2", "2001:DB8::1", "2001:db8::1"),
    ("10.1.7.9", "198.51.100.1", "198.51.100.1"),  # anywhere in a trusted network
    ("10.1.7.9", "198.51.100.1, 10.1.200.3", "198.51.100.1"),  # two hops inside it
    ("10.2.0.1", "198.51.100.1", "10.2.0.1"),  # just outside it: not believed
    ("fd00::7", "2001:db8::9", "2001:db8::9"),  # an IPv6 network
])
def test_client_ip(app, peer, forwarded, expected):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": peer}):
        assert client_ip() == expected


def test_a_proxy_sending_x_forwarded_for_with_nothing_trusted_is_warned_about_once(caplog, monkeypatch):
    import gateway.web

    monkeypatch.setattr(gateway.web, "_unheeded_warned", False)
    app = Flask(__name__)
    app.config["TRUSTED_PROXIES"] = ""
    for _ in range(3):
        with app.test_request_context("/", headers={"X-Forwarded-For": "198.51.100.1"},
                                      environ_base={"REMOTE_ADDR": "10.0.0.2"}):
            assert client_ip() == "10.0.0.2"
    warnings = [r for r in caplog.records if "PORCHLIGHT_TRUSTED_PROXIES is empty" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


def test_a_public_peer_or_a_request_without_the_header_is_no_cause_for_a_warning(caplog, monkeypatch):
    import gateway.web

    monkeypatch.setattr(gateway.web, "_unheeded_warned", False)
    app = Flask(__name__)
    app.config["TRUSTED_PROXIES"] = ""
    # (The documentation ranges, 203.0.113.0/24 and the like, count as private.)
    for peer, headers in (("93.184.216.34", {"X-Forwarded-For": "198.51.100.1"}), ("10.0.0.2", {})):
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": peer}):
            client_ip()
    assert "PORCHLIGHT_TRUSTED_PROXIES" not in caplog.text
