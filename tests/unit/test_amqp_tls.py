"""amqps:// against a local TLS listener with certificates from a private CA: every client
(kombu for nameko and Celery, aio-pika for the gateways) believes the broker only when the
CA is trusted (``SSL_CERT_FILE``) and the certificate names the host it dialled."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest
from kombu import Connection
from kombu.transport import TRANSPORT_ALIASES

from porchlight.client import background_loop
from porchlight.runtime import amqp_tls

VERIFIED = "porchlight.runtime.amqp_tls:VerifiedSSLTransport"


@pytest.fixture(autouse=True)
def kombu_as_in_every_process() -> Iterator[None]:
    """The verified transport, as a service or the worker installs it when it starts."""
    amqp_tls.install()
    yield
    amqp_tls.install()


@pytest.mark.parametrize("start", ["service", "worker"])
def test_every_kind_of_kombu_process_installs_the_verified_transport_as_it_starts(start: str) -> None:
    from nameko.testing.services import dummy

    TRANSPORT_ALIASES["amqps"] = "kombu.transport.pyamqp:SSLTransport"  # kombu's own, as at import
    if start == "service":
        from nameko.containers import ServiceContainer

        from porchlight.kit.service_rpc import rpc

        class Service:
            name = "tls_probe"

            @rpc
            def ping(self) -> None: ...

            @dummy
            def other(self) -> None: ...

        container = ServiceContainer(Service, {"AMQP_URI": "amqps://u:p@127.0.0.1:1/"})
        for entrypoint in container.entrypoints:  # what container.start() does first
            entrypoint.setup()
    else:
        from workers.celery_app import create_celery

        create_celery({"broker_url": "amqps://u:p@127.0.0.1:1/"})
    assert TRANSPORT_ALIASES["amqps"] == VERIFIED


skip_without_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and two server certificates: one for this machine's loopback address, one for
    another name."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
             "-days", "2", "-subj", "/CN=Porchlight test CA", cwd=d)
    for name, san in (("right", "IP:127.0.0.1,DNS:localhost"), ("wrong", "DNS:rabbitmq.other.example")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


class TlsListener:
    """Accepts TLS connections with one certificate and records each handshake's outcome;
    it speaks no AMQP, so a client that trusted it fails next on the protocol."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handshakes: list[bool] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            tls = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            try:
                tls.do_handshake()
                self.handshakes.append(True)
            except (ssl.SSLError, OSError):
                self.handshakes.append(False)
            finally:
                tls.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener(request: pytest.FixtureRequest, pki: Path) -> Iterator[TlsListener]:
    name = request.param
    server = TlsListener(pki / f"{name}.pem", pki / f"{name}.key")
    yield server
    server.close()


def kombu_connects(port: int) -> None:
    with Connection(f"amqps://u:p@127.0.0.1:{port}/", connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1)


def aio_pika_connects(port: int) -> None:
    async def connect() -> None:
        connection = await aio_pika.connect(f"amqps://u:p@127.0.0.1:{port}/", timeout=3)
        await connection.close()

    # The process's own loop thread: the tests run under eventlet, where a second asyncio
    # loop on the main thread clashes with one another test left there.
    asyncio.run_coroutine_threadsafe(connect(), background_loop()).result(timeout=10)


@skip_without_openssl
@pytest.mark.parametrize("client", [kombu_connects, aio_pika_connects])
@pytest.mark.parametrize("listener", ["right"], indirect=True)
def test_a_broker_from_an_unknown_ca_is_not_believed(client, listener: TlsListener) -> None:
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        client(listener.port)


@skip_without_openssl
@pytest.mark.parametrize("client", [kombu_connects, aio_pika_connects])
@pytest.mark.parametrize("listener", ["wrong"], indirect=True)
def test_a_certificate_for_another_name_is_not_believed(client, listener: TlsListener, pki: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki / "ca.pem"))
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        client(listener.port)


@skip_without_openssl
@pytest.mark.parametrize("client", [kombu_connects, aio_pika_connects])
@pytest.mark.parametrize("listener", ["right"], indirect=True)
def test_the_brokers_own_certificate_from_the_trusted_ca_is_believed(client, listener: TlsListener, pki: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(pki / "ca.pem"))
    with pytest.raises(Exception) as caught:  # the listener speaks no AMQP
        client(listener.port)
    assert "CERTIFICATE_VERIFY_FAILED" not in str(caught.value)
    assert True in listener.handshakes
