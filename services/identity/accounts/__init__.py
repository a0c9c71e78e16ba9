"""The customers' portal accounts: contacts, sign-in codes, sessions, passwords and the
owners' team pages — the models, rules, repository, wire serialisers, the flows the RPC
modules share (``emails``, ``sessions``) and the RPC methods for staff, the portal and
owners. Accounts build on the tenancy (a contact belongs to a customer of a workspace)."""
