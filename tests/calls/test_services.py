"""The call services: validation, creation, scope, clinical reads, prior calls
and the CAD poll, called directly as the views, the API and the seed call them."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, text

from clinician_app.calls import services
from clinician_app.calls.addresses import normalise_address
from clinician_app.calls.models import Call
from clinician_app.calls.services import CallFilter, DuplicateIncidentNumber
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import NotFound, PermissionDenied, ValidationError
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.calls.conftest import CAUTION_NOTES, NARRATIVE
from tests.calls.factories import cad_client, make_call, new_call


def _events(action, record_id=None):
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if record_id:
        stmt = stmt.where(AuditEvent.record_id == record_id)
    return db.session.execute(stmt.order_by(AuditEvent.seq)).scalars().all()


# --- addresses ---------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("12 Main St.", "12  main   STREET"),
    ("5 Elm Rd", "5 elm road"),
    ("7 Oak Ave, Apt 2", "7 oak avenue apartment 2"),
    ("Chelmsford\u00a0Town Common", "chelmsford town common"),
])
def test_address_spellings_meet(a, b):
    assert normalise_address(a) == normalise_address(b)


def test_different_addresses_stay_apart():
    assert normalise_address("12 Main St") != normalise_address("14 Main St")
    assert normalise_address("12 Main St") != normalise_address("12 Main Rd")


# --- create ----------------------------------------------------------------------------

def test_dispatcher_creates_a_flagged_call(dispatcher):
    received = utcnow() - timedelta(minutes=7)
    call = services.create_call(dispatcher, new_call(
        incident_number="  25-00042 ", received_at=received.astimezone(ZoneInfo("America/New_York")),
        address="12 Main St.", indicators=["suicidal", "intoxication"], caution_weapon=True,
        caution_notes=CAUTION_NOTES, narrative=NARRATIVE, urgency="now", latitude="42.599", longitude=-71.367))
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert call.agency_id == dispatcher.agency_id
    assert call.incident_number == "25-00042"
    assert call.received_at == received.replace(microsecond=received.microsecond)
    assert call.received_at.tzinfo is not None and call.received_at.utcoffset() == timedelta(0)
    assert call.address == "12 Main St." and call.address_key == "12 main street"
    assert call.latitude == Decimal("42.599000") and call.longitude == Decimal("-71.367000")
    assert call.indicators == ["suicidal", "intoxication"] and call.indicator_suicidal
    assert call.cautions == ["weapon"] and call.caution_notes == CAUTION_NOTES
    assert call.narrative == NARRATIVE
    assert (call.status, call.co_response, call.urgency) == ("flagged", True, "now")
    assert call.flagged_at is not None and call.triaged_at is None
    assert (call.source, call.created_by_id, call.api_client_id) == ("form", dispatcher.id, None)
    db.session.commit()  # the call.create event is written as the transaction commits
    [event] = _events("call.create", call.id)
    assert event.actor_id == dispatcher.id and event.details_dict == {"co_response": True, "source": "form"}


def test_narrative_and_caution_notes_are_not_stored_in_plain_text(dispatcher):
    call = services.create_call(dispatcher, new_call(narrative=NARRATIVE, caution_notes=CAUTION_NOTES))
    row = db.session.execute(text("SELECT narrative_enc, caution_notes_enc FROM calls WHERE id = :id"), {"id": call.id}).one()
    for blob in row:
        assert blob and NARRATIVE.encode() not in bytes(blob) and b"Brutus" not in bytes(blob)


def test_a_call_not_flagged_is_recorded_without_urgency(dispatcher):
    call = services.create_call(dispatcher, new_call(co_response=False, urgency="now"))
    assert (call.status, call.urgency, call.flagged_at) == ("recorded", None, None)


def test_cad_client_creates_a_call_with_its_scope(town):
    client = cad_client(town.id)
    call = services.create_call(client, new_call())
    assert (call.source, call.api_client_id, call.created_by_id) == ("cad", client.id, None)
    db.session.commit()
    [event] = _events("call.create", call.id)
    assert event.actor_id == client.id and event.actor_username == "api:CAD test"


def test_cad_client_without_the_create_scope_is_refused(town):
    from clinician_app.auth.services import create_api_client

    reader, _ = create_api_client(None, "CAD reader", ["calls:read"], 30, agency_id=town.id)
    with pytest.raises(PermissionDenied):
        services.create_call(reader, new_call())


@pytest.mark.parametrize("role", ["officer", "clinician", "supervisor", "admin", "auditor"])
def test_only_dispatchers_create_calls(make_user, town, role):
    with pytest.raises(PermissionDenied):
        services.create_call(make_user(town, role), new_call())


def test_every_missing_field_is_named(dispatcher):
    with pytest.raises(ValidationError) as caught:
        services.create_call(dispatcher, services.NewCall())
    assert set(caught.value.fields) == {"incident_number", "received_at", "address", "call_type", "caller_relation", "urgency"}
    assert db.session.execute(select(func.count()).select_from(Call).where(Call.agency_id == dispatcher.agency_id)).scalar_one() == 0


@pytest.mark.parametrize("overrides, field, message", [
    ({"incident_number": "25 001"}, "incident_number", "Use letters, digits"),
    ({"incident_number": "-25"}, "incident_number", "starting with a letter or digit"),
    ({"incident_number": "X" * 41}, "incident_number", "at most 40"),
    ({"received_at": datetime(2025, 1, 1, 12, 0)}, "received_at", "time zone"),
    ({"received_at": utcnow() + timedelta(hours=1)}, "received_at", "can't be in the future"),
    ({"received_at": datetime(1999, 12, 31, tzinfo=UTC)}, "received_at", "after the year 2000"),
    ({"address": "   "}, "address", "Enter the address"),
    ({"address": "1 Main\x00 St"}, "address", "control characters"),
    ({"address": "A" * 201}, "address", "at most 200"),
    ({"call_type": "robbery"}, "call_type", "Choose the call type"),
    ({"caller_relation": "cousin"}, "caller_relation", "Choose who called"),
    ({"indicators": ["telepathy"]}, "indicators", "from the list"),
    ({"indicators": "mental_health"}, "indicators", "from the list"),
    ({"urgency": "whenever"}, "urgency", "how soon"),
    ({"narrative": "x" * 2001}, "narrative", "at most 2000"),
    ({"caution_notes": "x" * 501}, "caution_notes", "at most 500"),
    ({"latitude": "91", "longitude": "10"}, "latitude", "from -90 to 90"),
    ({"latitude": "abc", "longitude": "10"}, "latitude", "from -90 to 90"),
    ({"latitude": "42", "longitude": "NaN"}, "longitude", "from -180 to 180"),
    ({"latitude": "42.5"}, "longitude", "both latitude and longitude"),
    ({"place_id": "p" * 37}, "place_id", "not valid"),
])
def test_bad_values_are_refused_field_by_field(dispatcher, overrides, field, message):
    with pytest.raises(ValidationError) as caught:
        services.create_call(dispatcher, new_call(**overrides))
    assert list(caught.value.fields) == [field]
    assert message in caught.value.fields[field][0]


def test_duplicate_incident_number_in_the_agency_is_refused(dispatcher, make_user, agencies):
    first = services.create_call(dispatcher, new_call(incident_number="25-7"))
    with pytest.raises(DuplicateIncidentNumber) as caught:
        services.create_call(dispatcher, new_call(incident_number=" 25-7"))
    assert caught.value.fields == {"incident_number": ["Incident number 25-7 already exists in your agency."]}
    assert caught.value.call_id == first.id
    # Incident numbers are per agency: another town may use the same one.
    other = services.create_call(make_user(agencies["B"], "dispatcher"), new_call(incident_number="25-7"))
    assert other.id != first.id
    assert services.find_call_by_incident(dispatcher.agency_id, "25-7").id == first.id
    assert services.find_call_by_incident(dispatcher.agency_id, "") is None


def test_incident_numbers_compare_without_case(dispatcher):
    services.create_call(dispatcher, new_call(incident_number="cad-9a"))
    with pytest.raises(DuplicateIncidentNumber):
        services.create_call(dispatcher, new_call(incident_number="CAD-9A"))


# --- read and scope -------------------------------------------------------------------

def test_get_call_is_scoped_to_the_agency(dispatcher, make_user, agencies):
    own = make_call(dispatcher.agency_id)
    foreign = make_call(agencies["B"].id)
    assert services.get_call(dispatcher, own.id) is own
    with pytest.raises(NotFound):
        services.get_call(dispatcher, foreign.id)
    with pytest.raises(NotFound):
        services.get_call(dispatcher, str(uuid.uuid4()))
    with pytest.raises(PermissionDenied):
        services.get_call(make_user(agencies["A"], "admin"), own.id)


def test_narrative_is_read_by_clinicians_only_and_each_read_is_audited(make_user, town):
    call = make_call(town.id, narrative=NARRATIVE)
    for role in ("dispatcher", "officer"):
        with pytest.raises(PermissionDenied):
            services.get_call_narrative(make_user(town, role), call)
    assert _events("call.narrative_read", call.id) == []
    clinician = make_user(town, "clinician")
    assert services.get_call_narrative(clinician, call) == NARRATIVE
    assert services.get_call_narrative(make_user(town, "supervisor"), call) == NARRATIVE
    db.session.commit()  # audited reads are written as the transaction commits
    events = _events("call.narrative_read", call.id)
    assert [e.actor_id for e in events][0] == clinician.id and len(events) == 2
    assert all(e.details is None for e in events)  # no content in the trail


def test_narrative_of_another_agency_is_not_found(make_user, agencies):
    call = make_call(agencies["B"].id, narrative=NARRATIVE)
    with pytest.raises(NotFound):
        services.get_call_narrative(make_user(agencies["A"], "clinician"), call)


def test_list_is_scoped_filtered_and_paged(dispatcher, agencies):
    tz = ZoneInfo("America/New_York")
    today = utcnow().astimezone(tz).date()
    for n in range(5):
        make_call(dispatcher.agency_id, received_at=utcnow() - timedelta(days=n, minutes=5), incident_number=f"L-{n}",
                  call_type="overdose" if n % 2 else "domestic")
    make_call(dispatcher.agency_id, incident_number="L-R", co_response=False)
    make_call(agencies["B"].id, incident_number="L-B")

    everything = services.list_calls(dispatcher, CallFilter())
    assert everything.total == 6 and "L-B" not in [c.incident_number for c in everything.items]
    numbers = [c.incident_number for c in everything.items]
    assert numbers.index("L-0") < numbers.index("L-4")  # newest first

    assert {c.incident_number for c in services.list_calls(dispatcher, CallFilter(call_type="overdose")).items} == {"L-1", "L-3"}
    assert [c.incident_number for c in services.list_calls(dispatcher, CallFilter(status="recorded")).items] == ["L-R"]
    days = services.list_calls(dispatcher, CallFilter(date_from=today - timedelta(days=3), date_to=today - timedelta(days=2)))
    assert {c.incident_number for c in days.items} == {"L-2", "L-3"}
    # An unknown filter value is ignored rather than matching nothing.
    assert services.list_calls(dispatcher, CallFilter(status="nonsense")).total == 6

    first = services.list_calls(dispatcher, CallFilter(), page=1, per_page=4)
    second = services.list_calls(dispatcher, CallFilter(), page=2, per_page=4)
    assert (first.pages, first.has_next, first.has_prev, len(first.items)) == (2, True, False, 4)
    assert (second.has_next, second.has_prev, len(second.items)) == (False, True, 2)
    assert not {c.id for c in first.items} & {c.id for c in second.items}
    assert services.list_calls(dispatcher, CallFilter(), page=99, per_page=4).page == 2


def test_date_filter_uses_the_agency_day(dispatcher):
    """23:30 in Chelmsford on March 3 is already March 4 in UTC: it belongs to March 3."""
    zone = ZoneInfo("America/New_York")
    make_call(dispatcher.agency_id, incident_number="LATE", received_at=datetime(2025, 3, 3, 23, 30, tzinfo=zone))
    assert [c.incident_number for c in services.list_calls(
        dispatcher, CallFilter(date_from=date(2025, 3, 3), date_to=date(2025, 3, 3))).items] == ["LATE"]
    assert services.list_calls(dispatcher, CallFilter(date_from=date(2025, 3, 4), date_to=date(2025, 3, 4))).total == 0


# --- prior calls ------------------------------------------------------------------------

def test_prior_calls_count_the_last_90_days_at_the_same_address(dispatcher, agencies):
    now = utcnow()
    make_call(dispatcher.agency_id, address="14 Pinebrook Lane", received_at=now - timedelta(days=2))
    make_call(dispatcher.agency_id, address="14 pinebrook ln.", received_at=now - timedelta(days=89))
    make_call(dispatcher.agency_id, address="14 Pinebrook Lane", received_at=now - timedelta(days=91))
    make_call(dispatcher.agency_id, address="16 Pinebrook Lane", received_at=now - timedelta(days=1))
    make_call(agencies["B"].id, address="14 Pinebrook Lane", received_at=now - timedelta(days=1))

    prior = services.prior_calls_at(dispatcher, "14  PINEBROOK LN")
    assert prior.searched and prior.count == 2
    assert [d.date() for d in prior.dates] == [(now - timedelta(days=2)).date(), (now - timedelta(days=89)).date()]
    assert services.prior_calls_at(dispatcher, "14 Pinebrook Lane", days=30).count == 1
    assert services.prior_calls_at(dispatcher, "1 Nowhere Rd").count == 0
    assert not services.prior_calls_at(dispatcher, "1 ").searched
    with pytest.raises(PermissionDenied):
        services.prior_calls_at(cad_client_without_read(dispatcher.agency_id), "14 Pinebrook Lane")


def cad_client_without_read(agency_id):
    from clinician_app.auth.services import create_api_client

    client, _ = create_api_client(None, "CAD writer", ["calls:create"], 30, agency_id=agency_id)
    return client


def test_prior_calls_show_at_most_ten_dates_but_count_all(dispatcher):
    for n in range(12):
        make_call(dispatcher.agency_id, address="1 Busy Road", received_at=utcnow() - timedelta(days=n, hours=1))
    prior = services.prior_calls_at(dispatcher, "1 busy rd")
    assert prior.count == 12 and len(prior.dates) == 10


# --- CAD poll and home counts -----------------------------------------------------------

def test_status_changes_since_lists_what_moved(dispatcher, agencies):
    before = utcnow() - timedelta(seconds=1)
    old = make_call(dispatcher.agency_id, incident_number="P-1")
    make_call(agencies["B"].id, incident_number="P-B")
    assert [c.incident_number for c in services.status_changes_since(dispatcher.agency_id, before)] == ["P-1"]
    mark = old.updated_at
    assert services.status_changes_since(dispatcher.agency_id, mark) == []

    old.status, old.triaged_at = "triaged", utcnow()
    db.session.flush()
    assert old.updated_at > mark
    assert [c.id for c in services.status_changes_since(dispatcher.agency_id, mark)] == [old.id]
    assert len(services.status_changes_since(dispatcher.agency_id, None, limit=1)) == 1


def test_call_counts_for_the_home_page(dispatcher):
    assert services.call_counts(dispatcher) == services.CallCounts(0, 0, 0)
    make_call(dispatcher.agency_id)
    make_call(dispatcher.agency_id, co_response=False, received_at=utcnow() - timedelta(days=10))
    assert services.call_counts(dispatcher) == services.CallCounts(last_7_days=1, awaiting_triage=1, total=2)


# --- a race on one incident number (PostgreSQL) -------------------------------------

@pytest.mark.postgres_only
@pytest.mark.no_transaction
def test_two_inserts_of_one_incident_number_at_once_leave_one_call(app):
    """A's insert is in flight (uncommitted) when B checks, so B's check finds
    nothing; B's insert then waits on the unique index and fails when A
    commits. B must get the same clear duplicate error, naming A's call."""
    from clinician_app.agencies.models import Agency

    with app.app_context():
        agency = Agency(name=f"Race {uuid.uuid4().hex[:8]}", code=f"R{uuid.uuid4().hex[:8].upper()}", timezone="America/New_York")
        db.session.add(agency)
        db.session.flush()
        clients = [cad_client(agency.id).id, cad_client(agency.id).id]
        agency_id = agency.id
        db.session.commit()
        db.session.remove()

    a_inserted, b_started = threading.Event(), threading.Event()
    outcome: dict = {}

    def first():
        with app.app_context():
            from clinician_app.auth.models import ApiClient

            try:
                call = services.create_call(db.session.get(ApiClient, clients[0]), new_call(incident_number="RACE-1"))
                outcome["a"] = call.id
                a_inserted.set()
                b_started.wait(timeout=10)
                threading.Event().wait(0.5)  # let B reach its insert and block on A's row
                db.session.commit()
            except BaseException as exc:  # noqa: BLE001  (reported below)
                outcome["a_error"] = exc
                a_inserted.set()
            finally:
                db.session.remove()

    def second():
        with app.app_context():
            from clinician_app.auth.models import ApiClient

            a_inserted.wait(timeout=10)
            client = db.session.get(ApiClient, clients[1])
            b_started.set()
            try:
                services.create_call(client, new_call(incident_number="RACE-1"))
                db.session.commit()
                outcome["b"] = "created"
            except DuplicateIncidentNumber as exc:
                outcome["b"] = exc
            except BaseException as exc:  # noqa: BLE001
                outcome["b_error"] = exc
            finally:
                db.session.rollback()
                db.session.remove()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        with app.app_context():
            count = db.session.execute(select(func.count()).select_from(Call).where(Call.agency_id == agency_id)).scalar_one()
            db.session.remove()
    finally:
        _remove_committed(app, agency_id, clients)
    assert "a_error" not in outcome and "b_error" not in outcome, outcome
    assert isinstance(outcome["b"], DuplicateIncidentNumber)
    assert outcome["b"].call_id == outcome["a"]
    assert count == 1


def _remove_committed(app, agency_id: str, client_ids: list[str]) -> None:
    """What a test without the rolled-back transaction committed: later tests count calls."""
    from clinician_app.agencies.models import Agency
    from clinician_app.auth.models import ApiClient

    with app.app_context():
        db.session.execute(delete(Call).where(Call.agency_id == agency_id))
        db.session.execute(delete(ApiClient).where(ApiClient.id.in_(client_ids)))
        db.session.execute(delete(Agency).where(Agency.id == agency_id))
        db.session.commit()
        db.session.remove()
