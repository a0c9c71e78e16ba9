"""Errors a service raises on purpose, typed across RabbitMQ.

Each class is registered with nameko's ``deserialize_to_instance`` so a caller gets the
same exception type back (``except NotFound``) instead of a generic ``RemoteError``.
The gateways map each type to one HTTP status in one place.
"""

from __future__ import annotations

from nameko.exceptions import deserialize_to_instance


class PorchlightError(Exception):
    """Base for expected, user-facing failures. ``args[0]`` is a human message."""

    code = "error"

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


@deserialize_to_instance
class NotFound(PorchlightError):
    code = "not_found"


@deserialize_to_instance
class Conflict(PorchlightError):
    """The request is valid but the current state forbids it (e.g. an illegal transition)."""

    code = "conflict"


@deserialize_to_instance
class Unauthorized(PorchlightError):
    code = "unauthorized"


@deserialize_to_instance
class Forbidden(PorchlightError):
    code = "forbidden"


@deserialize_to_instance
class InvalidInput(PorchlightError):
    """Field-level validation failure: ``InvalidInput(message, {field: message})``."""

    code = "invalid"

    @property
    def fields(self) -> dict[str, str]:
        return dict(self.args[1]) if len(self.args) > 1 and self.args[1] else {}


@deserialize_to_instance
class StaleRevision(Conflict):
    """The customer answered a revision that is no longer current."""

    code = "stale_revision"


@deserialize_to_instance
class TooManyRequests(PorchlightError):
    """A limit was reached: ``TooManyRequests(message, retry_after_seconds)``."""

    code = "too_many_requests"

    @property
    def retry_after(self) -> int:
        return max(1, int(self.args[1])) if len(self.args) > 1 and self.args[1] else 60


@deserialize_to_instance
class Unavailable(PorchlightError):
    """A service this one depends on did not answer in time; nothing was changed."""

    code = "unavailable"


# What a caller did wrong or asked too late — never a fault of the service. Entrypoints
# declare them as ``expected_exceptions``, which keeps them out of the error log
# (``porchlight.runtime.logs``). ``Unavailable`` is not one: a neighbour that does not answer is
# something to look at.
CONTRACT_ERRORS: tuple[type[PorchlightError], ...] = (
    InvalidInput, Unauthorized, Forbidden, NotFound, Conflict, TooManyRequests,
)
