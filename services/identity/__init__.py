"""identity: who is who in Porchlight.

``tenancy`` — workspaces (the tenants), their staff API keys and logos, and their
customers; ``accounts`` — the customers' portal accounts: contacts, sign-in codes,
sessions, passwords and the owners' team pages. Each package has its rules, repository,
wire serialisers and RPC methods; ``service.py`` composes them into the one nameko
service, and accounts build on tenancy, never the other way.
"""

# The service's own database (a mongoengine connection alias), shared by both packages.
ALIAS = "identity"
