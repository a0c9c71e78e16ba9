"""The owners' team page, below the portal: identity's team commands on the real
repository (in-memory store) with notifications replaced. Who acts is always decided
from the session, and a company never loses its last owner at an owner's hand."""

from __future__ import annotations

from typing import Any

import pytest

from porchlight.contracts.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from services.identity import ALIAS
from services.identity.accounts import rules
from services.identity.accounts.models import Contact, SignInCode
from services.identity.service import IdentityService
from services.identity.store import IdentityRepository
from tests.unit.conftest import dispatched


@pytest.fixture
def identity(make_worker: Any) -> Any:
    worker = make_worker(IdentityService, ALIAS, IdentityRepository)
    worker.notifications.email_contact.return_value = {"id": "e" * 24, "template": "contact_invitation"}
    return worker


class Company:
    """One workspace and one customer, with contacts signed in by temporary password."""

    def __init__(self, identity: Any, name: str = "Northwind Facilities") -> None:
        self.identity = identity
        self.ws = identity.create_workspace({"name": "Acme Heating"})["workspace"]["id"]
        self.customer = identity.create_customer(
            self.ws, "staff", {"name": name, "email": "office@example.org"})["id"]

    def contact(self, name: str, role: str = "owner") -> dict[str, Any]:
        email = f"{name.lower()}@northwind.example"
        return self.identity.create_contact(self.ws, "staff", self.customer,
                                            {"name": name, "email": email, "role": role})

    def session(self, contact: dict[str, Any]) -> str:
        password = self.identity.set_temporary_password(self.ws, "staff", self.customer,
                                                        contact["id"])["temporary_password"]
        signed_in = self.identity.sign_in_with_password({"email": contact["email"], "password": password})
        return signed_in["session"]


def test_an_owner_adds_and_invites_a_teammate_a_member_manages_nothing(identity: Any) -> None:
    company = Company(identity)
    owner = company.session(company.contact("Frances"))
    invitation = identity.add_team_member(owner, {"name": "Sam Lee", "email": "sam@northwind.example"})
    sam = invitation["contact"]
    assert sam["role"] == "member" and sam["invitation_status"] == "invited"
    sent = identity.notifications.email_contact.call_args.args[1]
    assert sent["template"] == "contact_invitation" and sent["email"] == "sam@northwind.example"
    assert sent["url"].split("/portal/sign-in/")[1].startswith(rules.SIGN_IN_TOKEN_PREFIX)
    assert [c["name"] for c in identity.list_team(owner)["contacts"]] == ["Frances", "Sam Lee"]
    events = dispatched(identity)
    assert events[-2:] == ["contact_invited", "contact_created"]

    member = company.session(sam)
    for command in (lambda: identity.list_team(member),
                    lambda: identity.add_team_member(member, {"name": "X", "email": "x@example.org"}),
                    lambda: identity.change_team_role(member, sam["id"], {"role": "owner"}),
                    lambda: identity.remove_team_member(member, sam["id"])):
        with pytest.raises(Forbidden):
            command()
    assert Contact.objects.get(id=sam["id"]).role == "member"
    with pytest.raises(Unauthorized):
        identity.list_team("not-a-session-at-all-but-long-enough")


def test_bad_input_is_refused_and_nothing_is_kept(identity: Any) -> None:
    company = Company(identity)
    owner = company.session(company.contact("Frances"))
    for bad in ({"name": "", "email": "a@b.example"}, {"name": "X", "email": "nope"},
                {"name": "X", "email": "x@b.example", "role": "admin"}):
        with pytest.raises(InvalidInput):
            identity.add_team_member(owner, bad)
    with pytest.raises(Conflict):  # the address already signs in here
        identity.add_team_member(owner, {"name": "Twin", "email": "FRANCES@northwind.example"})
    with pytest.raises(InvalidInput):
        identity.change_team_role(owner, company.contact("Sam", "member")["id"], {"role": "boss"})
    assert Contact.objects(customer_id=company.customer).count() == 2


def test_an_invitation_that_cannot_go_takes_the_new_contact_back(identity: Any) -> None:
    company = Company(identity)
    owner = company.session(company.contact("Frances"))
    identity.notifications.email_contact.side_effect = Unavailable("The email could not be queued.")
    with pytest.raises(Unavailable):
        identity.add_team_member(owner, {"name": "Sam", "email": "sam@northwind.example"})
    assert not Contact.objects(email_key="sam@northwind.example")
    assert not SignInCode.objects(purpose="invitation")
    assert dispatched(identity).count("contact_created") == 1  # Frances only


def test_owners_invite_within_their_customers_window_apart_from_staffs(
        identity: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(rules, "OWNER_INVITATIONS_PER_WINDOW", 2)
    monkeypatch.setattr(rules, "INVITATIONS_PER_WINDOW", 1)
    company = Company(identity)
    owner = company.session(company.contact("Frances"))
    staff_invited = company.contact("Staffpick", "member")
    identity.add_team_member(owner, {"name": "Sam", "email": "sam@northwind.example"})
    identity.invite_team_member(owner, staff_invited["id"])
    with pytest.raises(TooManyRequests) as refused:
        identity.add_team_member(owner, {"name": "Kit", "email": "kit@northwind.example"})
    assert refused.value.retry_after > 0 and "Your company has sent 2 invitations" in str(refused.value)
    assert not Contact.objects(email_key="kit@northwind.example")
    # Staff's window is the workspace's own: the owner's two used none of it.
    identity.invite_contact(company.ws, "staff", company.customer, staff_invited["id"])
    # And another customer's owner has a window of their own.
    neighbour = Company(identity, "Harbour Bakery")
    other_owner = neighbour.session(neighbour.contact("Olive"))
    identity.add_team_member(other_owner, {"name": "Ben", "email": "ben@harbour.example"})


def test_a_refused_reinvite_leaves_the_invitation_that_was_out_working(
        identity: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(rules, "INVITATIONS_PER_WINDOW", 1)
    company = Company(identity)
    invited = company.contact("Sam", "member")
    identity.invite_contact(company.ws, "staff", company.customer, invited["id"])
    [live] = SignInCode.objects(contact_id=invited["id"], purpose="invitation", revoked_at=None)
    with pytest.raises(TooManyRequests):
        identity.invite_contact(company.ws, "staff", company.customer, invited["id"])
    assert [c.id for c in SignInCode.objects(contact_id=invited["id"], purpose="invitation",
                                             revoked_at=None)] == [live.id]
    # One admitted and handed over replaces it.
    monkeypatch.setattr(rules, "INVITATIONS_PER_WINDOW", 2)
    identity.invite_contact(company.ws, "staff", company.customer, invited["id"])
    assert SignInCode.objects.get(id=live.id).revoked_at is not None
    assert SignInCode.objects(contact_id=invited["id"], purpose="invitation", revoked_at=None).count() == 1


def test_an_invitation_notifications_would_not_take_leaves_the_old_one_working(identity: Any) -> None:
    company = Company(identity)
    invited = company.contact("Sam", "member")
    identity.invite_contact(company.ws, "staff", company.customer, invited["id"])
    [live] = SignInCode.objects(contact_id=invited["id"], purpose="invitation", revoked_at=None)
    identity.notifications.email_contact.side_effect = Unavailable("The email could not be queued.")
    with pytest.raises(Unavailable):
        identity.invite_contact(company.ws, "staff", company.customer, invited["id"])
    assert [c.id for c in SignInCode.objects(contact_id=invited["id"], purpose="invitation")] == [live.id]
    assert SignInCode.objects.get(id=live.id).revoked_at is None


def test_the_last_owner_can_be_neither_demoted_nor_removed_by_an_owner(identity: Any) -> None:
    company = Company(identity)
    frances = company.contact("Frances")
    owner = company.session(frances)
    for command in (lambda: identity.change_team_role(owner, frances["id"], {"role": "member"}),
                    lambda: identity.remove_team_member(owner, frances["id"])):
        with pytest.raises(Conflict) as refused:
            command()
        assert "at least one owner" in refused.value.message
    stored = Contact.objects.get(id=frances["id"])
    assert stored.role == "owner" and stored.access_removed_at is None
    assert identity.resolve_session(owner)["contact"]["role"] == "owner"

    # With a second owner, either may step down or be removed — once.
    gil = company.contact("Gil")
    assert identity.change_team_role(owner, gil["id"], {"role": "member"})["role"] == "member"
    assert identity.change_team_role(owner, gil["id"], {"role": "owner"})["role"] == "owner"
    gone = identity.remove_team_member(owner, frances["id"])  # herself: she is signed out
    assert gone["has_access"] is False
    with pytest.raises(Unauthorized):
        identity.resolve_session(owner)
    gil_session = company.session(gil)
    with pytest.raises(Conflict):
        identity.change_team_role(gil_session, gil["id"], {"role": "member"})


def test_two_owners_demoting_each_other_at_once_leave_one_owner(identity: Any) -> None:
    """The rule is checked after each change: when the other owner's demotion has been
    written but not yet checked, this one sees no owner left and undoes itself."""
    company = Company(identity)
    frances, gil = company.contact("Frances"), company.contact("Gil")
    repo = identity.repo.accounts
    repo.update_contact(Contact.objects.get(id=gil["id"]), {"role": "member"})  # Gil's, mid-way
    with pytest.raises(Conflict):
        repo.change_role(Contact.objects.get(id=frances["id"]), "member", keep_an_owner=True)
    assert Contact.objects.get(id=frances["id"]).role == "owner"
    # The same for removals: the removal is undone, her sessions and address untouched.
    session = company.session(frances)
    with pytest.raises(Conflict):
        repo.remove_access(Contact.objects.get(id=frances["id"]), keep_an_owner=True)
    stored = Contact.objects.get(id=frances["id"])
    assert stored.access_removed_at is None and stored.email_slot == stored.email_key
    assert identity.resolve_session(session)["contact"]["id"] == frances["id"]


def test_an_owner_reaches_only_their_own_companys_contacts(identity: Any) -> None:
    company = Company(identity)
    owner = company.session(company.contact("Frances"))
    other = Company(identity, "Southwind")
    stranger = other.contact("Olive")
    for command in (lambda: identity.change_team_role(owner, stranger["id"], {"role": "member"}),
                    lambda: identity.remove_team_member(owner, stranger["id"]),
                    lambda: identity.invite_team_member(owner, stranger["id"]),
                    lambda: identity.remove_team_member(owner, "0" * 24)):
        with pytest.raises(NotFound):
            command()
    assert Contact.objects.get(id=stranger["id"]).access_removed_at is None
    assert [c["name"] for c in identity.list_team(owner)["contacts"]] == ["Frances"]


def test_a_temporary_password_given_before_they_ended_gets_an_end_from_the_first_start(identity: Any) -> None:
    """Older temporary passwords had no end: at start they get 72 hours from then, once."""
    from datetime import timedelta

    from porchlight.contracts.clock import as_utc, utcnow
    from services.identity.accounts import rules
    from services.identity.accounts.models import Contact

    company = Company(identity)
    contact = identity.create_contact(company.ws, "staff", company.customer, {
        "name": "Old Temp", "email": "old-temp@northwind.example", "role": "member"})
    identity.set_temporary_password(company.ws, "staff", company.customer, contact["id"])
    Contact.objects(id=contact["id"]).update_one(set__password_expires_at=None)  # as before the rule
    now = utcnow()
    assert identity.repo.migrate(now) == 1
    ends = as_utc(Contact.objects.get(id=contact["id"]).password_expires_at)
    assert abs(ends - (now + rules.TEMPORARY_PASSWORD_LIFETIME)) < timedelta(milliseconds=2)
    assert identity.repo.migrate(now + timedelta(hours=1)) == 0


def test_a_customers_first_contact_is_its_owner_whatever_role_was_sent(identity: Any) -> None:
    """A company is never without an owner: the first contact with access is one."""
    company = Company(identity)
    first = company.contact("Frances", role="member")
    assert first["role"] == "owner"
    assert company.contact("Sam", role="member")["role"] == "member"
    other = Company(identity, name="Someone Else")  # each customer has its own first
    assert other.contact("Olive", role="member")["role"] == "owner"
    # Everyone's access removed, the next one added is the owner again.
    for contact in (first, identity.list_contacts(company.ws, company.customer, {})["contacts"][1]):
        identity.remove_access(company.ws, "staff", company.customer, contact["id"])
    assert company.contact("Gil", role="member")["role"] == "owner"
