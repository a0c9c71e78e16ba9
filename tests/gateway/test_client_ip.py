"""The signer's IP: the peer address, or X-Forwarded-For only through trusted proxies."""

import pytest
from flask import Flask

from gateway.web import client_ip


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config["TRUSTED_PROXIES"] = "10.0.0.2, 10.0.0.3"
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
])
def test_client_ip(app, peer, forwarded, expected):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": peer}):
        assert client_ip() == expected
