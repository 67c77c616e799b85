"""Person services: encryption at rest, exact-match lookup through the blind
index, the duplicate check, audited reads, edits, and reversible merges."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from clinician_app.core.audit import AuditEvent
from clinician_app.core.crypto import DecryptionError
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.extensions import db
from clinician_app.people import links
from clinician_app.people import services as people
from clinician_app.people.codes import age_band
from clinician_app.people.models import NAME_DOB_BITS, Person, PersonAlias, PersonMerge, full_name_key, match_key
from clinician_app.people.services import PersonData
from tests.people.factories import make_person

BORN = date(1961, 4, 17)


def _data(**overrides) -> PersonData:
    values = dict(first_name="Marisol", last_name="Quintanilla", date_of_birth=BORN, aliases=["Mari Quintana"],
                  phone="978-555-0177", address="3 Larkspur Way, Chelmsford MA", identifying_notes="Green coat.",
                  sex="female", race="white", ethnicity="hispanic", veteran_status="not_veteran", housing_status="housed")
    values.update(overrides)
    return PersonData(**values)


def _events(action, record_id=None):
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if record_id is not None:
        stmt = stmt.where(AuditEvent.record_id == record_id)
    return list(db.session.execute(stmt.order_by(AuditEvent.seq)).scalars())


@pytest.fixture()
def clinician(agencies, make_user):
    return make_user(agencies["A"], "clinician")


@pytest.fixture()
def supervisor(agencies, make_user):
    return make_user(agencies["A"], "supervisor")


# --- storage ----------------------------------------------------------------------------

def test_created_person_is_encrypted_at_rest_and_reads_back(clinician):
    person = people.create_person(clinician, _data())
    db.session.expire_all()
    stored = db.session.get(Person, person.id)
    assert (stored.first_name, stored.last_name, stored.date_of_birth) == ("Marisol", "Quintanilla", BORN)
    assert (stored.phone, stored.address, stored.identifying_notes) == ("978-555-0177", "3 Larkspur Way, Chelmsford MA", "Green coat.")
    assert [a.name for a in stored.aliases] == ["Mari Quintana"]
    assert (stored.sex, stored.housing_status, stored.agency_id) == ("female", "housed", clinician.agency_id)
    raw = db.session.execute(text("SELECT * FROM persons WHERE id = :id"), {"id": person.id}).mappings().one()
    blob = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in raw.values())
    for plain in ("Marisol", "Quintanilla", "1961-04-17", "978-555-0177", "Larkspur", "Green coat"):
        assert plain.encode() not in blob
    assert raw["name_dob_bidx"].startswith("i1:") and len(raw["name_dob_bidx"]) == 3 + 3  # 12 bits: 3 hex digits
    alias_raw = db.session.execute(text("SELECT name_enc FROM person_aliases WHERE person_id = :id"), {"id": person.id}).scalar_one()
    assert b"Quintana" not in bytes(alias_raw)
    event, = _events("person.create", person.id)
    assert event.actor_id == clinician.id and "Marisol" not in (event.details or "")


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(clinician):
    one = people.create_person(clinician, _data())
    two = people.create_person(clinician, _data(first_name="Other", last_name="Person", aliases=[]))
    one_token = db.session.execute(text("SELECT first_name_enc FROM persons WHERE id = :id"), {"id": one.id}).scalar_one()
    db.session.execute(text("UPDATE persons SET first_name_enc = :t WHERE id = :id"), {"t": one_token, "id": two.id})
    db.session.expire_all()
    with pytest.raises(DecryptionError):
        _ = db.session.get(Person, two.id).first_name


# --- lookup ---------------------------------------------------------------------------------

def test_lookup_ignores_case_and_surrounding_spaces(clinician):
    person = people.create_person(clinician, _data())
    for first, last in [("Marisol", "Quintanilla"), ("  mARISOL ", " quintanilla  "), ("MARISOL", "QUINTANILLA\t")]:
        found = people.find_matches(clinician, first, last, BORN)
        assert [(m.person.id, m.via) for m in found] == [(person.id, "name")], (first, last)


def test_lookup_does_not_find_a_partial_name_or_another_date(clinician):
    people.create_person(clinician, _data())
    for first, last, born in [("Mari", "Quintanilla", BORN), ("Marisol", "Quintan", BORN), ("Marisol", "", BORN),
                              ("Marisol", "Quintanillas", BORN), ("Marisol", "Quintanilla", BORN + timedelta(days=1)),
                              ("Marisol Quintanilla", "", None)]:
        assert people.find_matches(clinician, first, last, born) == [], (first, last, born)


def test_lookup_finds_by_alias(clinician):
    person = people.create_person(clinician, _data())
    found = people.find_matches(clinician, " mari ", "QUINTANA", BORN)
    assert [(m.person.id, m.via) for m in found] == [(person.id, "alias")]
    assert people.find_matches(clinician, "Mari", "Quintana", date(1961, 4, 18)) == []


def test_lookup_is_scoped_to_the_agency(clinician, agencies, make_user):
    people.create_person(clinician, _data())
    other_town = make_user(agencies["B"], "clinician")
    assert people.find_matches(other_town, "Marisol", "Quintanilla", BORN) == []


def test_lookup_needs_the_read_permission(clinician, agencies, make_user):
    people.create_person(clinician, _data())
    for role in ("dispatcher", "officer", "admin", "auditor", "liaison", "engagement"):
        with pytest.raises(PermissionDenied):
            people.find_matches(make_user(agencies["A"], role), "Marisol", "Quintanilla", BORN)


def test_index_collisions_are_resolved_by_comparing_the_decrypted_candidates(clinician):
    """A 12-bit index is shared by unrelated people by design: make a second person
    whose index value equals the first's, and each lookup still finds only its own."""
    person = people.create_person(clinician, _data(aliases=[]))
    target = person.name_dob_bidx
    collider_name = next(
        n for n in (f"Zed{i}" for i in itertools.count())
        if Person.name_dob_index.candidates(match_key(full_name_key(n, "Quintanilla"), BORN))[0] == target)
    collider = people.create_person(clinician, _data(first_name=collider_name, aliases=[]))
    assert collider.name_dob_bidx == target  # the same index value, two people
    assert [m.person.id for m in people.find_matches(clinician, "Marisol", "Quintanilla", BORN)] == [person.id]
    assert [m.person.id for m in people.find_matches(clinician, collider_name, "Quintanilla", BORN)] == [collider.id]
    assert NAME_DOB_BITS == 12


def test_lookup_audits_the_search_and_each_person_shown(clinician):
    person = people.create_person(clinician, _data())
    before = len(_events("person.read", person.id))
    people.find_matches(clinician, "Marisol", "Quintanilla", BORN)
    db.session.commit()  # audited reads are written as the transaction commits
    reads = _events("person.read", person.id)
    assert len(reads) == before + 1 and reads[-1].actor_id == clinician.id
    lookup = _events("person.lookup")[-1]
    assert lookup.details_dict == {"results": 1, "view": "lookup"} and "Marisol" not in lookup.details


# --- create and the duplicate check -----------------------------------------------------------

def test_create_refuses_a_likely_duplicate_unless_confirmed(clinician):
    first = people.create_person(clinician, _data())
    with pytest.raises(people.PossibleDuplicate) as caught:
        people.create_person(clinician, _data(first_name=" marisol ", aliases=[]))
    assert [m.person.id for m in caught.value.matches] == [first.id]
    assert "Marisol" not in str(caught.value)
    count = db.session.execute(select(func.count()).select_from(Person)).scalar_one()
    second = people.create_person(clinician, _data(aliases=[]), allow_duplicate=True)
    assert db.session.execute(select(func.count()).select_from(Person)).scalar_one() == count + 1
    assert _events("person.create", second.id)[0].details_dict["confirmed_distinct_from"] == [first.id]


def test_create_matches_an_alias_of_an_existing_person(clinician):
    first = people.create_person(clinician, _data())
    with pytest.raises(people.PossibleDuplicate) as caught:
        people.create_person(clinician, _data(first_name="Mari", last_name="Quintana", aliases=[]))
    assert [(m.person.id, m.via) for m in caught.value.matches] == [(first.id, "alias")]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"first_name": "  "}, "first_name"),
    ({"last_name": ""}, "last_name"),
    ({"first_name": "x" * 81}, "first_name"),
    ({"date_of_birth": None}, "date_of_birth"),
    ({"date_of_birth": date.today() + timedelta(days=2)}, "date_of_birth"),
    ({"date_of_birth": date(1899, 12, 31)}, "date_of_birth"),
    ({"phone": "call me"}, "phone"),
    ({"phone": "12"}, "phone"),
    ({"phone": "9" * 41}, "phone"),
    ({"address": "a" * 301}, "address"),
    ({"identifying_notes": "n" * 2001}, "identifying_notes"),
    ({"aliases": ["a" * 161]}, "aliases"),
    ({"aliases": [f"Alias {i}" for i in range(21)]}, "aliases"),
    ({"first_name": "Ma\x00risol"}, "first_name"),
    ({"sex": "robot"}, "sex"),
    ({"housing_status": "castle"}, "housing_status"),
])
def test_create_rejects_bad_input_field_by_field(clinician, overrides, field):
    count = db.session.execute(select(func.count()).select_from(Person)).scalar_one()
    with pytest.raises(ValidationError) as caught:
        people.create_person(clinician, _data(**overrides))
    assert list(caught.value.fields) == [field]
    assert db.session.execute(select(func.count()).select_from(Person)).scalar_one() == count


def test_create_cleans_values(clinician):
    person = people.create_person(clinician, _data(first_name="  Marisol ", aliases=["  Mari   Quintana ", "mari quintana",
                                                                                    "Marisol Quintanilla", ""],
                                                   phone="(978) 555-0177 ext 12"))
    assert person.first_name == "Marisol"
    assert [a.name for a in person.aliases] == ["Mari Quintana"]  # repeats and the own name dropped
    assert person.phone == "(978) 555-0177 ext 12"


def test_writing_needs_the_write_permission(agencies, make_user):
    for role in ("dispatcher", "officer", "admin", "auditor"):
        with pytest.raises(PermissionDenied):
            people.create_person(make_user(agencies["A"], role), _data())


def test_ensure_person_is_idempotent(agencies):
    one, created = people.ensure_person(agencies["A"].id, _data())
    again, created_again = people.ensure_person(agencies["A"].id, _data(first_name="MARISOL"))
    assert created and not created_again and again.id == one.id
    elsewhere, created_elsewhere = people.ensure_person(agencies["B"].id, _data())
    assert created_elsewhere and elsewhere.id != one.id


# --- reads ------------------------------------------------------------------------------------

def test_get_person_is_scoped_and_audited(clinician, agencies, make_user):
    person = people.create_person(clinician, _data())
    assert people.get_person(clinician, person.id).id == person.id
    db.session.commit()  # audited reads are written as the transaction commits
    event = _events("person.read", person.id)[-1]
    assert (event.actor_id, event.record_type, event.details_dict) == (clinician.id, "person", {"view": "page"})
    with pytest.raises(NotFound):
        people.get_person(make_user(agencies["B"], "supervisor"), person.id)
    with pytest.raises(PermissionDenied):
        people.get_person(make_user(agencies["A"], "dispatcher"), person.id)


# --- update -----------------------------------------------------------------------------------

def test_update_changes_fields_and_keeps_alias_index_in_step(clinician):
    person = people.create_person(clinician, _data())
    new_born = date(1962, 4, 17)
    people.update_person(clinician, person.id, _data(date_of_birth=new_born, phone="", aliases=["Mari Quintana", "Sol Q"]))
    db.session.expire_all()
    stored = db.session.get(Person, person.id)
    assert stored.date_of_birth == new_born and stored.phone is None
    assert sorted(a.name for a in stored.aliases) == ["Mari Quintana", "Sol Q"]
    # The alias index follows the new date of birth.
    assert [m.person.id for m in people.find_matches(clinician, "Mari", "Quintana", new_born)] == [person.id]
    assert people.find_matches(clinician, "Mari", "Quintana", BORN) == []
    assert [m.person.id for m in people.find_matches(clinician, "Marisol", "Quintanilla", new_born)] == [person.id]
    event = _events("person.update", person.id)[-1]
    assert event.details_dict == {"fields": ["date_of_birth", "aliases", "phone"]}


def test_update_without_changes_writes_no_event(clinician):
    person = people.create_person(clinician, _data())
    people.update_person(clinician, person.id, _data(first_name=" Marisol "))
    assert _events("person.update", person.id) == []


def test_update_refuses_bad_input_and_other_agencies(clinician, agencies, make_user):
    person = people.create_person(clinician, _data())
    with pytest.raises(ValidationError):
        people.update_person(clinician, person.id, _data(last_name=""))
    with pytest.raises(NotFound):
        people.update_person(make_user(agencies["B"], "clinician"), person.id, _data())


# --- merge ------------------------------------------------------------------------------------

class _FakeCalls:
    """A linked-record kind standing in for calls: record id -> person id."""

    def __init__(self):
        self.links: dict[str, str] = {}

    def relink(self, from_id, to_id, only_ids):
        moved = [rid for rid, pid in self.links.items() if pid == from_id and (only_ids is None or rid in only_ids)]
        for rid in moved:
            self.links[rid] = to_id
        return moved


@pytest.fixture()
def fake_calls():
    fake = _FakeCalls()
    original = links._KINDS.get("calls")
    links.register(links.LinkedKind("calls", "Calls", "None.", lambda actor, person: [], relink=fake.relink))
    yield fake
    links.register(original)


def test_merge_then_unmerge_restores_both_records(supervisor, fake_calls):
    survivor = people.create_person(supervisor, _data(phone="", address="", aliases=[], race="unknown"))
    duplicate = people.create_person(supervisor, _data(first_name="Marisole", date_of_birth=date(1961, 7, 14),
                                                       aliases=["Sol Quintanilla"]))
    fake_calls.links.update({"call-1": duplicate.id, "call-2": duplicate.id, "call-3": survivor.id})

    merge = people.merge_persons(supervisor, survivor.id, duplicate.id, "date_of_birth_error", "Same ID card")
    assert duplicate.merged_into_id == survivor.id
    assert (survivor.phone, survivor.address, survivor.race) == ("978-555-0177", "3 Larkspur Way, Chelmsford MA", "white")
    assert survivor.identifying_notes == "Green coat."  # already set: kept, not overwritten
    assert sorted(a.name for a in survivor.aliases) == ["Marisole Quintanilla", "Sol Quintanilla"]
    assert fake_calls.links == {"call-1": survivor.id, "call-2": survivor.id, "call-3": survivor.id}
    assert merge.summary["filled_fields"] == ["phone", "address", "race"]
    assert merge.summary["moved"] == {"calls": ["call-1", "call-2"]}
    assert merge.note == "Same ID card"
    # The duplicate's own name and date of birth now lead to the survivor.
    found = people.find_matches(supervisor, "Marisole", "Quintanilla", date(1961, 7, 14))
    assert [(m.person.id, m.via) for m in found] == [(survivor.id, "merged record")]
    event = _events("person.merge", merge.id)[0]
    assert event.details_dict["survivor_id"] == survivor.id and event.details_dict["merged_id"] == duplicate.id
    assert "978-555-0177" not in event.details and "Same ID card" not in event.details

    people.unmerge_persons(supervisor, merge.id)
    db.session.expire_all()
    survivor, duplicate = db.session.get(Person, survivor.id), db.session.get(Person, duplicate.id)
    assert duplicate.merged_into_id is None
    assert (survivor.phone, survivor.address, survivor.race) == (None, None, "unknown")
    assert survivor.aliases == []
    assert fake_calls.links == {"call-1": duplicate.id, "call-2": duplicate.id, "call-3": survivor.id}
    assert db.session.get(PersonMerge, merge.id).undone_by_id == supervisor.id
    assert _events("person.unmerge", merge.id)[0].details_dict["cleared_fields"] == ["phone", "address", "race"]
    found = people.find_matches(supervisor, "Marisole", "Quintanilla", date(1961, 7, 14))
    assert [(m.person.id, m.via) for m in found] == [(duplicate.id, "name")]


def test_unmerge_keeps_what_was_edited_since(supervisor):
    survivor = people.create_person(supervisor, _data(phone="", aliases=[]))
    duplicate = people.create_person(supervisor, _data(first_name="Marisole", aliases=[]))
    merge = people.merge_persons(supervisor, survivor.id, duplicate.id, "duplicate_entry")
    people.update_person(supervisor, survivor.id, _data(phone="978-555-0199", aliases=["Marisole Quintanilla"]))
    people.unmerge_persons(supervisor, merge.id)
    assert survivor.phone == "978-555-0199"
    assert _events("person.unmerge", merge.id)[0].details_dict["kept_fields"] == ["phone"]


def test_merge_rules(supervisor, clinician, agencies, make_user):
    one = people.create_person(supervisor, _data())
    two = people.create_person(supervisor, _data(first_name="Other", aliases=[]))
    with pytest.raises(PermissionDenied):
        people.merge_persons(clinician, one.id, two.id, "duplicate_entry")
    with pytest.raises(ValidationError):
        people.merge_persons(supervisor, one.id, one.id, "duplicate_entry")
    with pytest.raises(ValidationError) as caught:
        people.merge_persons(supervisor, one.id, two.id, "other", "")
    assert list(caught.value.fields) == ["note"]
    with pytest.raises(ValidationError):
        people.merge_persons(supervisor, one.id, two.id, "because")
    foreign = make_person(agencies["B"].id)
    with pytest.raises(NotFound):
        people.merge_persons(supervisor, one.id, foreign.id, "duplicate_entry")
    merge = people.merge_persons(supervisor, one.id, two.id, "duplicate_entry")
    with pytest.raises(Conflict):
        people.merge_persons(supervisor, one.id, two.id, "duplicate_entry")  # already merged
    with pytest.raises(Conflict):
        people.merge_persons(supervisor, two.id, one.id, "duplicate_entry")  # merged records take no merges
    with pytest.raises(Conflict):
        people.update_person(supervisor, two.id, _data())
    with pytest.raises(PermissionDenied):
        people.unmerge_persons(clinician, merge.id)
    with pytest.raises(NotFound):
        people.unmerge_persons(make_user(agencies["B"], "supervisor"), merge.id)
    people.unmerge_persons(supervisor, merge.id)
    with pytest.raises(Conflict):
        people.unmerge_persons(supervisor, merge.id)


def test_merge_chains_resolve_to_the_last_survivor(supervisor):
    a = people.create_person(supervisor, _data(aliases=[]))
    b = people.create_person(supervisor, _data(first_name="Bea", aliases=[]))
    c = people.create_person(supervisor, _data(first_name="Cee", aliases=[]))
    people.merge_persons(supervisor, b.id, a.id, "duplicate_entry")
    people.merge_persons(supervisor, c.id, b.id, "duplicate_entry")
    assert [m.person.id for m in people.find_matches(supervisor, "Marisol", "Quintanilla", BORN)] == [c.id]
    assert people.merged_into(a).id == c.id


def test_merges_of_lists_both_sides(supervisor):
    one = people.create_person(supervisor, _data(aliases=[]))
    two = people.create_person(supervisor, _data(first_name="Other", aliases=[]))
    merge = people.merge_persons(supervisor, one.id, two.id, "duplicate_entry")
    assert [m.id for m in people.merges_of(supervisor, one)] == [merge.id]
    assert [m.id for m in people.merges_of(supervisor, two)] == [merge.id]


# --- the rest ---------------------------------------------------------------------------------

def test_age_bands():
    today = date(2025, 6, 1)
    assert age_band(date(2007, 6, 2), today) == "Under 18"
    assert age_band(date(2007, 6, 1), today) == "18-24"
    assert age_band(date(1990, 1, 1), today) == "35-44"
    assert age_band(date(1960, 6, 1), today) == "65 and over"
    assert age_band(None, today) == "Not known"


def test_linked_records_list_a_section_per_kind(clinician):
    person = people.create_person(clinician, _data())
    sections = people.linked_records(clinician, person)
    assert [(kind.key, items) for kind, items in sections][:2] == [("calls", []), ("cases", [])]


def test_alias_rows_are_removed_with_their_person(clinician):
    person = people.create_person(clinician, _data())
    db.session.delete(person)
    db.session.flush()
    assert db.session.execute(select(func.count()).select_from(PersonAlias).where(
        PersonAlias.person_id == person.id)).scalar_one() == 0
