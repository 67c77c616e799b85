"""Encounters, closures and dispositions through their services: the rules, the
times they set on the call, scope, encryption and the audit trail."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from clinician_app.calls.models import Call
from clinician_app.cases import services
from clinician_app.cases.models import CallClosure, Disposition, Encounter
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db
from tests.calls.factories import make_call
from tests.cases.conftest import CLOSE_REASON, NOTE, claimed_call, new_encounter


def events(action, record_id=None):
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if record_id:
        stmt = stmt.where(AuditEvent.record_id == record_id)
    return list(db.session.execute(stmt).scalars())


def test_migration_seeds_the_twelve_dispositions_as_data():
    rows = {d.code: d for d in db.session.execute(select(Disposition)).scalars()}
    assert len(rows) >= 12
    assert rows["section_12"].label == "Involuntary evaluation (Section 12)" and not rows["section_12"].counts_as_diversion
    assert rows["arrest_diverted"].counts_as_diversion and not rows["arrest"].counts_as_diversion
    assert rows["crisis_stabilisation"].label == "Crisis stabilisation (CBAT/CCS)"
    assert all(d.active for d in rows.values())


def test_recording_an_encounter_closes_the_call_and_sets_its_times(clinician):
    call = claimed_call(clinician)
    assert call.first_contact_at is None and call.on_scene_at is None
    data = new_encounter()
    encounter = services.record_encounter(clinician, call.id, data)

    assert call.status == "closed" and call.closed_at is not None
    assert as_utc(call.first_contact_at) == data.started_at and as_utc(call.on_scene_at) == data.started_at
    assert encounter.disposition.code == "resolved_on_scene" and encounter.minutes == 35
    assert encounter.custody_diverted is True and encounter.jail_diversion_option is True
    assert encounter.ed_visit_prevented is None
    assert [(c.charge, c.diverted) for c in encounter.charges] == [("Disorderly conduct", True)]
    assert encounter.agency_id == clinician.agency_id and encounter.created_by_id == clinician.id

    [event] = events("encounter.create", encounter.id)
    assert event.details_dict["call_id"] == call.id and event.details_dict["disposition"] == "resolved_on_scene"
    assert NOTE not in event.details and "Disorderly" not in str(event.details)


def test_note_is_encrypted_at_rest_and_every_read_is_audited(clinician):
    call = claimed_call(clinician)
    encounter = services.record_encounter(clinician, call.id, new_encounter())
    raw = db.session.execute(text("SELECT note_enc FROM encounters WHERE id = :id"), {"id": encounter.id}).scalar_one()
    assert NOTE.encode() not in bytes(raw)

    assert events("encounter.note_read", encounter.id) == []
    notes = services.read_encounter_notes(clinician, services.encounters_for_call(clinician, call))
    assert notes == {encounter.id: NOTE}
    db.session.commit()  # audited reads are written as the transaction commits
    assert len(events("encounter.note_read", encounter.id)) == 1


def test_phone_contact_sets_first_contact_but_not_on_scene(clinician):
    call = claimed_call(clinician)
    services.record_encounter(clinician, call.id, new_encounter(kind="phone", charges=[], note=""))
    assert call.first_contact_at is not None and call.on_scene_at is None


def test_times_already_set_are_kept(clinician):
    call = claimed_call(clinician)
    earlier = utcnow() - timedelta(minutes=50)
    call.first_contact_at = call.on_scene_at = earlier
    services.record_encounter(clinician, call.id, new_encounter())
    assert as_utc(call.first_contact_at) == earlier and as_utc(call.on_scene_at) == earlier


def test_an_encounter_ending_before_it_starts_is_refused(clinician):
    call = claimed_call(clinician)
    now = utcnow()
    with pytest.raises(ValidationError) as caught:
        services.record_encounter(clinician, call.id, new_encounter(started_at=now - timedelta(minutes=5),
                                                                    ended_at=now - timedelta(minutes=30)))
    assert caught.value.fields == {"ended_at": ["The end time is before the start time. Check both times."]}
    assert call.status == "assigned"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "visit"}, "kind"),
    ({"disposition": "teleported"}, "disposition"),
    ({"point_of_intervention": ""}, "point_of_intervention"),
    ({"custody_diverted": "maybe"}, "custody_diverted"),
    ({"started_at": None}, "started_at"),
    ({"ended_at": utcnow().replace(tzinfo=None)}, "ended_at"),
    ({"ended_at": utcnow() + timedelta(hours=2)}, "ended_at"),
    ({"started_at": utcnow() - timedelta(days=3)}, "started_at"),  # before the call came in
    ({"note": "x" * 2001}, "note"),
    ({"charges": [("a" * 121, False)]}, "charges"),
    ({"charges": [("Trespass", False)] * 11}, "charges"),
])
def test_bad_values_name_their_field(clinician, overrides, field):
    call = claimed_call(clinician)
    with pytest.raises(ValidationError) as caught:
        services.record_encounter(clinician, call.id, new_encounter(**overrides))
    assert field in caught.value.fields


def test_a_retired_disposition_is_no_longer_accepted(clinician, make_user, agencies):
    admin = make_user(agencies["A"], "admin")
    refused = db.session.execute(select(Disposition).where(Disposition.code == "refused")).scalar_one()
    services.retire_disposition(admin, refused.id)
    assert "refused" not in {d.code for d in services.active_dispositions()}
    call = claimed_call(clinician)
    with pytest.raises(ValidationError) as caught:
        services.record_encounter(clinician, call.id, new_encounter(disposition="refused"))
    assert "disposition" in caught.value.fields
    services.restore_disposition(admin, refused.id)
    services.record_encounter(clinician, call.id, new_encounter(disposition="refused"))


def test_scope_other_towns_call_is_not_found_and_routed_calls_belong_to_the_bhu(clinician, make_user, agencies):
    other_town = make_call(agencies["B"].id)
    with pytest.raises(NotFound):
        services.record_encounter(clinician, other_town.id, new_encounter())

    routed = claimed_call(make_user(agencies["A"], "clinician"), route="department")
    to_bhu = make_call(agencies["A"].id, received_at=utcnow() - timedelta(hours=1))
    from clinician_app.triage.services import TriageInput, record_triage
    record_triage(clinician, to_bhu.id, TriageInput(acuity="urgent", route="bhu", override_reason="Test."))
    with pytest.raises(PermissionDenied):
        services.record_encounter(clinician, to_bhu.id, new_encounter())
    bhu_clinician = make_user(agencies["BHU"], "bhu_clinician")
    encounter = services.record_encounter(bhu_clinician, to_bhu.id, new_encounter())
    assert encounter.agency_id == agencies["BHU"].id
    with pytest.raises(NotFound):  # not routed to the BHU: the BHU can't see it
        services.record_encounter(bhu_clinician, routed.id, new_encounter())


def test_roles_without_case_writing_are_refused(make_user, agencies, clinician):
    call = claimed_call(clinician)
    for role in ("dispatcher", "officer", "admin"):
        with pytest.raises(PermissionDenied):
            services.record_encounter(make_user(agencies["A"], role), call.id, new_encounter())


def test_a_closed_or_unflagged_call_takes_no_encounter(clinician):
    call = claimed_call(clinician)
    services.record_encounter(clinician, call.id, new_encounter())
    with pytest.raises(Conflict):
        services.record_encounter(clinician, call.id, new_encounter())
    plain = make_call(clinician.agency_id, co_response=False)
    with pytest.raises(Conflict):
        services.record_encounter(clinician, plain.id, new_encounter())


def test_supervisor_closes_a_call_with_a_reason(supervisor, clinician):
    call = claimed_call(clinician)
    with pytest.raises(ValidationError) as caught:
        services.close_call_by_supervisor(supervisor, call.id, "   ")
    assert "reason" in caught.value.fields
    with pytest.raises(PermissionDenied):
        services.close_call_by_supervisor(clinician, call.id, CLOSE_REASON)

    closure = services.close_call_by_supervisor(supervisor, call.id, CLOSE_REASON)
    assert call.status == "closed" and call.closed_at is not None and closure.reason == CLOSE_REASON
    raw = db.session.execute(text("SELECT reason_enc FROM call_closures WHERE id = :id"), {"id": closure.id}).scalar_one()
    assert CLOSE_REASON.encode() not in bytes(raw)
    [event] = events("call.close", call.id)
    assert event.details_dict == {"closure_id": closure.id, "previous_status": "assigned"}
    with pytest.raises(Conflict):
        services.close_call_by_supervisor(supervisor, call.id, CLOSE_REASON)


def test_supervisor_of_another_town_cannot_close(clinician, make_user, agencies):
    call = claimed_call(clinician)
    with pytest.raises(NotFound):
        services.close_call_by_supervisor(make_user(agencies["B"], "supervisor"), call.id, CLOSE_REASON)
    assert db.session.execute(select(CallClosure)).first() is None


def test_admin_adds_retires_and_restores_dispositions(make_user, agencies):
    admin = make_user(agencies["A"], "admin")
    added = services.add_disposition(admin, " Housing_Placement ", "Emergency housing placement", True)
    assert added.code == "housing_placement" and added.counts_as_diversion and added.active
    assert added.code in {d.code for d in services.active_dispositions()}
    assert events("disposition.create", added.id)

    with pytest.raises(ValidationError) as caught:
        services.add_disposition(admin, "housing_placement", "Again", False)
    assert "code" in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        services.add_disposition(admin, "9 bad code!", "", False)
    assert set(caught.value.fields) == {"code", "label"}

    services.retire_disposition(admin, added.id)
    assert not added.active and events("disposition.retire", added.id)
    services.restore_disposition(admin, added.id)
    assert added.active and events("disposition.restore", added.id)
    with pytest.raises(NotFound):
        services.retire_disposition(admin, "00000000-0000-0000-0000-000000000000")


def test_only_admins_keep_the_disposition_list(make_user, agencies):
    for role in ("clinician", "supervisor", "auditor"):
        with pytest.raises(PermissionDenied):
            services.add_disposition(make_user(agencies["A"], role), "new_code", "New", False)


def test_encounters_are_listed_for_the_call_oldest_first(clinician):
    call = claimed_call(clinician)
    encounter = services.record_encounter(clinician, call.id, new_encounter())
    assert services.encounters_for_call(clinician, call) == [encounter]
    assert db.session.get(Call, call.id).status == "closed"
    assert db.session.execute(select(Encounter).where(Encounter.call_id == call.id)).scalar_one() is encounter
