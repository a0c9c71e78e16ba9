"""How a customer's answer becomes binding — written once, for every answer: an estimate
accepted or declined, a service report signed.

1. The aggregate claims the answer with one conditional update (before ``settle``); of any
   number of racing answers exactly one gets this far.
2. The signatures service records the evidence. The request carries a ``deadline`` and is
   refused after it, so an answer we gave up on — and told the customer had failed — is
   never recorded later behind their back.
3. When recording fails the claim is undone, with one exception: evidence of an earlier
   attempt *of the same kind* for the same revision, recorded in time but whose reply we
   missed. That answer is the customer's and it stands: it is adopted. Evidence of another
   kind (an acceptance, while the customer now declines) is never adopted.
4. The certificate is attached to the record, and the fact is dispatched — with what the
   office's inbox shows of the answer, read off the final record (``Claim.display``).

Between 1 and 4 the record already shows the claimed answer, and a customer's page may
have been filled from it. So the record's every way out is announced: the answer (step 4,
an adopted one included) or, when the claim is undone, the ``undone`` event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.errors import Conflict, Unavailable
from porchlight.contracts.events import fact
from porchlight.contracts.words import N_
from porchlight.runtime import request_context

log = logging.getLogger(__name__)

# How long the signatures service has to record an answer: the request's deadline is this
# far ahead, and the customer is told it failed when no reply came.
EVIDENCE_TIMEOUT = 4.0
# We wait this much past the deadline, so evidence stored just before it still reaches us
# and the customer is told it worked. (It assumes the two services' clocks agree to well
# within a second, as NTP keeps them.)
REPLY_GRACE = 0.5

# A claim this old without its certificate was abandoned: the process that made it died
# before it could attach the evidence or undo the claim (``recover``). Far beyond the
# evidence's deadline, so nothing can still be recorded for it.
ABANDONED_AFTER = timedelta(seconds=30)


def abandoned_before(older_than_seconds: float | None) -> datetime:
    """Claims made before this moment count as abandoned: ``ABANDONED_AFTER`` ago, or as the
    sweep's caller says — never less than the evidence's deadline and the reply's grace, so
    a claim whose evidence may still be recorded is never taken for abandoned."""
    floor = EVIDENCE_TIMEOUT + REPLY_GRACE
    age = ABANDONED_AFTER.total_seconds() if older_than_seconds is None else float(older_than_seconds)
    return utcnow() - timedelta(seconds=max(floor, age))

TOO_LATE = N_("Your answer reached us after your page had stopped waiting for it, so it was not "
              "taken. Reload the page to see where things stand.")


def still_awaited() -> None:
    """Before an answer is claimed: refuse it (``Unavailable``, nothing changed) when its
    caller has stopped waiting — a claim nobody hears the end of would tell the customer
    "try again" about an answer that stands."""
    if request_context.past_deadline():
        raise Unavailable(TOO_LATE)


NOT_RECORDED = N_("Your answer could not be recorded just now. Nothing was changed; "
                  "please try again in a minute.")
ANOTHER_ANSWER = N_("A different earlier answer to this version reached us too late to count, so this "
                    "version can no longer be answered online. Please ask for it to be sent again.")

Record = TypeVar("Record")


@dataclass(frozen=True)
class Claim(Generic[Record]):
    """An answer claimed by one conditional update, and the ways it can end."""

    undo: Callable[[], object]  # put the record back exactly as it was before the claim
    adopt: Callable[[dict[str, Any]], object]  # take over late evidence of the same kind
    attach: Callable[[dict[str, Any]], Record]  # link the certificate; the final record
    # What the answer's event shows of the final record besides its ids (number, title,
    # signer, …), as the staff view shows it: subscribers never ask documents back.
    display: Callable[[Record], dict[str, Any]]


def _record(signatures: Any, workspace_id: str, evidence: dict[str, Any]) -> dict[str, Any]:
    # ``signatures`` answers within EVIDENCE_TIMEOUT + REPLY_GRACE or raises Unavailable
    # (``DocumentsService.signatures``); the request expires at the deadline.
    deadline = utcnow() + timedelta(seconds=EVIDENCE_TIMEOUT)
    return signatures.record_evidence(workspace_id, {**evidence, "deadline": isoformat(deadline)})


def _recorded_for_revision(signatures: Any, workspace_id: str,
                           evidence: dict[str, Any]) -> dict[str, Any] | None:
    """The evidence already on record for this revision, of whatever kind."""
    records = signatures.list_evidence(workspace_id, evidence["entity_type"], evidence["entity_id"])
    return next((r for r in records if r["revision"] == evidence["revision"]), None)


def recover(
    signatures: Any, dispatch: Callable[[str, dict[str, Any]], None], workspace_id: str,
    evidence: dict[str, Any], claim: Claim[Record], *, event: str, undone: str, ids: dict[str, Any],
) -> str:
    """End a claim its process abandoned (it died between the claim and the end of
    ``settle``) as ``settle`` would have: adopt the evidence of the same kind recorded for
    the revision, or undo the claim. ``evidence`` names the kind, the record and the
    revision. The evidence request's deadline passed long ago (``ABANDONED_AFTER``), so what
    signatures holds now is final. "adopted" or "undone"; Unavailable leaves the claim for
    the next sweep."""
    earlier = _recorded_for_revision(signatures, workspace_id, evidence)
    if earlier is not None and earlier["kind"] == evidence["kind"]:
        claim.adopt(earlier)
        _finish(dispatch, workspace_id, claim, earlier, event, ids)
        return "adopted"
    _undo(dispatch, workspace_id, claim, undone, ids)
    return "undone"


def _finish(dispatch: Callable[[str, dict[str, Any]], None], workspace_id: str, claim: Claim[Record],
            recorded: dict[str, Any], event: str, ids: dict[str, Any]) -> Record:
    """Step 4: the certificate attached, the answer announced."""
    final = claim.attach(recorded)
    dispatch(event, fact(workspace_id, "customer", **ids, certificate_id=recorded["certificate_id"],
                         **claim.display(final)))
    return final


def _undo(dispatch: Callable[[str, dict[str, Any]], None], workspace_id: str, claim: Claim[Record],
          undone: str, ids: dict[str, Any]) -> None:
    """The claim taken back, and announced: a page may have shown it meanwhile."""
    claim.undo()
    dispatch(undone, fact(workspace_id, "system", **ids))


def settle(
    signatures: Any, dispatch: Callable[[str, dict[str, Any]], None], workspace_id: str,
    evidence: dict[str, Any], claim: Claim[Record], *, event: str, undone: str, ids: dict[str, Any],
) -> Record:
    """Record ``evidence`` for a claimed answer and finish it (steps 2–4 above); on failure
    undo the claim, dispatch ``undone`` with ``ids``, and raise. ``event`` is dispatched
    with ``ids``, the certificate id and the final record's ``claim.display``."""

    def undo() -> None:
        _undo(dispatch, workspace_id, claim, undone, ids)

    try:
        recorded = _record(signatures, workspace_id, evidence)
    except Exception as exc:
        earlier = None
        if isinstance(exc, Conflict):
            try:
                earlier = _recorded_for_revision(signatures, workspace_id, evidence)
            except Exception:
                # Which answer is on record is unknown: undo, and let the customer try again.
                log.warning("could not look up the evidence of %s %s", evidence["entity_type"],
                            evidence["entity_id"], exc_info=True)
                undo()
                raise Unavailable(NOT_RECORDED) from exc
        if earlier is None or earlier["kind"] != evidence["kind"]:
            undo()
            if earlier is not None:
                raise Conflict(ANOTHER_ANSWER) from exc
            raise
        # An earlier attempt was recorded after we had given up on its reply: it stands.
        claim.adopt(earlier)
        recorded = earlier
    return _finish(dispatch, workspace_id, claim, recorded, event, ids)
