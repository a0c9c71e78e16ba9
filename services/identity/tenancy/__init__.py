"""The tenancy: workspaces (the tenants), their logos and staff API keys, and their
customers — the models, rules, repository, wire serialisers and staff's RPC methods."""
