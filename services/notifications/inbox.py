"""What an inbox item says: the text staff read for each customer action, made from the
fact alone. documents puts in the fact what the item shows — the record's number and
title, the signer, the reason, the total, a comment's author and first words
(``porchlight.contracts.events``) — so an item never waits on documents, and never goes
without its number."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from porchlight.contracts.events import (
    EstimateAnswered,
    EstimateApproved,
    Event,
    EventRefused,
    ProjectCommentPosted,
    ServiceReportSigned,
    check,
)
from porchlight.contracts.languages import SOURCE_LANGUAGE
from porchlight.runtime import i18n

log = logging.getLogger(__name__)
# An item's words are kept in English, the language they are written in.
_ENGLISH = i18n.translator(SOURCE_LANGUAGE)

Fact = TypeVar("Fact", bound=Event)
# The facts an item is made of.
Cause = EstimateAnswered | ServiceReportSigned | ProjectCommentPosted


def read(model: type[Fact], payload: Any) -> Fact | None:
    """The fact, or ``None`` for a payload that is not such a fact (it makes no item)."""
    try:
        event = check(model.source, model.event, payload)
    except EventRefused as exc:
        log.warning("no inbox item: %s", exc)
        return None
    return event if isinstance(event, model) else None


def cause(event: Cause) -> str:
    """The one key of the fact an item comes from: a revision is answered once, a report is
    signed once, a comment is posted once."""
    if isinstance(event, EstimateAnswered):
        return f"{event.event}:{event.estimate_id}:{event.revision}"
    if isinstance(event, ProjectCommentPosted):
        return f"{event.event}:{event.comment_id}"
    return f"{event.event}:{event.service_report_id}"


def extra_facts(event: Cause) -> dict[str, Any]:
    """What an item's title and summary say besides the item's own fields. The item keeps
    its words in English; its email to the office is written in the reader's language from
    the item and these (``title``, ``summary``)."""
    if isinstance(event, EstimateAnswered):
        return {"estimate_title": event.title, "revision": event.revision, "total": event.total}
    if isinstance(event, ProjectCommentPosted):
        return {"project_name": event.project_name, "excerpt": event.excerpt}
    return {"work_order_number": event.work_order_number, "work_order_title": event.work_order_title}


def title(item: dict[str, Any], _: Callable[..., str]) -> str:
    """The item's title in the language of ``_`` (``porchlight.runtime.i18n.translator``)."""
    number = item["entity_number"]
    if item["kind"] == "estimate_accepted":
        return _("Estimate %(number)s accepted", number=number)
    if item["kind"] == "estimate_declined":
        return _("Estimate %(number)s declined", number=number)
    if item["kind"] == "project_comment":
        return _("New comment on project %(number)s", number=number)
    return _("Service report %(number)s signed", number=number)


def summary(item: dict[str, Any], _: Callable[..., str]) -> str:
    """The item's summary in the language of ``_``, from the item and its ``extra_facts``."""
    said = {"who": item.get("signer_name") or _("The customer"), "number": item["entity_number"]}
    if item["kind"] == "project_comment":
        return _("%(who)s commented on project %(number)s “%(name)s”: “%(excerpt)s”",
                 **said, name=item.get("project_name") or "", excerpt=item.get("excerpt") or "")
    if item["kind"] == "service_report_signed":
        work_order, named = item.get("work_order_number"), item.get("work_order_title")
        if work_order and named:
            return _("%(who)s signed service report %(number)s for work order %(work_order)s “%(title)s”.",
                     **said, work_order=work_order, title=named)
        if work_order:
            return _("%(who)s signed service report %(number)s for work order %(work_order)s.",
                     **said, work_order=work_order)
        return _("%(who)s signed service report %(number)s.", **said)
    said["revision"] = item["revision"]
    named, total = item.get("estimate_title"), item.get("total")
    if item["kind"] == "estimate_accepted":
        if named and total:
            return _("%(who)s accepted estimate %(number)s “%(title)s” (revision %(revision)s), "
                     "total %(total)s.", **said, title=named, total=total)
        if named:
            return _("%(who)s accepted estimate %(number)s “%(title)s” (revision %(revision)s).",
                     **said, title=named)
        if total:
            return _("%(who)s accepted estimate %(number)s (revision %(revision)s), total %(total)s.",
                     **said, total=total)
        return _("%(who)s accepted estimate %(number)s (revision %(revision)s).", **said)
    declined = (_("%(who)s declined estimate %(number)s “%(title)s” (revision %(revision)s).",
                  **said, title=named) if named else
                _("%(who)s declined estimate %(number)s (revision %(revision)s).", **said))
    reason = item.get("reason")
    because = _("Reason: “%(reason)s”.", reason=reason) if reason else _("No reason given.")
    return f"{declined} {because}"


def _worded(fields: dict[str, Any], event: Cause) -> dict[str, Any]:
    """The item's fields with its title and summary, in English."""
    told = {**fields, **extra_facts(event)}
    return {**fields, "title": title(told, _ENGLISH), "summary": summary(told, _ENGLISH)}


def estimate_item(event: EstimateAnswered) -> dict[str, Any]:
    """The item for an estimate's answer."""
    kind = "estimate_accepted" if isinstance(event, EstimateApproved) else "estimate_declined"
    fields: dict[str, Any] = {"kind": kind, "entity_type": "estimate", "entity_id": event.estimate_id,
                              "entity_number": event.number, "signer_name": event.signer_name,
                              "certificate_id": event.certificate_id}
    if kind == "estimate_declined":
        fields["reason"] = event.reason
    return _worded(fields, event)


def service_report_item(event: ServiceReportSigned) -> dict[str, Any]:
    """The item for a signed service report."""
    return _worded({
        "kind": "service_report_signed", "entity_type": "service_report",
        "entity_id": event.service_report_id, "entity_number": event.number,
        "signer_name": event.signer_name, "certificate_id": event.certificate_id,
    }, event)


def project_comment_item(event: ProjectCommentPosted) -> dict[str, Any]:
    """The item for a comment a customer's contact posted on a project (its author's name
    where an answer's signer goes)."""
    return _worded({
        "kind": "project_comment", "entity_type": "project", "entity_id": event.project_id,
        "entity_number": event.project_number, "signer_name": event.author_name, "certificate_id": None,
    }, event)
