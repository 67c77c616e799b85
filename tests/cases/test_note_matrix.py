"""Who reads a note body (SECURITY.md promises 2-4), through the note page, for
every role x sensitivity x where the reader sits:

* own:      the case's agency (town A);
* assigned: the BHU, as the clinician the case is assigned to;
* bhu:      the BHU, not assigned;
* other:    another town (B), no grant;
* glass:    another town (B), with an active break-the-glass grant on the case.

Normal notes: note readers of the owning agency, the assigned clinician and grant
holders. Part 2 notes: note readers of the owning agency and the assigned
clinician only; a grant holder sees that the note exists (403, "Restricted"),
never the body. Every allowed read leaves exactly one audit event; no refused
request leaves a successful read.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.core.audit import AuditEvent
from clinician_app.core.policy import Role
from clinician_app.extensions import db
from tests.cases.note_factories import make_case, make_grant, make_note

NOTE_READERS = {"clinician", "bhu_clinician", "supervisor"}
WHERE = ("own", "assigned", "bhu", "other", "glass")


def expected_status(role: str, sensitivity: str, where: str) -> int:
    if role not in NOTE_READERS:
        return 403  # the role holds no note permission at all
    if where in ("own", "assigned"):
        return 200
    if where == "glass":
        return 200 if sensitivity == "normal" else 403
    return 404  # another agency's case, no grant: as if it did not exist


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("sensitivity", ["normal", "part2"])
@pytest.mark.parametrize("role", sorted(r.value for r in Role))
def test_reading_a_note_body(client, login_as, make_user, agencies, role, sensitivity, where):
    author = make_user(agencies["A"], "clinician")
    agency = {"own": "A", "assigned": "BHU", "bhu": "BHU", "other": "B", "glass": "B"}[where]
    reader = make_user(agencies[agency], role)
    case = make_case(agencies["A"].id, assignee=reader if where == "assigned" else author)
    note = make_note(case, author, sensitivity=sensitivity)
    if where == "glass":
        make_grant(reader, case)
    login_as(reader)

    response = client.get(f"/cases/notes/{note.id}")
    html = response.get_data(as_text=True)
    expected = expected_status(role, sensitivity, where)
    assert response.status_code == expected, (role, sensitivity, where)
    reads = db.session.execute(select(AuditEvent).where(
        AuditEvent.record_id == note.id, AuditEvent.action == "case_note.read",
        AuditEvent.outcome == "success")).scalars().all()
    if expected == 200:
        assert note.body in html
        assert len(reads) == 1 and reads[0].actor_id == reader.id
        if where == "glass":
            assert reads[0].details_dict["break_glass_grant"]
    else:
        assert note.body not in html
        assert reads == []
    if role in NOTE_READERS and where == "glass" and sensitivity == "part2":
        assert "Restricted (42 CFR Part 2)" in html  # the note's existence, not its content


@pytest.mark.parametrize("where", ["own", "glass", "other"])
def test_the_case_note_list_marks_what_the_reader_cannot_open(client, login_as, make_user, agencies, where):
    author = make_user(agencies["A"], "clinician")
    reader = make_user(agencies["A" if where == "own" else "B"], "clinician")
    case = make_case(agencies["A"].id, assignee=author)
    normal, part2 = make_note(case, author), make_note(case, author, sensitivity="part2")
    if where == "glass":
        make_grant(reader, case)
    login_as(reader)
    response = client.get(f"/cases/{case.id}/notes")
    if where == "other":
        assert response.status_code == 404
        return
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert normal.body not in html and part2.body not in html  # a list is not a read
    assert f"/cases/notes/{normal.id}" in html
    assert (f"/cases/notes/{part2.id}" in html) is (where == "own")
    assert ("Restricted (42 CFR Part 2)" in html) is (where == "glass")
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "case_note.read")).first() is None


def test_a_readable_note_with_a_part2_addendum_shows_the_placeholder_for_it(client, login_as, make_user, agencies):
    author = make_user(agencies["A"], "clinician")
    reader = make_user(agencies["B"], "supervisor")
    case = make_case(agencies["A"].id, assignee=author)
    note = make_note(case, author)
    addendum = make_note(case, author, sensitivity="part2", addendum_to=note)
    make_grant(reader, case)
    login_as(reader)
    html = client.get(f"/cases/notes/{note.id}").get_data(as_text=True)
    assert note.body in html and addendum.body not in html and "you can't read this addendum" in html
    reads = db.session.execute(select(AuditEvent.record_id).where(
        AuditEvent.action == "case_note.read", AuditEvent.outcome == "success")).scalars().all()
    assert reads == [note.id]


def test_part2_bodies_for_gives_the_persons_part2_notes_only(app_ctx, make_user, agencies):
    from clinician_app.cases.notes import part2_bodies_for

    author = make_user(agencies["A"], "clinician")
    case = make_case(agencies["A"].id, assignee=author)
    normal, part2 = make_note(case, author), make_note(case, author, sensitivity="part2")
    assert part2_bodies_for(case.person) == [part2.body]
    assert normal.body not in part2_bodies_for(case.person)
