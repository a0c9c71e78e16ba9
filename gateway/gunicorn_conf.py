"""gunicorn settings for both gateways, from the environment.

Threads, not greenlets: the RPC pool blocks on sockets, and a thread per request with a
pooled proxy each keeps the gateway simple and predictable.
"""

import os

bind = os.environ.get("BIND", f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GATEWAY_THREADS", "8"))
timeout = int(os.environ.get("GATEWAY_TIMEOUT", "30"))
graceful_timeout = 10
# Our own access log redacts share tokens; gunicorn's would print raw request paths.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
