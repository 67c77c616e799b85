"""Case notes: written encrypted, append-only (no edit or delete by any route, API
or, on PostgreSQL, SQL), corrected by addenda shown with the note; bad input
re-renders with what was typed."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from clinician_app.cases import notes
from clinician_app.cases.codes import CASE_CLOSED
from clinician_app.cases.note_models import SENSITIVITY_PART2, CaseNote
from clinician_app.core.audit import AuditEvent
from clinician_app.extensions import db
from tests.cases.note_factories import make_case, make_note, sentinel


@pytest.fixture()
def clinician(make_user, agencies):
    return make_user(agencies["A"], "clinician")


def _note_count():
    return db.session.execute(select(func.count()).select_from(CaseNote)).scalar_one()


def test_a_note_written_through_the_form_is_stored_encrypted_and_shown(client, login_as, csrf, clinician):
    case = make_case(clinician.agency_id, assignee=clinician)
    login_as(clinician)
    page = client.get(f"/cases/{case.id}/notes/new")
    assert page.status_code == 200
    body = sentinel("written")
    response = client.post(f"/cases/{case.id}/notes/new", data={
        "csrf_token": csrf(page), "kind": "contact", "sensitivity": "normal", "body": body})
    assert response.status_code == 302
    note = db.session.execute(select(CaseNote).where(CaseNote.case_id == case.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/cases/notes/{note.id}")
    raw = db.session.execute(text("SELECT body_enc FROM case_notes WHERE id = :i"), {"i": note.id}).scalar_one()
    assert body.encode() not in bytes(raw)
    assert (note.kind, note.sensitivity, note.author_id) == ("contact", "normal", clinician.id)
    shown = client.get(response.headers["Location"])
    assert shown.status_code == 200 and body in shown.get_data(as_text=True)
    listing = client.get(f"/cases/{case.id}/notes").get_data(as_text=True)
    assert "Contact note" in listing and body not in listing  # the list never carries bodies


@pytest.mark.parametrize("typed", ["", "   \n  "])
def test_an_empty_note_is_refused_and_the_choices_are_kept(client, login_as, csrf, clinician, typed):
    case = make_case(clinician.agency_id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/{case.id}/notes/new"))
    response = client.post(f"/cases/{case.id}/notes/new", data={
        "csrf_token": token, "kind": "collateral", "sensitivity": "part2", "body": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An empty note can&#39;t be saved." in html
    assert _checked(html, "kind", "collateral")
    assert _checked(html, "sensitivity", "part2")
    assert _note_count() == 0


def _checked(html: str, name: str, value: str) -> bool:
    import re

    return any('checked' in tag and f'value="{value}"' in tag
               for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', html))


def test_a_missing_type_and_a_too_long_note_keep_what_was_typed(client, login_as, csrf, clinician):
    case = make_case(clinician.agency_id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/{case.id}/notes/new"))
    typed = sentinel("typed") + " and more"
    response = client.post(f"/cases/{case.id}/notes/new", data={"csrf_token": token, "body": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Choose the type of note." in html and typed in html
    long = "x" * 10001
    response = client.post(f"/cases/{case.id}/notes/new", data={
        "csrf_token": token, "kind": "consult", "sensitivity": "normal", "body": long})
    assert response.status_code == 400 and "Use at most 10000 characters" in response.get_data(as_text=True)
    assert _note_count() == 0


def test_a_closed_case_takes_no_new_note_but_does_take_an_addendum(client, login_as, csrf, clinician):
    case = make_case(clinician.agency_id, status=CASE_CLOSED)
    note = make_note(case, clinician)
    login_as(clinician)
    page = client.get(f"/cases/{case.id}/notes/new")
    assert "This case is closed" in page.get_data(as_text=True)
    typed = sentinel("late")
    response = client.post(f"/cases/{case.id}/notes/new", data={
        "csrf_token": csrf(page), "kind": "follow_up", "sensitivity": "normal", "body": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "no new notes can be added" in html and "add an addendum" in html and typed in html
    assert _note_count() == 1
    correction = sentinel("correction")
    response = client.post(f"/cases/notes/{note.id}/addendum", data={"csrf_token": csrf(page), "body": correction})
    assert response.status_code == 302
    assert correction in client.get(f"/cases/notes/{note.id}").get_data(as_text=True)


def test_an_addendum_is_linked_to_its_note_and_shown_with_it(client, login_as, csrf, clinician):
    case = make_case(clinician.agency_id)
    note = make_note(case, clinician)
    login_as(clinician)
    token = csrf(client.get(f"/cases/notes/{note.id}/addendum"))
    empty = client.post(f"/cases/notes/{note.id}/addendum", data={"csrf_token": token, "body": " "})
    assert empty.status_code == 400 and "An empty note can&#39;t be saved." in empty.get_data(as_text=True)
    correction = sentinel("addendum")
    response = client.post(f"/cases/notes/{note.id}/addendum", data={"csrf_token": token, "body": correction})
    assert response.headers["Location"].endswith(f"/cases/notes/{note.id}")
    addendum = db.session.execute(select(CaseNote).where(CaseNote.addendum_to_id == note.id)).scalar_one()
    assert (addendum.case_id, addendum.kind, addendum.author_id) == (case.id, note.kind, clinician.id)
    html = client.get(f"/cases/notes/{note.id}").get_data(as_text=True)
    assert html.index(note.body) < html.index("Addendum 1") < html.index(correction)
    # Opening the addendum's own URL shows the note it belongs to, with it.
    html = client.get(f"/cases/notes/{addendum.id}").get_data(as_text=True)
    assert note.body in html and correction in html
    # The list counts it on its note rather than listing it as a note of its own.
    assert "1 addendum" in client.get(f"/cases/{case.id}/notes").get_data(as_text=True)


def test_an_addendum_to_a_part2_note_is_part2_too(app_ctx, clinician):
    case = make_case(clinician.agency_id)
    note = make_note(case, clinician, sensitivity=SENSITIVITY_PART2)
    addendum = notes.add_addendum(clinician, note.id, sentinel("fix"))
    assert addendum.sensitivity == SENSITIVITY_PART2
    plain = make_note(case, clinician)
    raised = notes.add_addendum(clinician, plain.id, sentinel("fix"), part2=True)
    assert raised.sensitivity == SENSITIVITY_PART2


def test_every_note_write_and_read_is_audited_without_its_text(app_ctx, clinician):
    case = make_case(clinician.agency_id)
    body = sentinel("audited")
    note = notes.write_note(clinician, case.id, notes.NewNote(kind="consult", sensitivity="normal", body=body))
    notes.read_note(clinician, note.id)
    db.session.commit()  # audited reads are written as the transaction commits
    events = db.session.execute(select(AuditEvent).where(AuditEvent.record_id == note.id)
                                .order_by(AuditEvent.seq)).scalars().all()
    assert [e.action for e in events] == ["case_note.created", "case_note.read"]
    assert all(body not in (e.details or "") and body not in (e.reason or "") for e in events)


# --- append-only ---------------------------------------------------------------------------------

NOTE_ARGS = {"note_id", "case_id"}


def test_no_route_offers_put_patch_or_delete_on_notes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("notes.", "break_glass.", "cases.")) or rule.arguments & NOTE_ARGS:
            assert not rule.methods & {"PUT", "PATCH", "DELETE"}, rule.rule
    note_endpoints = {r.endpoint: r.methods - {"HEAD", "OPTIONS"} for r in app.url_map.iter_rules()
                      if "note_id" in r.arguments}
    # The only routes taking a note: read it, and add a new addendum to it.
    assert note_endpoints == {"notes.detail": {"GET"}, "notes.addendum": {"GET", "POST"}}


@pytest.mark.parametrize("role", ["clinician", "bhu_clinician", "supervisor", "admin", "auditor", "dispatcher"])
def test_put_patch_delete_on_note_urls_are_405_for_every_role(client, login_as, csrf, make_user, agencies, role):
    user = make_user(agencies["A"], role)
    case = make_case(user.agency_id, assignee=user)
    note = make_note(case, user)
    login_as(user)
    token = csrf(client.get("/auth/account"))
    for url in (f"/cases/notes/{note.id}", f"/cases/notes/{note.id}/addendum", f"/cases/{case.id}/notes",
                f"/cases/{case.id}/notes/new", f"/api/notes/{note.id}", f"/api/cases/{case.id}/notes/{note.id}"):
        for method in ("PUT", "PATCH", "DELETE"):
            status = client.open(url, method=method, data={"csrf_token": token, "body": "changed"}).status_code
            assert status in (405, 404) if url.startswith("/api/") else status == 405, (role, method, url, status)


def test_posting_to_every_route_that_takes_a_note_or_case_leaves_the_note_unchanged(
        app, client, login_as, csrf, make_user, agencies):
    """Every POST route in the app that takes a note or case id, as a supervisor
    (the widest clinical role), with edit-shaped form data: the note's row stays
    byte for byte, and nothing is removed."""
    user = make_user(agencies["A"], "supervisor")
    case = make_case(user.agency_id, assignee=user)
    note = make_note(case, user)
    before = db.session.execute(text("SELECT * FROM case_notes WHERE id = :i"), {"i": note.id}).one()
    login_as(user)
    token = csrf(client.get("/auth/account"))
    posted = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or not rule.arguments or not rule.arguments <= NOTE_ARGS:
            continue
        url = rule.rule.replace("<note_id>", note.id).replace("<case_id>", case.id)
        client.post(url, data={"csrf_token": token, "body": "EDITED", "kind": "consult", "sensitivity": "part2",
                               "note_id": note.id, "id": note.id, "_method": "DELETE"})
        posted += 1
    assert posted >= 2
    db.session.expire_all()
    after = db.session.execute(text("SELECT * FROM case_notes WHERE id = :i"), {"i": note.id}).one()
    assert tuple(after) == tuple(before)
    # What a POST may do is add: a new note or an addendum, each a row of its own.
    rows = db.session.execute(select(CaseNote).where(CaseNote.case_id == case.id)).scalars().all()
    assert note.id in {r.id for r in rows}
    assert all(r.author_id == user.id and r.created_at >= note.created_at for r in rows)


def test_the_notes_service_offers_no_way_to_change_or_remove_a_note():
    public = {name for name in dir(notes) if not name.startswith("_") and callable(getattr(notes, name))}
    assert not {n for n in public if any(w in n for w in ("edit", "update", "delete", "remove", "change"))}


def _refused(statement: str, params: dict) -> bool:
    from sqlalchemy.exc import DBAPIError

    try:
        with db.session.begin_nested():
            db.session.execute(text(statement), params)
    except DBAPIError as exc:
        return "append-only" in str(exc)
    return False


@pytest.mark.postgres_only
def test_postgresql_refuses_update_and_delete_of_a_note(app_ctx, make_user, agencies):
    from clinician_app.core.crypto import RAW_VERSION
    from clinician_app.core.keyfile import current_keys

    user = make_user(agencies["A"], "clinician")
    note = make_note(make_case(user.agency_id), user)
    db.session.commit()
    ring = current_keys().ring
    same_key = ring.encrypt_raw(b"rewritten", table="case_notes", column="body", row_id=note.id)
    assert _refused("UPDATE case_notes SET kind = 'consult' WHERE id = :i", {"i": note.id})
    assert _refused("UPDATE case_notes SET body_enc = :b WHERE id = :i", {"i": note.id, "b": same_key})
    assert _refused("DELETE FROM case_notes WHERE id = :i", {"i": note.id})
    assert _refused("TRUNCATE case_notes CASCADE", {})
    # Key rotation's write, the only UPDATE let through: the same row, only the
    # token changed, and the token names another key.
    other_key = bytes((RAW_VERSION, 2)) + b"zz" + bytes(same_key)[2 + same_key[1]:]
    with db.session.begin_nested():
        db.session.execute(text("UPDATE case_notes SET body_enc = :b WHERE id = :i"), {"i": note.id, "b": other_key})
    assert not _refused("SELECT 1", {})


def test_key_rotation_still_moves_notes_to_the_new_key(app, make_user, agencies, tmp_path):
    """The append-only trigger (PostgreSQL) lets rotation's re-encryption through
    and nothing else; on both backends the note reads back under the new key."""
    from clinician_app.core import crypto, rotation
    from clinician_app.core.keyfile import load_keys, write_material

    original = app.extensions["clinician_keys"]
    path = tmp_path / "keys.json"
    write_material(path, original.to_material())
    app.extensions["clinician_keys"] = load_keys(str(path))
    try:
        with app.app_context():
            user = make_user(agencies["A"], "clinician")
            note = make_note(make_case(user.agency_id), user)
            body = note.body
            db.session.commit()
            ring = app.extensions["clinician_keys"].ring
            new_key = ring.add_data_key()
            rotation.rotate(db.session, ring, commit=db.session.commit)
            db.session.expire_all()
            stored = db.session.get(CaseNote, note.id)
            assert crypto.KeyRing.key_id_of_raw(bytes(stored.body_enc)) == new_key
            assert stored.body == body
    finally:
        app.extensions["clinician_keys"] = original
