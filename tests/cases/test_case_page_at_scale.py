"""The case page (and the person lookup) cost the same number of SQL statements
whatever the size of the record, and the case page shows a bounded timeline with
a way to the rest (bench/run.py measures the time; these tests pin the shape)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from clinician_app.cases import case_services
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.cases.case_factories import linked_calls
from tests.cases.note_factories import make_case, make_note
from tests.people.factories import make_person


@pytest.fixture()
def clinician(make_user, agencies):
    return make_user(agencies["A"], "clinician")


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


def _statements_for(client, path, method="get", **kwargs) -> tuple[int, str]:
    counter = Statements()
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        response = getattr(client, method)(path, **kwargs)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    assert response.status_code == 200
    return counter.count, response.get_data(as_text=True)


def _case_with(clinician, calls: int, notes: int, addenda: int = 0):
    case = make_case(clinician.agency_id, assignee=clinician)
    from clinician_app.people.models import Person

    person = db.session.get(Person, case.person_id)
    for call in linked_calls(person, [d + 0.5 for d in range(calls)], caution_weapon=True):
        call.case_id = case.id
    written = [make_note(case, clinician) for _ in range(notes)]
    for note in written[:addenda]:
        make_note(case, clinician, addendum_to=note)
    db.session.flush()
    return case


def test_case_page_statements_do_not_grow_with_the_case(clinician, login_as, client):
    small = _case_with(clinician, calls=1, notes=1)
    large = _case_with(clinician, calls=12, notes=25, addenda=5)
    login_as(clinician)
    client.get(f"/cases/{small.id}")  # warm: templates compiled, nothing first-time left
    few, _ = _statements_for(client, f"/cases/{small.id}")
    many, page = _statements_for(client, f"/cases/{large.id}")
    assert few == many
    assert page.count('data-kind="note"') == 25 and page.count('data-kind="call"') == 12
    assert "5 addenda" not in page and page.count("1 addendum") == 5


def test_case_page_shows_the_newest_entries_and_says_there_are_more(clinician, login_as, client, monkeypatch):
    monkeypatch.setattr(case_services, "TIMELINE_LIMIT", 6)
    monkeypatch.setattr(case_services, "CAUTIONS_LIMIT", 3)
    case = _case_with(clinician, calls=5, notes=4)
    from clinician_app.cases.note_models import CaseNote
    from tests.cases.note_factories import sentinel

    newest = CaseNote(case_id=case.id, agency_id=case.agency_id, kind="contact", author_id=clinician.id,
                      created_at=utcnow() + timedelta(minutes=5))  # notes are append-only: dated as written
    newest.body = sentinel()
    db.session.add(newest)
    db.session.flush()
    login_as(clinician)
    _count, page = _statements_for(client, f"/cases/{case.id}")
    timeline = page.split('data-section="timeline"')[1]
    assert len(re.findall(r'class="app-timeline__item ', timeline)) == 6
    assert f"/cases/notes/{newest.id}" in timeline.split("app-timeline__item ")[1]  # the newest comes first
    assert "data-timeline-more" in timeline and f"/cases/{case.id}/notes" in timeline
    cautions = page.split('data-section="cautions"')[1].split("</section>")[0]
    assert cautions.count("data-caution-call=") == 3 and "data-cautions-more" in cautions


@pytest.mark.parametrize("limit", [1, 4, 7, 11, 30])
def test_the_newest_entries_are_those_of_every_source_merged(app, clinician, make_user, agencies, limit):
    """Asking only the entries from the moment the newest begin gives the same as
    reading every source in full and merging, whoever looks."""
    from clinician_app.cases import timeline
    from clinician_app.cases.note_models import CaseNote
    from tests.cases.note_factories import sentinel

    case = _case_with(clinician, calls=6, notes=0)
    for days in (0.2, 1.7, 2.9, 4.1, 6.3, 9.0):  # between and after the calls (0.5, 1.5, ... days ago)
        note = CaseNote(case_id=case.id, agency_id=case.agency_id, kind="contact", author_id=clinician.id,
                        created_at=utcnow() - timedelta(days=days))
        note.body = sentinel()
        db.session.add(note)
    db.session.flush()
    with app.test_request_context():
        for actor in (clinician, make_user(agencies["A"], "supervisor"), make_user(agencies["A"], "dispatcher")):
            everything = timeline.items_for(case, actor)
            shown, more = timeline.recent_items(case, actor, limit)
            assert [(i.at, i.kind, i.title) for i in shown] == [(i.at, i.kind, i.title) for i in everything[:limit]]
            assert more == (len(everything) > limit)


def test_a_small_case_page_says_nothing_about_more(clinician, login_as, client):
    case = _case_with(clinician, calls=2, notes=2)
    login_as(clinician)
    _count, page = _statements_for(client, f"/cases/{case.id}")
    assert "data-timeline-more" not in page and "data-cautions-more" not in page


def test_notes_list_counts_addenda_in_the_same_query(clinician, login_as, client):
    case = _case_with(clinician, calls=0, notes=3)
    first = make_note(case, clinician)
    for _ in range(3):
        make_note(case, clinician, addendum_to=first)
    from clinician_app.cases.notes import list_notes

    rows = list_notes(clinician, case)
    assert len(rows) == 4 and {r.addenda for r in rows} == {0, 3}
    assert [r.note.id for r in list_notes(clinician, case, limit=2)] == [r.note.id for r in rows[:2]]


def test_person_lookup_statements_do_not_grow_with_the_matches(clinician, login_as, client, csrf):
    from datetime import date

    born = date(1980, 5, 17)
    make_person(clinician.agency_id, "Orlaith", "Vantongeren", born)
    for _ in range(2):  # two more found by an alias of that name and the same date of birth
        make_person(clinician.agency_id, born=born, aliases=["Orlaith Vantongeren"])
    login_as(clinician)
    token = csrf(client.get("/people/"))

    def lookup(first):
        return _statements_for(client, "/people/", method="post", data={
            "csrf_token": token, "first_name": first, "last_name": "Vantongeren", "date_of_birth": born.isoformat()})

    lookup("Nobody")  # warm
    none, _ = lookup("Nobody")
    three, page = lookup("Orlaith")
    assert page.count("data-person-id=") == 3 or page.count("/people/") >= 3 + 2
    # Each person shown is an audited read (one event each, as every read of a
    # person is), written with the lookup's own event in one batch: the same
    # statements for three matches as for none.
    assert three == none
    from clinician_app.core.audit import AuditEvent

    events = db.session.execute(select(AuditEvent.action, AuditEvent.record_id).where(
        AuditEvent.actor_id == clinician.id).order_by(AuditEvent.seq.desc()).limit(4)).all()
    assert [e.action for e in events] == ["person.read"] * 3 + ["person.lookup"]
    assert len({e.record_id for e in events[:3]}) == 3
