"""Code shared by Porchlight's services, gateways and tools.

Each module does one job: ``errors`` (typed remote errors), ``clock`` (UTC time),
``validation`` (boundary checks with human messages), ``storage`` (MongoDB per service),
``events`` (the shape of a fact), ``share_tokens`` (the share-link format),
``rpc`` (the gateways' pooled RPC client), ``config`` (settings from the environment).
"""

import warnings

# nameko 2.x imports eventlet, which announces its own deprecation on import. It is a
# fact about a dependency, not something a Porchlight user can act on.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
