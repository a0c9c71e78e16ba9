"""Code shared by Porchlight's services, gateways and tools.

Each module does one job: ``errors`` (typed remote errors), ``clock`` (UTC time),
``validation`` (boundary checks with human messages), ``storage`` (MongoDB per service),
``events`` (the shape of a fact), ``share_tokens`` (the share-link format),
``signature_path`` (drawn signatures, checked before parsing), ``snapshots`` (canonical
JSON and its SHA-256), ``task_queue`` (handing work to Celery), ``rpc`` (the pooled RPC
client of code that is not a service), ``config`` (settings from the environment),
``broker`` (finding RabbitMQ; a vhost per test run), ``devstack`` and ``demo`` (the
local stack and its demo workspace), ``cli`` (the ``porchlight`` command).
"""

import warnings

# nameko 2.x imports eventlet, which announces its own deprecation on import. It is a
# fact about a dependency, not something a Porchlight user can act on.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
