"""identity: workspaces, staff API keys, customers, and the customers' portal accounts, as
one nameko service.

This module only composes: the tenancy's RPC methods live in ``tenancy/rpc.py``, the
accounts' in ``accounts/`` (``contacts_rpc`` for staff, ``sign_in_rpc`` and
``passwords_rpc`` for the portal, ``team_rpc`` for owners); the dependencies they share
are declared here, once.
"""

from __future__ import annotations

from porchlight.kit.grants import GrantKey
from porchlight.kit.ping import Ping
from porchlight.kit.request_tracing import EventDispatcher, RequestTracing
from porchlight.kit.service_calls import RpcHandover
from porchlight.kit.service_ops import Observed
from porchlight.kit.storage import Store
from services.identity import ALIAS
from services.identity.accounts.contacts_rpc import ContactsRpc
from services.identity.accounts.emails import NOTIFICATIONS_UNAVAILABLE
from services.identity.accounts.passwords_rpc import PasswordsRpc
from services.identity.accounts.sign_in_rpc import SignInRpc
from services.identity.accounts.team_rpc import TeamRpc
from services.identity.store import IdentityRepository
from services.identity.tenancy.rpc import TenancyRpc

# How long identity waits for the broker to take an email or a sign-in request it hands
# over (it never waits for the work itself).
HANDOVER_TIMEOUT = 5.0
# A sign-in's email work (its code, its email, the worker's send) starts this long after the
# answer left: were it to start at once, its CPU on a small machine would slow the answer
# on its way out — by a couple of milliseconds, on known addresses only, which is enough
# to tell them apart (tests/faults/test_capacity.py). A quarter second is nothing to wait
# for an email.
SIGN_IN_SETTLE = 0.25
SIGN_IN_UNAVAILABLE = "Sign-in emails cannot be sent just now. Please try again in a minute."


class IdentityService(TenancyRpc, ContactsRpc, SignInRpc, PasswordsRpc, TeamRpc, Ping, Observed):
    name = "identity"
    tracing = RequestTracing()  # request ids in logs, calls and events; a line per call

    repo: IdentityRepository = Store(ALIAS, IdentityRepository)
    dispatch = EventDispatcher()
    grant_key = GrantKey()  # signs or checks customers' grants (porchlight.kit.grants)
    # Invitation and sign-in emails go to notifications without waiting for it, and a
    # sign-in request finishes on identity's own queue once its answer has gone (see
    # ``accounts/sign_in_rpc.py``).
    notifications = RpcHandover("notifications", timeout=HANDOVER_TIMEOUT,
                                refusal=NOTIFICATIONS_UNAVAILABLE)
    later = RpcHandover("identity", timeout=HANDOVER_TIMEOUT, refusal=SIGN_IN_UNAVAILABLE,
                        after_answer=True, settle=SIGN_IN_SETTLE)
