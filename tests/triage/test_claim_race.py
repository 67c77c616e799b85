"""One winner (SECURITY.md promise 18), on PostgreSQL: ten clinicians claim one
call at the same moment, each in its own thread, app context, session and
connection, with real commits. Exactly one claim wins; the nine others are
told who holds the call; nothing else is written for them.

The rows made here are deleted afterwards; their audit events stay (the
trigger forbids deleting them), found by nothing but their ids.
"""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import delete, func, select

from clinician_app.agencies.models import Agency
from clinician_app.auth.models import User
from clinician_app.calls.models import Call
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import Conflict
from clinician_app.extensions import db
from clinician_app.notifications.models import Notification
from clinician_app.triage.models import CallAssignment, Triage
from clinician_app.triage.services import claim_call, record_triage

from .conftest import triage_input

pytestmark = [pytest.mark.postgres_only, pytest.mark.no_transaction]

THREADS = 10


@pytest.fixture()
def race(app, make_user):
    """A town, its BHU, ten clinicians and one triaged call, all committed."""
    from tests.calls.factories import make_call

    with app.app_context():
        suffix = uuid.uuid4().hex[:8].upper()
        town = Agency(name=f"Race town {suffix}", code=f"R{suffix}", kind="town")
        db.session.add(town)
        db.session.flush()
        clinicians = [make_user(town, "clinician", display_name=f"Racer {i}") for i in range(THREADS)]
        call = make_call(town.id)
        record_triage(clinicians[0], call.id, triage_input(route="department", override_reason="Race test."))
        ids = {"town": town.id, "call": call.id, "users": [u.id for u in clinicians],
               "names": {u.id: u.display_name for u in clinicians}}
        db.session.commit()
        db.session.remove()
    yield ids
    with app.app_context():
        db.session.execute(delete(CallAssignment).where(CallAssignment.call_id == ids["call"]))
        db.session.execute(delete(Notification).where(Notification.record_id == ids["call"]))
        db.session.execute(delete(Triage).where(Triage.call_id == ids["call"]))
        db.session.execute(delete(Call).where(Call.agency_id == ids["town"]))
        from clinician_app.auth.models import ApiClient, UserSession

        db.session.execute(delete(UserSession).where(UserSession.user_id.in_(ids["users"])))
        db.session.execute(delete(User).where(User.agency_id == ids["town"]))
        db.session.execute(delete(ApiClient).where(ApiClient.agency_id == ids["town"]))
        db.session.execute(delete(Agency).where(Agency.id == ids["town"]))
        db.session.commit()
        db.session.remove()


def test_ten_simultaneous_claims_have_exactly_one_winner(app, race):
    start = threading.Barrier(THREADS)
    winners: list[str] = []
    conflicts: list[tuple[str, str]] = []
    errors: list[BaseException] = []

    def claim(user_id: str):
        try:
            with app.app_context():
                try:
                    actor = db.session.get(User, user_id)
                    start.wait(timeout=30)
                    claim_call(actor, race["call"])
                    db.session.commit()
                    winners.append(user_id)
                except Conflict as exc:
                    db.session.rollback()
                    conflicts.append((user_id, exc.message))
                finally:
                    db.session.remove()
        except BaseException as exc:  # noqa: BLE001  (reported below: a thread can't fail the test itself)
            errors.append(exc)

    workers = [threading.Thread(target=claim, args=(uid,)) for uid in race["users"]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a claim hung"
    assert errors == []

    assert len(winners) == 1 and len(conflicts) == THREADS - 1
    winner = winners[0]
    assert {message for _, message in conflicts} == {f"Already claimed by {race['names'][winner]}."}

    with app.app_context():
        call = db.session.get(Call, race["call"])
        assert (call.status, call.assignee_id) == ("assigned", winner)
        rows = db.session.execute(select(CallAssignment).where(CallAssignment.call_id == call.id)).scalars().all()
        assert [(r.kind, r.assignee_id) for r in rows] == [("claim", winner)]
        claims = db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.record_id == call.id, AuditEvent.action == "call.claim")).scalar_one()
        assert claims == 1
        db.session.remove()

    # Afterwards the call can't be claimed again, by the winner or anyone.
    with app.app_context():
        with pytest.raises(Conflict, match=race["names"][winner]):
            claim_call(db.session.get(User, race["users"][-1] if winner != race["users"][-1] else race["users"][0]),
                       race["call"])
        db.session.rollback()
        db.session.remove()
