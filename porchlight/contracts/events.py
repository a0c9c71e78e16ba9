"""Every fact the services announce: one model per event, stating who sends it, its name,
whether a customer could see the change, and exactly what its payload holds.

A payload is what ``porchlight.contracts.events.fact`` makes — the workspace, the actor, the moment —
plus the ids of what changed, never a whole document, a raw token or its hash; a subscriber
that needs more asks the owner. The three answers the office hears of
(``estimate_approved``, ``estimate_rejected``, ``service_report_signed``) also carry what
the staff inbox shows of them (number, title, signer, reason, total), read off the record
as the staff view shows it when the answer became final, so notifications never asks
documents back.

A model is declared with its source service (nameko's name), its event type and whether it
is customer-visible::

    class EstimateSent(Event, source="documents", event="estimate_sent", visible=True):

Customer-visible is a promise the portal's read model rests on (it subscribes to exactly
these): every change to what a customer page shows — ``documents.get_work_order_for_customer``,
``get_estimate_for_customer`` (any choice of optional lines),
``get_service_report_for_customer`` and its signed PDF, ``get_project_for_customer`` and
``customer_projects``, ``get_information_request_for_customer`` and
``customer_information_requests``, ``identity.get_workspace`` and
``sharing.resolve_token``, and a certificate on ``/verify`` — is announced by a visible
event, whose fields name every record whose customer view changed (marked ``Names``: the
read model drops its copies of them). That includes the ways back: an answer or signature
whose evidence could not be recorded is undone (``*_undone``), a conversion that failed
half-way is released. An internal event says in its docstring why no customer view
depends on it.

``EventDispatcher.dispatch`` (``porchlight.kit.request_tracing``) checks every payload against
its model before it is published (``check``): an event without a model, or a payload its
model refuses, is a bug in the sender and is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, ValidationError

from porchlight.contracts.base import Contract, errors_of
from porchlight.contracts.clock import isoformat, utcnow
from porchlight.contracts.common import CertificateId, Sha256
from porchlight.contracts.evidence import EntityType as EvidenceEntityType
from porchlight.contracts.evidence import Kind as EvidenceKind
from porchlight.contracts.fields import Id, Timestamp
from porchlight.contracts.projects import Status as ProjectStatus
from porchlight.contracts.share_grants import Level as ShareLevel
from porchlight.contracts.share_grants import ResourceType as ShareResourceType
from porchlight.contracts.share_links import EntityType as SharedEntityType


@dataclass(frozen=True)
class Names:
    """On an id field: the kind of record whose customer view the event changed."""

    record: str


WorkOrderId = Annotated[Id, Names("work_order")]
EstimateId = Annotated[Id, Names("estimate")]
ServiceReportId = Annotated[Id, Names("service_report")]
ShareTokenId = Annotated[Id, Names("share_token")]
ContactId = Annotated[Id, Names("contact")]  # the sessions of a contact the portal holds
# The customer whose lists of records the event changed (a record joined them): the portal
# drops what it holds of that customer's lists. None: a record without a customer.
CustomerId = Annotated[Id | None, Names("customer")]
Revision = Annotated[StrictInt, Field(ge=1)]
FieldNames = list[StrictStr]  # the names of the fields a change touched, sorted

# (source, event type) → its model, in the order declared
EVENTS: dict[tuple[str, str], type[Event]] = {}


class EventRefused(ValueError):
    """An event no model describes, or a payload its model refuses: a bug in the sender."""


class Event(Contract):
    """What every fact carries: the workspace, who acted (``staff:…``, ``api_key:…``,
    ``contact:…``, ``customer``, ``system``, ``worker``, …) and when."""

    source: ClassVar[str]
    event: ClassVar[str]
    visible: ClassVar[bool]

    workspace_id: Id
    actor: StrictStr = Field(min_length=1)
    occurred_at: Timestamp

    def __init_subclass__(cls, *, source: str | None = None, event: str | None = None,
                          visible: bool | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if event is None:
            return  # a shape shared by several events, not an event itself
        if source is None or visible is None:
            raise TypeError(f"{cls.__name__} must state its source and whether it is visible")
        if (source, event) in EVENTS:
            raise TypeError(f"{source}.{event} is declared twice")
        cls.source, cls.event, cls.visible = source, event, visible
        EVENTS[(source, event)] = cls

    @classmethod
    def record_fields(cls) -> tuple[tuple[str, str], ...]:
        """``(field, kind of record)`` for each field naming a record whose customer view
        the event changed."""
        return tuple((name, meta.record) for name, info in cls.model_fields.items()
                     for meta in info.metadata if isinstance(meta, Names))


def model_of(source: str, event: str) -> type[Event] | None:
    return EVENTS.get((source, event))


def check(source: str, event: str, payload: Any) -> Event:
    """``payload`` read with the model of ``source``'s ``event``, or ``EventRefused``."""
    model = model_of(source, event)
    if model is None:
        raise EventRefused(f"{source} has no event {event!r}: declare it in porchlight.contracts.events")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise EventRefused(f"{source}.{event} refused: {errors_of(exc)}") from None


def event_types(*, visible: bool) -> dict[str, tuple[str, ...]]:
    """source → the event types it announces that are (or are not) customer-visible."""
    sources = dict.fromkeys(source for source, _ in EVENTS)
    return {source: tuple(model.event for (s, _), model in EVENTS.items()
                          if s == source and model.visible == visible)
            for source in sources}


# -- documents: work orders ---------------------------------------------------------------
class WorkOrderCreated(Event, source="documents", event="work_order_created", visible=True):
    """A new record is in nobody's copy yet (its first view fetches it), but it joins its
    customer's list of work orders."""

    work_order_id: Id
    customer_id: CustomerId = None


class WorkOrderUpdated(Event, source="documents", event="work_order_updated", visible=True):
    """Title, description, location (internal notes too: harmless), or its customer: the
    one it has now, whose list it joined (the list it left names it already)."""

    work_order_id: WorkOrderId
    fields: FieldNames
    customer_id: CustomerId = None


class WorkOrderStatusChanged(Event, source="documents", event="work_order_status_changed", visible=True):
    work_order_id: WorkOrderId
    from_status: StrictStr
    to_status: StrictStr


# -- documents: estimates -----------------------------------------------------------------
class EstimateCreated(Event, source="documents", event="estimate_created", visible=False):
    """A new record is in nobody's copy yet: its first view fetches it."""

    estimate_id: Id


class EstimateUpdated(Event, source="documents", event="estimate_updated", visible=True):
    """A new revision; one of a sent estimate names its customer, whose list it is in (the
    customer may be the one the revision gave it)."""

    estimate_id: EstimateId
    revision: Revision
    customer_id: CustomerId = None


class EstimateSent(Event, source="documents", event="estimate_sent", visible=True):
    """Sent for the first time, it joins its customer's list of estimates."""

    estimate_id: EstimateId
    customer_id: CustomerId = None


class EstimateExpired(Event, source="documents", event="estimate_expired", visible=True):
    """By the sweep, or by a command that found it past its date."""

    estimate_id: EstimateId


class EstimateAnswered(Event):
    """An answer whose evidence is recorded (an adopted late answer included), with what
    the office's inbox item shows of it, as the staff view of the estimate shows it."""

    estimate_id: EstimateId
    revision: Revision
    certificate_id: CertificateId
    number: StrictStr
    title: StrictStr
    signer_name: StrictStr | None
    reason: StrictStr | None
    total: StrictStr = Field(description="The answered total, formatted in the estimate's currency.")


class EstimateApproved(EstimateAnswered, source="documents", event="estimate_approved", visible=True):
    reason: None = None  # only a decline has one


class EstimateRejected(EstimateAnswered, source="documents", event="estimate_rejected", visible=True):
    pass


class EstimateAnswerUndone(Event, source="documents", event="estimate_answer_undone", visible=True):
    """The claimed answer is gone again: its evidence was not recorded."""

    estimate_id: EstimateId
    revision: Revision


class EstimateConverted(Event, source="documents", event="estimate_converted", visible=True):
    """Names the estimate and its new work order."""

    estimate_id: EstimateId
    work_order_id: WorkOrderId


class EstimateConversionReleased(Event, source="documents", event="estimate_conversion_released",
                                 visible=True):
    """Converted → approved again after a failed attempt."""

    estimate_id: EstimateId


# -- documents: service reports -----------------------------------------------------------
class ServiceReportCreated(Event, source="documents", event="service_report_created", visible=False):
    """A new record is in nobody's copy yet: its first view fetches it."""

    service_report_id: Id


class ServiceReportUpdated(Event, source="documents", event="service_report_updated", visible=False):
    """Only a draft report changes this way, and a draft is never shown to customers; what
    they will see is frozen by ``service_report_completed``."""

    service_report_id: Id


class ServiceReportAttachmentAdded(Event, source="documents", event="service_report_attachment_added",
                                   visible=False):
    """Only a draft report gets attachments, and a draft is never shown to customers."""

    service_report_id: Id
    file_id: Id


class ServiceReportCompleted(Event, source="documents", event="service_report_completed", visible=True):
    """From now on customers can open it, and it joins its customer's list of reports."""

    service_report_id: ServiceReportId
    customer_id: CustomerId = None


class ServiceReportSigned(Event, source="documents", event="service_report_signed", visible=True):
    """A signature whose evidence is recorded (an adopted late one included), with what the
    office's inbox item shows of it, as the staff view of the report shows it."""

    service_report_id: ServiceReportId
    certificate_id: CertificateId
    number: StrictStr
    signer_name: StrictStr
    work_order_number: StrictStr | None
    work_order_title: StrictStr | None


class ServiceReportSignatureUndone(Event, source="documents", event="service_report_signature_undone",
                                   visible=True):
    """The claimed signature is gone again: its evidence was not recorded."""

    service_report_id: ServiceReportId


class SignedPdfStored(Event, source="documents", event="signed_pdf_stored", visible=True):
    """The signed PDF can be downloaded."""

    service_report_id: ServiceReportId
    file_id: Id


# -- documents: projects ------------------------------------------------------------------
# A customer sees a project only through a share (``share_changed`` announces each one);
# the events that change what a shared project's pages show are visible, name the project,
# and name its customer, whose list of projects they may reorder (the list follows the
# latest activity). A project shared with another customer than its own is dropped from
# that customer's list where the list shows it.
ProjectId = Annotated[Id, Names("project")]
ProjectChange = Literal["time_entry_logged", "time_entry_changed", "time_entry_removed", "task_added",
                        "task_changed", "tasks_reordered", "file_added", "file_removed"]


class ProjectCreated(Event, source="documents", event="project_created", visible=False):
    """A new project is shared with nobody yet: its first share is ``share_changed``."""

    project_id: Id
    customer_id: Id


class ProjectUpdated(Event, source="documents", event="project_updated", visible=True):
    """The project's own fields (its status and progress among them): its page and its
    card in its customer's list."""

    project_id: ProjectId
    fields: FieldNames
    customer_id: CustomerId = None
    # What a customer's digest email says of the change (``services.notifications.digests``):
    # the project as it reads now.
    status: ProjectStatus | None = None
    project_number: StrictStr | None = None
    project_name: StrictStr | None = None


class ProjectActivity(Event, source="documents", event="project_activity", visible=True):
    """A time entry or a task of the project changed (``item_id``; none for a reorder), or
    the tasks' order: the page's hours, last activity and tasks, and the customer's list,
    ordered by the latest activity."""

    project_id: ProjectId
    change: ProjectChange
    item_id: Id | None = None
    customer_id: CustomerId = None
    # A file added: what a customer's digest email names (``services.notifications.digests``).
    file_name: StrictStr | None = None
    project_number: StrictStr | None = None
    project_name: StrictStr | None = None


class ProjectFileViewed(Event, source="documents", event="project_file_viewed", visible=False):
    """A customer's signed-in contact downloaded a project's file: the customer opened the
    document. A fact for staff (the file's views), not a change to any customer page."""

    project_id: Id
    file_id: Id
    customer_id: Id
    contact_id: Id


class ProjectCommentPosted(Event, source="documents", event="project_comment_posted", visible=True):
    """A comment joined the project's thread: by a customer's contact (``customer_id``
    theirs) or by staff (None). Carries what the team's inbox item says."""

    project_id: Annotated[Id, Names("project")]
    comment_id: Id
    customer_id: Id | None = None
    author_kind: Literal["contact", "staff"]
    author_name: StrictStr
    project_number: StrictStr
    project_name: StrictStr
    excerpt: StrictStr


class ProjectCommentHidden(Event, source="documents", event="project_comment_hidden", visible=True):
    """Staff hid a comment: it reads "comment removed"."""

    project_id: Annotated[Id, Names("project")]
    comment_id: Id


# -- documents: information requests -------------------------------------------------------
# A request is seen by the customers its project is shared with, once sent: the events that
# change what they see name the request (its page) and its project — the customer's list
# of requests is made of their shared projects, so naming the project drops it too.
InformationRequestId = Annotated[Id, Names("information_request")]


class InformationRequestCreated(Event, source="documents", event="information_request_created",
                                visible=False):
    """A draft: no customer sees it until it is sent."""

    information_request_id: Id
    project_id: Id


class InformationRequestDraftChanged(Event, source="documents", event="information_request_draft_changed",
                                     visible=False):
    """A draft's title or items changed: still nobody's to see."""

    information_request_id: Id
    project_id: Id
    fields: FieldNames


class InformationRequestSent(Event, source="documents", event="information_request_sent", visible=True):
    """A draft was sent: it joins the lists of the customers the project is shared with."""

    information_request_id: InformationRequestId
    project_id: ProjectId
    customer_ids: list[Id]


class InformationItemAnswered(Event, source="documents", event="information_item_answered", visible=True):
    """A customer's contact answered an item (the request is in progress). Carries what a
    staff inbox item would say."""

    information_request_id: InformationRequestId
    project_id: ProjectId
    item_id: Id
    customer_id: Id
    contact_id: Id
    number: StrictStr
    title: StrictStr


class InformationItemReviewed(Event, source="documents", event="information_item_reviewed", visible=True):
    """Staff accepted an item or returned it with a note; ``completed`` when that accepted
    the last one."""

    information_request_id: InformationRequestId
    project_id: ProjectId
    item_id: Id
    decision: Literal["accepted", "returned"]
    completed: StrictBool


class InformationRequestCancelled(Event, source="documents", event="information_request_cancelled",
                                  visible=True):
    """Staff withdrew the request: it leaves the customer's list and its page is the 404 page."""

    information_request_id: InformationRequestId
    project_id: ProjectId


# -- identity -----------------------------------------------------------------------------
class WorkspaceCreated(Event, source="identity", event="workspace_created", visible=False):
    """Nobody's copy holds a workspace before its first page is shown."""


class WorkspaceUpdated(Event, source="identity", event="workspace_updated", visible=True):
    """Name, colour, logo, currency, time zone: every page's header."""

    workspace_id: Annotated[Id, Names("workspace")]
    fields: FieldNames


class ApiKeyCreated(Event, source="identity", event="api_key_created", visible=False):
    """Staff keys: no customer page shows them."""

    api_key_id: Id


class ApiKeyRevoked(Event, source="identity", event="api_key_revoked", visible=False):
    """Staff keys: no customer page shows them."""

    api_key_id: Id


class CustomerCreated(Event, source="identity", event="customer_created", visible=False):
    """A customer is shown on no customer page."""

    customer_id: Id


class ContactEvent(Event):
    """Customer accounts. The portal keeps who a session cookie signs in (name, role,
    whether a password must be chosen); the events that end or alter what it keeps are
    visible and name the contact, whose sessions it then drops: an update (name, phone,
    role), a sign-out, a password set, access removed. The others change nothing it keeps."""

    customer_id: Id
    contact_id: Id


class ContactCreated(ContactEvent, source="identity", event="contact_created", visible=False):
    pass


class ContactUpdated(ContactEvent, source="identity", event="contact_updated", visible=True):
    contact_id: ContactId
    fields: FieldNames


class ContactInvited(ContactEvent, source="identity", event="contact_invited", visible=False):
    pass


class ContactJoined(ContactEvent, source="identity", event="contact_joined", visible=False):
    pass


class ContactSignedIn(ContactEvent, source="identity", event="contact_signed_in", visible=False):
    pass


class ContactSignedOut(Event, source="identity", event="contact_signed_out", visible=True):
    """Customer accounts: see ``ContactEvent``. Sent from the session, which knows its
    contact but not the customer; the portal drops every session of the contact it holds
    (the ones still live are asked of identity again)."""

    contact_id: ContactId
    everywhere: StrictBool


class ContactPasswordSet(ContactEvent, source="identity", event="contact_password_set", visible=True):
    contact_id: ContactId
    temporary: StrictBool  # set by staff, to be changed at the next sign-in


class ContactAccessRemoved(ContactEvent, source="identity", event="contact_access_removed",
                           visible=True):
    contact_id: ContactId


# -- sharing ------------------------------------------------------------------------------
class ShareTokenMinted(Event, source="sharing", event="share_token_minted", visible=False):
    """A new link grants nothing any reader holds; the links it replaces are announced as
    ``share_token_revoked``, one event each."""

    share_token_id: Id
    entity_type: SharedEntityType
    entity_id: Id


class ShareTokenRevoked(Event, source="sharing", event="share_token_revoked", visible=True):
    """Its grant ends (by revoke, rotate or replace)."""

    share_token_id: ShareTokenId
    entity_type: SharedEntityType
    entity_id: Id
    replaced_by: Id | None = None  # the new link, when it was replaced


class ShareTokenRotated(Event, source="sharing", event="share_token_rotated", visible=False):
    """The new link grants nothing any reader holds; the old one is announced as
    ``share_token_revoked``."""

    share_token_id: Id
    rotated_from: ShareTokenId
    entity_type: SharedEntityType
    entity_id: Id


class ShareChanged(Event, source="sharing", event="share_changed", visible=True):
    """A customer's share of a resource began, changed level or stopped (``level`` None):
    what their contacts may see of it, and do, changed at once."""

    share_grant_id: Id
    customer_id: CustomerId
    resource_type: ShareResourceType
    # The only kind shared so far; a later kind names its own record here.
    resource_id: Annotated[Id, Names("project")]
    level: ShareLevel | None


# -- signatures ---------------------------------------------------------------------------
class EvidenceRecorded(Event, source="signatures", event="evidence_recorded", visible=False):
    """The answer's record; the owning record's own event (``estimate_approved``, …)
    follows once it is attached."""

    certificate_id: CertificateId
    kind: EvidenceKind
    entity_type: EvidenceEntityType
    entity_id: Id
    revision: Revision


class ArtifactAttached(Event, source="signatures", event="artifact_attached", visible=True):
    """A certificate's page lists the signed PDF's hash."""

    certificate_id: Annotated[CertificateId, Names("certificate")]
    kind: Literal["signed_pdf"]
    sha256: Sha256


# -- every fact, sorted by whether a customer could see it ----------------------------------
# ``CUSTOMER_VISIBLE`` is what the portal's read model subscribes to, and a promise: every
# change to what a customer page shows is announced by one of these. ``INTERNAL`` holds the
# rest. Both are read off the models above, never written a second time; a test reads every
# ``dispatch`` of the services and fails on an event without a model
# (``tests/unit/test_events.py``), and the dispatcher refuses one at run time
# (``porchlight.kit.request_tracing.EventDispatcher``).

# source service (nameko's name) → event types whose payload names a changed customer view
CUSTOMER_VISIBLE: dict[str, tuple[str, ...]] = event_types(visible=True)
# source service → event types no customer view depends on
INTERNAL: dict[str, tuple[str, ...]] = event_types(visible=False)


def fact(workspace_id: str, actor: str, **ids: Any) -> dict[str, Any]:
    """The payload of an event: the workspace, who acted, when, and the event's own fields."""
    payload = {"workspace_id": workspace_id, "actor": actor, "occurred_at": isoformat(utcnow())}
    payload.update(ids)
    return payload
