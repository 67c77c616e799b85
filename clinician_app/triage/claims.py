"""Claims and assignment: who holds a routed call.

A claim is one conditional UPDATE (assign the call to me if nobody holds it and
it is still triaged and routed to my agency) and a check of the row count:
the database decides between simultaneous claims, on SQLite (writes are
serialised) and PostgreSQL (the second UPDATE waits for the first's row lock,
then re-reads the row and no longer matches) alike, with no read-then-write race.
"""
from __future__ import annotations

from sqlalchemy import select, update

from clinician_app.agencies.models import Agency
from clinician_app.agencies.roster import rosterable_users
from clinician_app.calls.codes import STATUS_ASSIGNED, STATUS_CLOSED, STATUS_FLAGGED, STATUS_ON_SCENE, STATUS_TRIAGED
from clinician_app.calls.models import Call
from clinician_app.core import audit, policy
from clinician_app.core.errors import Conflict, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission, require
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.notifications.services import notify

from .models import ASSIGN_REASON_MAX, CallAssignment
from .policies import may_assign, may_claim

ASSIGNABLE = (STATUS_TRIAGED, STATUS_ASSIGNED, STATUS_ON_SCENE)


def _reload(call_id: str) -> Call:
    return db.session.execute(
        select(Call).where(Call.id == call_id).execution_options(populate_existing=True)
    ).scalar_one()


def _not_claimable(call: Call) -> Conflict:
    """Why a call can't be claimed now, in words the clinician can act on."""
    if call.status == STATUS_CLOSED:
        return Conflict("This call is closed; it can't be claimed.")
    if call.assignee_id is not None:
        from clinician_app.auth.models import User

        holder_user = db.session.get(User, call.assignee_id)
        holder = holder_user.display_name if holder_user is not None else "another clinician"
        return Conflict(f"Already claimed by {holder}.")
    if call.status == STATUS_FLAGGED:
        return Conflict("This call has not been triaged yet; triage it before claiming it.")
    return Conflict("This call can't be claimed in its current state.")


def claim_call(actor, call_id: str) -> Call:
    """Take a triaged call routed to the actor's agency. Exactly one of several
    simultaneous claims wins; the others get ``Conflict`` naming the holder."""
    require(actor, Permission.CALLS_CLAIM)
    call = policy.get_visible(db.session, Call, call_id, actor)
    if call.status == STATUS_CLOSED or call.assignee_id is not None or call.status != STATUS_TRIAGED:
        raise _not_claimable(call)
    if not may_claim(actor, call):
        raise PermissionDenied("This call was routed to another agency; its clinicians claim it.")

    now = utcnow()
    result = db.session.execute(
        update(Call)
        .where(Call.id == call.id, Call.assignee_id.is_(None), Call.status == STATUS_TRIAGED,
               Call.route_agency_id == actor.agency_id)
        .values(assignee_id=actor.id, assigned_at=now, status=STATUS_ASSIGNED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    call = _reload(call.id)
    if result.rowcount != 1:
        if call.assignee_id is None and call.status == STATUS_TRIAGED:
            raise PermissionDenied("This call was routed to another agency; its clinicians claim it.")
        raise _not_claimable(call)

    db.session.add(CallAssignment(call_id=call.id, assignee_id=actor.id, assigned_by_id=actor.id,
                                  kind="claim", created_at=now))
    db.session.flush()
    audit.record("call.claim", actor=actor, record_type="call", record_id=call.id,
                 details={"assignee_id": actor.id})
    return call


def assignable_users(actor, call: Call) -> list:
    """Who a supervisor may give the call to: active clinicians of the agency it
    was routed to (the town's department clinicians, or the BHU's clinicians)."""
    require(actor, Permission.CALLS_ASSIGN)
    if not may_assign(actor, call):
        return []
    agency = db.session.get(Agency, call.route_agency_id)
    return rosterable_users(agency)


def assign_call(actor, call_id: str, assignee_id: str, reason: str) -> Call:
    """A supervisor gives a triaged call to a clinician, or moves it from one
    to another, with a reason. The new holder (and a displaced one) is notified."""
    require(actor, Permission.CALLS_ASSIGN)
    call = policy.get_visible(db.session, Call, call_id, actor)
    if not may_assign(actor, call):
        if call.status == STATUS_FLAGGED:
            raise ValidationError("Triage the call before assigning it.")
        raise PermissionDenied("This call was routed to another agency; its supervisors assign it.")
    # Lock the row (PostgreSQL; SQLite serialises writers anyway) so a claim
    # landing now can't be silently overwritten without being seen as "previous".
    call = db.session.execute(
        select(Call).where(Call.id == call.id).with_for_update(of=Call).execution_options(populate_existing=True)
    ).scalar_one()
    if call.status == STATUS_CLOSED:
        raise ValidationError("This call is closed; it can't be assigned.")
    if call.status not in ASSIGNABLE:
        raise ValidationError("Triage the call before assigning it.")

    errors: dict[str, list[str]] = {}
    eligible = {u.id: u for u in assignable_users(actor, call)}
    assignee = eligible.get(assignee_id or "")
    if assignee is None:
        errors["assignee_id"] = ["Choose an active clinician of the agency the call was routed to."]
    elif assignee.id == call.assignee_id:
        errors["assignee_id"] = [f"{assignee.display_name} already holds this call."]
    reason = clean_text(reason, ASSIGN_REASON_MAX, "reason", errors, required="Give the reason for this assignment.")
    if errors:
        raise ValidationError("Some of the assignment needs correcting.", fields=errors)

    now = utcnow()
    previous = call.assignee_id
    kind = "reassign" if previous else "assign"
    call.assignee_id = assignee.id
    call.assigned_at = call.assigned_at or now
    if call.status == STATUS_TRIAGED:
        call.status = STATUS_ASSIGNED
    call.updated_at = now
    db.session.add(CallAssignment(call_id=call.id, assignee_id=assignee.id, previous_assignee_id=previous,
                                  assigned_by_id=actor.id, kind=kind, reason=reason, created_at=now))
    db.session.flush()
    notify(assignee.id, "call_assigned", "call", call.id)
    if previous:
        notify(previous, "call_reassigned_away", "call", call.id)
    audit.record(f"call.{kind}", actor=actor, record_type="call", record_id=call.id,
                 details={"assignee_id": assignee.id, "previous_assignee_id": previous})
    return call


def assignment_history(actor, call: Call) -> list[CallAssignment]:
    """Every change of hands of the call, oldest first."""
    require(actor, Permission.CALLS_READ)
    policy.get_visible(db.session, Call, call.id, actor)
    return list(db.session.execute(
        select(CallAssignment).where(CallAssignment.call_id == call.id)
        .order_by(CallAssignment.created_at, CallAssignment.id)
    ).scalars())
