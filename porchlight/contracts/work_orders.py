"""Work orders (owned by documents): the jobs customers follow."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.fields import DocumentNumber, Id, optional, optional_text, text
from porchlight.contracts.paging import NextCursor, PageQuery, UpdatedSince

STATUSES = ("new", "scheduled", "in_progress", "on_hold", "completed", "cancelled")
Status = Literal["new", "scheduled", "in_progress", "on_hold", "completed", "cancelled"]
STATUS_RULES = ("Where the job stands. Completed and cancelled are final; any other status can "
                "move to any other (except back to new from in progress or on hold).")

Title = text(200, description="Short name of the job.")
Description = optional_text(10_000, multiline=True, description="What is to be done; may span lines.")
Location = optional_text(500, multiline=True, description="Where the work happens; may span lines.")
InternalNotes = optional_text(10_000, multiline=True,
                              description="Staff-only notes, never shown to customers.")


class WorkOrderInput(Contract):
    """A new work order. Documents also checks that `customer_id` is a customer of the same
    workspace and that a given `number` is not used yet (409)."""

    number: optional(DocumentNumber) = None
    title: Title
    status: Status = Field("new", description=STATUS_RULES)
    description: Description = None
    location: Location = None
    customer_id: optional(Id) = Field(None, description="A customer of the same workspace.")
    internal_notes: InternalNotes = None


class WorkOrderPatch(Contract):
    """Only the fields sent change; null or "" clears an optional field. `title` and `status`
    cannot be cleared, and a status change must be an allowed move (409 otherwise)."""

    title: Title = None
    status: Status = Field(None, description=STATUS_RULES)
    description: Description = None
    location: Location = None
    customer_id: optional(Id) = Field(None, description="A customer of the same workspace.")
    internal_notes: InternalNotes = None


class WorkOrderQuery(PageQuery):
    """``documents.list_work_orders``'s query, and the admin API's query string."""

    status: Status = Field(None, description="Only work orders with this status.")
    customer_id: Id = Field(None, description="Only this customer's work orders.")
    updated_since: UpdatedSince = None


class WorkOrder(Reply):
    """A job for a customer, as staff see it (internal notes included)."""

    id: IdText
    workspace_id: IdText
    number: str = Field(description="Human number, e.g. WO-0001.")
    title: str
    status: Status
    status_label: str = Field(description="The status in the customer's words.")
    description: str | None
    location: str | None
    customer_id: str | None
    estimate_id: str | None = Field(description="The estimate this job was converted from.")
    internal_notes: str | None
    completed_at: MaybeMoment
    created_at: Moment
    updated_at: Moment


class WorkOrderList(Reply):
    work_orders: list[WorkOrder]
    next_cursor: NextCursor
