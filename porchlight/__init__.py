"""Code shared by Porchlight's services, gateways and worker.

Each module does one job: ``settings`` (every ``PORCHLIGHT_*`` setting, checked at
start-up), ``logs`` (the log format and quiet expected errors), ``errors`` (typed remote
errors), ``clock`` (UTC time), ``validation`` (boundary checks with human messages),
``storage`` (MongoDB per service), ``events`` (the shape of a fact), ``share_tokens`` (the
share-link format), ``signature_path`` (drawn signatures, checked before parsing),
``snapshots`` (canonical JSON and its SHA-256), ``task_queue`` (handing work to Celery),
``rpc`` (the pooled RPC client of code that is not a service), ``cli`` (the
``porchlight`` command). ``config`` holds shorthands over ``settings`` for the two
worker modules that still import them. Developer tools live apart, in ``devtools``.
"""

import warnings

# nameko 2.x imports eventlet, which announces its own deprecation on import. It is a
# fact about a dependency, not something a Porchlight user can act on.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

# amqps:// checks the broker's name in every kombu client too (see amqp_tls).
from porchlight import amqp_tls  # noqa: E402

amqp_tls.install()
