"""``core.direct_insert``: a row inserted without a flush is what a flush would
have stored, passes the same protected-field guard, reads back without a
query, and a conflicting row is skipped with the transaction still usable."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, text

from clinician_app.calls.models import Call
from clinician_app.core.direct_insert import insert_as_stored
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import ProtectedFieldError
from clinician_app.extensions import db
from clinician_app.people.models import Person

NARRATIVE = "SENTINEL direct insert narrative"


@contextmanager
def counted_statements():
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def new_call(agency, incident="DI-1") -> Call:
    now = utcnow()
    call = Call(agency_id=agency.id, incident_number=incident, received_at=now - timedelta(minutes=2),
                address="12 Main Street", address_key="12 MAIN ST", call_type="well_being_check",
                caller_relation="family", indicator_mental_health=True, urgency="now", updated_at=now)
    call.narrative = NARRATIVE
    return call


def test_the_row_is_stored_with_defaults_and_reads_back_without_a_query(app_ctx, agencies):
    call = new_call(agencies["A"])
    assert insert_as_stored(db.session, call) is True
    with counted_statements() as seen:
        assert call.narrative == NARRATIVE
        assert (call.status, call.co_response, call.source, call.caution_weapon) == ("flagged", True, "form", False)
        assert call.triaged_at is None and call.created_at is not None
    assert seen == []
    assert call in db.session and call not in db.session.new and not db.session.dirty
    db.session.expire_all()
    stored = db.session.get(Call, call.id)
    assert (stored.incident_number, stored.narrative, stored.status) == ("DI-1", NARRATIVE, "flagged")
    raw = db.session.execute(text("SELECT narrative_enc FROM calls WHERE id = :id"), {"id": call.id}).scalar_one()
    assert NARRATIVE.encode() not in bytes(raw)


def test_plaintext_in_an_encrypted_column_is_refused_and_nothing_is_written(app_ctx, agencies):
    call = new_call(agencies["A"])
    call.narrative_enc = NARRATIVE.encode()
    with pytest.raises(ProtectedFieldError):
        insert_as_stored(db.session, call)
    assert db.session.execute(select(func.count()).select_from(Call)).scalar_one() == 0


def test_blind_indexes_are_computed_as_a_flush_computes_them(app_ctx, agencies):
    inserted = Person(agency_id=agencies["A"].id, first_name="Ada", last_name="Lovelace")
    inserted.date_of_birth = date(1990, 12, 10)
    flushed = Person(agency_id=agencies["A"].id, first_name="Ada", last_name="Lovelace")
    flushed.date_of_birth = date(1990, 12, 10)
    insert_as_stored(db.session, inserted)
    db.session.add(flushed)
    db.session.flush()
    assert inserted.name_dob_bidx is not None
    assert inserted.name_dob_bidx == flushed.name_dob_bidx
    stored = db.session.execute(select(Person.name_dob_bidx).where(Person.id == inserted.id)).scalar_one()
    assert stored == inserted.name_dob_bidx


def test_a_conflicting_row_is_skipped_and_the_transaction_goes_on(app_ctx, agencies):
    first = new_call(agencies["A"], "DI-7")
    insert_as_stored(db.session, first, skip_conflicts=True)
    duplicate = new_call(agencies["A"], "DI-7")
    assert insert_as_stored(db.session, duplicate, skip_conflicts=True) is False
    assert duplicate not in db.session
    # No error and no savepoint: on PostgreSQL too the transaction is still usable.
    other_town = new_call(agencies["B"], "DI-7")
    assert insert_as_stored(db.session, other_town, skip_conflicts=True) is True
    numbers = db.session.execute(select(Call.agency_id).where(Call.incident_number == "DI-7")).scalars().all()
    assert sorted(numbers) == sorted([agencies["A"].id, agencies["B"].id])


def test_the_statement_is_compiled_once(app_ctx, agencies):
    insert_as_stored(db.session, new_call(agencies["A"], "DI-20"))
    with counted_statements() as seen:
        insert_as_stored(db.session, new_call(agencies["A"], "DI-21"))
    [statement] = seen
    assert statement.startswith("INSERT INTO calls") and "ON CONFLICT" not in statement
    # The skipping form has a cache key too (the dialects' on_conflict_do_nothing has none).
    insert_as_stored(db.session, new_call(agencies["A"], "DI-22"), skip_conflicts=True)
    cache = db.session.get_bind().engine._compiled_cache
    before = len(cache)
    with counted_statements() as seen:
        insert_as_stored(db.session, new_call(agencies["A"], "DI-23"), skip_conflicts=True)
        insert_as_stored(db.session, new_call(agencies["A"], "DI-24"), skip_conflicts=True)
    assert len(cache) == before
    assert all(s.startswith("INSERT INTO calls") and s.endswith("ON CONFLICT DO NOTHING") for s in seen)


def test_what_the_session_holds_unwritten_is_written_first(app_ctx):
    from clinician_app.agencies.models import Agency
    from clinician_app.core.types import new_id

    town = Agency(id=new_id(), name="Pending Town Police Department", code="PENDING", kind="town",
                  timezone="America/New_York")
    db.session.add(town)  # not flushed: the call's foreign key needs it in the database first
    call = new_call(town, "DI-30")
    assert insert_as_stored(db.session, call) is True
    assert db.session.execute(select(Call.agency_id).where(Call.id == call.id)).scalar_one() == town.id
