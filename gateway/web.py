"""What both gateways share: the AMQP client, security headers, token-safe logging, request ids."""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import logging
import threading
import time
from typing import Any
from urllib.parse import quote

from flask import Flask, g, request

from gateway.ops import gateway_name, install_ops
from porchlight.client import AmqpClient
from porchlight.client.measured import MeasuredAmqpClient
from porchlight.contracts import share_tokens
from porchlight.contracts.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from porchlight.runtime import logs, request_context
from porchlight.runtime.settings import Settings, get_settings

log = logging.getLogger(__name__)
access_log = logging.getLogger("porchlight.access")

# One place that says which service error becomes which HTTP status.
HTTP_STATUS = {
    InvalidInput: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooManyRequests: 429,
    Unavailable: 503,
}


def status_for(exc: Exception) -> int:
    for exc_type, status in HTTP_STATUS.items():
        if isinstance(exc, exc_type):
            return status
    return 500


class RedactTokens(logging.Filter):
    """Rewrites any share token in a log record before a handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = share_tokens.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error", "porchlight.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


def default_config(settings: Settings | None = None) -> dict[str, Any]:
    """The gateways' Flask configuration, from the process's settings."""
    settings = settings or get_settings()
    return {
        "AMQP_URI": settings.amqp_uri,
        "RPC_TIMEOUT": settings.rpc_timeout,
        "PORTAL_BASE_URL": settings.portal_base_url,
        # Addresses of reverse proxies whose X-Forwarded-For we believe (comma-separated).
        "TRUSTED_PROXIES": ",".join(settings.trusted_proxies),
        "PORTAL_CACHE_SECONDS": settings.portal_cache_seconds,
        "PORTAL_CACHE_ENTRIES": settings.portal_cache_entries,
        "VIEW_FLUSH_SECONDS": settings.view_flush_seconds,
        "FILE_LINK_SECONDS": settings.file_link_seconds,
        "SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else None,
    }


@functools.lru_cache(maxsize=8)
def _networks(trusted: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in trusted.split(",") if p.strip())


def _trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


_unheeded_warned = False


def client_ip() -> str:
    """The customer's address: the peer, or — only when the peer is one of our trusted
    proxies (``PORCHLIGHT_TRUSTED_PROXIES``: addresses or networks) — the nearest address in
    X-Forwarded-For that is not a trusted proxy."""
    from flask import current_app

    global _unheeded_warned
    networks = _networks(str(current_app.config.get("TRUSTED_PROXIES", "")))
    peer = request.remote_addr or "0.0.0.0"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if not _trusted(peer, networks):
        if forwarded and not networks and not _unheeded_warned and _private(peer):
            _unheeded_warned = True  # once per process: the cause is the configuration
            log.warning("a proxy at %s sends X-Forwarded-For, but PORCHLIGHT_TRUSTED_PROXIES is "
                        "empty: every customer seems to come from it, and the per-IP sign-in "
                        "limits are one limit for all of them", peer)
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def _private(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_private
    except ValueError:
        return False


def configure(app: Flask, test_config: dict | None) -> None:
    """The settings (``PORCHLIGHT_*`` variables and their defaults), then the test mapping."""
    settings = get_settings()
    app.config.from_mapping(default_config(settings))
    if test_config:
        app.config.update(test_config)
    app.config["RPC_TIMEOUT"] = float(app.config["RPC_TIMEOUT"])
    logs.default_component(gateway_name(app))
    logs.install_root_handler()
    install_log_redaction()
    install_ops(app, amqp_client)  # /livez, /readyz and the request metrics (gateway/ops.py)


def amqp_client(app: Flask) -> AmqpClient:
    """The process's one AMQP client, made on first use (after gunicorn forks its workers;
    the client itself connects only when first called)."""
    client = app.extensions.get("porchlight_amqp")
    if client is None:
        with _client_lock:
            client = app.extensions.get("porchlight_amqp")
            if client is None:
                # Named after the app (gateway.portal.app), as operators see it in RabbitMQ.
                client = MeasuredAmqpClient(app.config["AMQP_URI"], timeout=app.config["RPC_TIMEOUT"],
                                            name=app.name, component=gateway_name(app))
                app.extensions["porchlight_amqp"] = client
    return client


_client_lock = threading.Lock()


def content_disposition(disposition: str, filename: str) -> str:
    """``inline`` or ``attachment`` with the file's name: an ASCII fallback for old clients
    and the exact name in RFC 5987 form, so ``Zoë.pdf`` or ``報告.pdf`` downloads under its
    own name (a header must be Latin-1; a name outside it would break the answer)."""
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._- ") else "_"
                       for ch in filename)[:100] or "file"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def style_hash(css: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


def content_security_policy(style_hashes: list[str]) -> str:
    # No inline script anywhere; inline style only for the exact brand rule we emit.
    styles = " ".join(["'self'", *style_hashes])
    return (
        "default-src 'none'; script-src 'self'; style-src " + styles + "; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def install_request_id(app: Flask) -> None:
    """Every request gets an id (``porchlight.runtime.request_context``): the caller's
    ``X-Request-ID`` when it is sane, else a new one. It is current for the request's log
    lines and RPC calls, kept as ``g.request_id``, and echoed in the answer."""

    def _take_request_id() -> None:
        g.request_id = request_context.accept_or_create(request.headers.get(request_context.HTTP_HEADER))
        request_context.set_current(g.request_id)

    # First of all before_request functions: those registered earlier may already call a service.
    app.before_request_funcs.setdefault(None, []).insert(0, _take_request_id)

    @app.after_request
    def _echo_request_id(response: Any) -> Any:
        if "request_id" in g:
            response.headers[request_context.HTTP_HEADER] = g.request_id
        return response

    @app.teardown_request
    def _forget_request_id(_exc: BaseException | None) -> None:
        # gunicorn's threads serve request after request.
        request_context.clear()


HSTS = "max-age=63072000; includeSubDomains"  # two years


def install_security_headers(app: Flask, *, no_store_prefixes: tuple[str, ...] = ("/",),
                             hsts: bool = False) -> None:
    """The headers every answer carries; ``hsts`` (an app served over HTTPS): browsers
    then never try it over plain HTTP again."""
    install_request_id(app)
    @app.before_request
    def _start_timer() -> None:
        g.started_at = time.perf_counter()

    @app.after_request
    def _headers(response: Any) -> Any:
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(g.get("style_hashes", []))
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if hsts:
            headers["Strict-Transport-Security"] = HSTS
        if request.path.startswith(no_store_prefixes) and "Cache-Control" not in headers:
            # (A view that says how it may be kept — the logo, named by its content — is
            # believed; nothing else is kept anywhere.)
            headers["Cache-Control"] = "no-store"
        elapsed_ms = (time.perf_counter() - g.get("started_at", time.perf_counter())) * 1000
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "%s %s %s %.1fms", request.method, share_tokens.redact(request.path),
                response.status_code, elapsed_ms,
            )
        return response
