"""What the RPC mixins of the identity service rely on. ``IdentityService`` declares each
one as a nameko dependency; the mixins only name them, for readers and type checkers, and
the shared flows (``accounts/flows.py``) are given the ones they use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.identity.store import IdentityRepository


class IdentityDependencies:
    repo: IdentityRepository
    dispatch: Callable[[str, dict[str, Any]], None]
    grant_key: Any  # GrantKey(): signs customers' grants (``porchlight.kit.grants``)
    notifications: Any  # RpcHandover("notifications"): contacts' emails, without waiting
    later: Any  # RpcHandover("identity"): a sign-in's email work, after the answer has gone
