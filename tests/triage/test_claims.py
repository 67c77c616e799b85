"""Claims and assignment: one holder per call, conflicts name the holder,
supervisors assign with a reason (audited, notified)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.calls.codes import STATUS_CLOSED
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.extensions import db
from clinician_app.notifications.models import Notification
from clinician_app.triage.models import CallAssignment
from clinician_app.triage.services import assign_call, assignable_users, assignment_history, claim_call
from tests.calls.factories import make_call

from .conftest import triaged_call


def _actions(call_id):
    return db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == call_id)
                              .order_by(AuditEvent.seq)).scalars().all()


def test_claim_takes_the_call_and_a_second_claim_names_the_holder(town, clinician, clinician2):
    call = triaged_call(town, clinician)
    claimed = claim_call(clinician, call.id)
    assert (claimed.status, claimed.assignee_id) == ("assigned", clinician.id)
    assert claimed.assigned_at is not None
    assert _actions(call.id)[-1] == "call.claim"

    with pytest.raises(Conflict, match="Already claimed by Dana Reyes"):
        claim_call(clinician2, call.id)
    with pytest.raises(Conflict, match="Already claimed by Dana Reyes"):
        claim_call(clinician, call.id)
    rows = db.session.execute(select(CallAssignment).where(CallAssignment.call_id == call.id)).scalars().all()
    assert [(r.kind, r.assignee_id) for r in rows] == [("claim", clinician.id)]


def test_claim_of_a_closed_call_is_refused_clearly(town, clinician):
    call = triaged_call(town, clinician)
    call.status = STATUS_CLOSED
    db.session.flush()
    with pytest.raises(Conflict, match="closed"):
        claim_call(clinician, call.id)
    assert call.assignee_id is None


def test_claim_of_an_untriaged_call_is_refused(town, clinician):
    call = make_call(town.id)
    with pytest.raises(Conflict, match="not been triaged"):
        claim_call(clinician, call.id)


def test_bhu_routed_call_is_claimed_by_the_bhu_not_the_town(town, bhu, clinician, bhu_clinician, agencies, make_user):
    call = triaged_call(town, clinician, route="bhu")
    with pytest.raises(PermissionDenied):
        claim_call(clinician, call.id)
    with pytest.raises(NotFound):
        claim_call(make_user(agencies["B"], "clinician"), call.id)
    assert claim_call(bhu_clinician, call.id).assignee_id == bhu_clinician.id


def test_dispatcher_cannot_claim(town, clinician, make_user):
    call = triaged_call(town, clinician)
    with pytest.raises(PermissionDenied):
        claim_call(make_user(town, "dispatcher"), call.id)


def test_supervisor_assigns_then_reassigns_with_reasons_audited_and_notified(town, clinician, clinician2, supervisor):
    call = triaged_call(town, clinician)
    assign_call(supervisor, call.id, clinician.id, "Knows the family.")
    assert (call.status, call.assignee_id) == ("assigned", clinician.id)
    first_assigned = call.assigned_at

    assign_call(supervisor, call.id, clinician2.id, "Dana went off shift.")
    assert call.assignee_id == clinician2.id and call.assigned_at == first_assigned

    history = assignment_history(supervisor, call)
    assert [(h.kind, h.assignee_id, h.previous_assignee_id, h.reason) for h in history] == [
        ("assign", clinician.id, None, "Knows the family."),
        ("reassign", clinician2.id, clinician.id, "Dana went off shift."),
    ]
    assert _actions(call.id)[-2:] == ["call.assign", "call.reassign"]
    reassign = db.session.execute(select(AuditEvent).where(AuditEvent.record_id == call.id,
                                                           AuditEvent.action == "call.reassign")).scalar_one()
    assert reassign.actor_id == supervisor.id
    notes = db.session.execute(select(Notification.user_id, Notification.kind)
                               .where(Notification.record_id == call.id)).all()
    assert sorted(notes) == sorted([(clinician.id, "call_assigned"), (clinician2.id, "call_assigned"),
                                    (clinician.id, "call_reassigned_away")])


def test_supervisor_reassigns_a_claimed_call(town, clinician, clinician2, supervisor):
    call = triaged_call(town, clinician)
    claim_call(clinician, call.id)
    assign_call(supervisor, call.id, clinician2.id, "Balancing load.")
    assert call.assignee_id == clinician2.id


@pytest.mark.parametrize(("who", "reason", "field"), [
    ("clinician", "", "reason"),
    ("clinician", "   ", "reason"),
    ("nobody", "Because.", "assignee_id"),
    ("dispatcher", "Because.", "assignee_id"),
])
def test_assignment_needs_an_eligible_clinician_and_a_reason(town, clinician, supervisor, make_user, who, reason, field):
    call = triaged_call(town, clinician)
    assignee_id = {"clinician": clinician.id, "nobody": "no-such-user",
                   "dispatcher": make_user(town, "dispatcher").id}[who]
    with pytest.raises(ValidationError) as exc:
        assign_call(supervisor, call.id, assignee_id, reason)
    assert field in exc.value.fields and call.assignee_id is None


def test_assign_to_the_current_holder_is_refused(town, clinician, supervisor):
    call = triaged_call(town, clinician)
    claim_call(clinician, call.id)
    with pytest.raises(ValidationError, match="Some"):
        assign_call(supervisor, call.id, clinician.id, "Again.")


def test_assign_closed_or_untriaged_call_refused(town, clinician, supervisor):
    flagged = make_call(town.id)
    with pytest.raises(ValidationError, match="Triage the call"):
        assign_call(supervisor, flagged.id, clinician.id, "Please.")
    closed = triaged_call(town, clinician)
    closed.status = STATUS_CLOSED
    db.session.flush()
    with pytest.raises(ValidationError, match="closed"):
        assign_call(supervisor, closed.id, clinician.id, "Please.")


def test_bhu_supervisor_assigns_bhu_clinicians_only(town, clinician, supervisor, bhu_clinician, bhu_supervisor):
    call = triaged_call(town, clinician, route="bhu")
    assert [u.id for u in assignable_users(bhu_supervisor, call)] == [bhu_clinician.id]
    assert assignable_users(supervisor, call) == []
    with pytest.raises(PermissionDenied):
        assign_call(supervisor, call.id, clinician.id, "Mine.")
    assign_call(bhu_supervisor, call.id, bhu_clinician.id, "On call tonight.")
    assert call.assignee_id == bhu_clinician.id


def test_clinician_cannot_assign(town, clinician, clinician2):
    call = triaged_call(town, clinician)
    with pytest.raises(PermissionDenied):
        assign_call(clinician, call.id, clinician2.id, "Swap.")
