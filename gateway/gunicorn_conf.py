"""gunicorn settings for both gateways, from ``porchlight.settings`` (``PORCHLIGHT_GATEWAY_*``).

Threads, not greenlets: the RPC pool blocks on sockets, and a thread per request with a
pooled proxy each keeps the gateway simple and predictable.
"""

from porchlight.settings import get_settings

_settings = get_settings()

_host = _settings.gateway_host
bind = f"[{_host}]:{_settings.gateway_port}" if ":" in _host else f"{_host}:{_settings.gateway_port}"
workers = _settings.gateway_workers
worker_class = "gthread"
threads = _settings.gateway_threads
timeout = _settings.gateway_timeout
graceful_timeout = 10
# Our own access log redacts share tokens; gunicorn's would print raw request paths.
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
