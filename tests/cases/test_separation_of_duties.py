"""Separation of duties (SECURITY.md promise 2): with sentinel notes seeded (normal
and Part 2, an addendum, a break-the-glass reason and review comment) and read by a
clinician so the audit trail mentions them, every GET page of the app, requested
as an admin and as an auditor of the same agency, holds none of the sentinel text."""
from __future__ import annotations

import pytest

from clinician_app.cases import break_glass, notes
from clinician_app.extensions import db
from tests.cases.note_factories import make_case, make_grant, make_note, sentinel
from tests.test_authorization_matrix import RECORD_FACTORIES, _url


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_pages_never_hold_note_text(app, client, login_as, make_user, agencies, role):
    clinician = make_user(agencies["A"], "clinician")
    supervisor = make_user(agencies["A"], "supervisor")
    outsider = make_user(agencies["B"], "clinician")
    case = make_case(agencies["A"].id, assignee=clinician)
    normal = make_note(case, clinician)
    part2 = make_note(case, clinician, sensitivity="part2")
    addendum = make_note(case, clinician, addendum_to=normal)
    grant = make_grant(outsider, case)
    comment = sentinel("comment")
    for note in (normal, part2):
        notes.read_note(clinician, note.id)
    break_glass.review(supervisor, grant.id, "appropriate", comment)
    secrets_ = [normal.body, part2.body, addendum.body, grant.reason_text, comment]
    db.session.commit()

    viewer = make_user(agencies["A"], role)
    other = make_user(agencies["B"], role)
    login_as(viewer)
    seeded = {"note_id": normal.id, "case_id": case.id, "grant_id": grant.id, "person_id": case.person_id}
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        if rule.arguments <= set(seeded):
            values = seeded
        elif rule.endpoint in RECORD_FACTORIES:
            values = RECORD_FACTORIES[rule.endpoint](viewer, other)[0]
        else:
            continue
        urls = [_url(rule, values)]
        if rule.arguments == {"note_id"}:
            urls += [_url(rule, {"note_id": n.id}) for n in (part2, addendum)]
        for url in urls:
            html = client.get(url).get_data(as_text=True)
            leaked = [s for s in secrets_ if s in html]
            assert leaked == [], (role, url)
            checked += 1
    # The pages the role does open (the audit trail, its export, the admin console) were among them.
    assert checked > 20
    if role == "auditor":
        # ...and the trail does record the reads, by id: the test looked where the notes are mentioned.
        trail = client.get("/audit/?action=case_note.read").get_data(as_text=True)
        assert "case_note.read" in trail and normal.id in trail
