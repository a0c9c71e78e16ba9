"""Portal contacts (owned by identity): the people of a customer who may sign in to the
portal, their invitations and the portal's sign-in commands."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from porchlight.contracts.base import Contract, Reply
from porchlight.contracts.common import IdText, MaybeMoment, Moment
from porchlight.contracts.customers import Customer
from porchlight.contracts.fields import Email, Phone, StrictStr, Timestamp, optional, patterned, text
from porchlight.contracts.languages import Language
from porchlight.contracts.paging import NextCursor, PageQuery
from porchlight.contracts.words import N_

Role = Literal["owner", "member"]
ROLE = ("`owner`: sees and does everything the business shares with the customer and manages "
        "the team; `member`: sees work orders and reports and signs reports, never money.")
FIRST_IS_OWNER = (" The first contact a customer has with access becomes its owner, whatever "
                  "role is sent: a company is never without one.")
NAME = "The person's name, as the portal greets them."
EMAIL = ("The address they sign in with; unique among the workspace's contacts with access "
         "(409 otherwise).")


class ContactInput(Contract):
    name: text(120, description=NAME)
    email: Email = Field(description=EMAIL)
    phone: optional(Phone) = None
    role: Role = Field("member", description=ROLE + FIRST_IS_OWNER)


class ContactPatch(Contract):
    """Only the fields sent change; `phone` is cleared with null. The address cannot
    change: remove the contact's access and add them again."""

    name: text(120, description=NAME) = None
    phone: optional(Phone) = None
    role: Role = Field(None, description=ROLE)


class Contact(Reply):
    id: IdText
    workspace_id: IdText
    customer_id: IdText
    name: str
    email: str
    phone: str | None
    role: Role = Field(description=ROLE)
    invitation_status: Literal["none", "invited", "accepted"] = Field(
        description="`none`: never invited; `invited`: an invitation is out; `accepted`: they "
                    "have signed in at least once.")
    invited_at: MaybeMoment
    joined_at: MaybeMoment = Field(description="When they first signed in.")
    last_sign_in_at: MaybeMoment
    has_access: bool = Field(description="False once staff removed their access.")
    access_removed_at: MaybeMoment
    has_password: bool = Field(description="Whether they can sign in with a password.")
    created_at: Moment


class ReadersQuery(Contract):
    """``identity.record_readers``: the roles that may read the record (documents' rule)."""

    roles: list[Role] = Field(min_length=1, max_length=2)


class Reader(Reply):
    id: IdText
    name: str
    email: str
    role: Role
    language: str | None = Field(description="Their own language, if they chose one; else their customer's.")


class RecordReaders(Reply):
    """Whom a record's email goes to: its customer and, when the customer has any, the
    contacts who read its records in the portal."""

    customer: Customer
    contacts: list[Reader]


class ContactQuery(PageQuery):
    """``identity.list_contacts``'s query, and the admin API's query string."""


class ContactList(Reply):
    contacts: list[Contact]
    next_cursor: NextCursor


class InvitationEmail(Reply):
    """The invitation email, handed to the outbox without waiting for it: it shows in
    `GET /notifications/emails?recipient=<address>` moments later."""

    to: str = Field(description="The address it goes to.")
    template: Literal["contact_invitation"]
    status: Literal["handed_over"] = Field(
        description="Handed to the notifications service; its delivery shows in the outbox.")


class Invitation(Reply):
    contact: Contact
    expires_at: Moment = Field(description="When the link and code in the email stop working.")
    email: InvitationEmail


class TemporaryPassword(Reply):
    contact: Contact
    temporary_password: str = Field(description="Shown once; the contact must choose their own "
                                    "at their first sign-in with it.")
    expires_at: Moment = Field(description="When the temporary password stops working (72 hours).")


# -- the portal's commands (identity's RPC payloads) ---------------------------------------
class SignInRequest(Contract):
    email: Email = Field(description="The address to send a sign-in link and code to.")


class PasswordSignIn(Contract):
    email: Email
    password: StrictStr = Field(min_length=1, max_length=1000, description="The password.")


# A code identity emails: six digits.
EMAILED_CODE = patterned(r"^[0-9]{6}$", N_("Enter the 6 digits from the email."))


class NewPassword(Contract):
    """Identity checks the rest: at least 12 characters, at most 128, not a common
    password, not the person's name or address. A first password (the contact has none)
    needs the ``code`` identity emailed them for it."""

    current_password: StrictStr | None = Field(None, max_length=1000)
    new_password: StrictStr = Field(max_length=1000)
    code: StrictStr | None = Field(None, pattern=EMAILED_CODE)


class PhoneChange(Contract):
    phone: optional(Phone) = None


class LanguageChange(Contract):
    """A contact's own language for their pages and emails; ``null`` goes back to their
    customer's."""

    language: Language | None


class CodeSignIn(Contract):
    email: Email
    code: StrictStr = Field(pattern=EMAILED_CODE)


class RoleChange(Contract):
    """An owner changing a teammate's role on the portal's team page."""

    role: Role = Field(description=ROLE)


# A portal process sends its session uses every few seconds; far more than this in one
# batch is a bug or an attack, not traffic.
MAX_SESSION_USES = 10_000


class SessionUse(Contract):
    """One session a reader served from memory since its last batch."""

    # Not checked as an id here: an unknown or malformed one is skipped by identity, so one
    # stale entry never costs the rest of the batch.
    session_id: StrictStr = Field(min_length=1, max_length=64,
                                  description="The session's id, as `resolve_session` gave it.")
    last_used_at: Timestamp = Field(description="Its latest use. One in the future (clock skew) "
                                    "counts as identity's now.")


class SessionUses(Contract):
    """``identity.record_session_use``: when the sessions a reader (the portal) served from
    memory were last used, so that a session in use does not end as idle."""

    sessions: list[SessionUse] = Field(max_length=MAX_SESSION_USES)
