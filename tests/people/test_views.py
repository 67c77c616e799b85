"""Person pages through the test client: search, add with the duplicate offer,
the person page, edit, merge and undo; bad input; access by role and agency;
no identifying field in logs or URLs."""
from __future__ import annotations

import html
import logging
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from clinician_app.core.audit import AuditEvent
from clinician_app.extensions import db
from clinician_app.people import links
from clinician_app.people.models import Person, PersonMerge
from tests.people.factories import make_merge, make_person

FORM = {"first_name": "Ottoline", "last_name": "Brackenridge", "date_of_birth": "1974-02-09",
        "aliases": "Lina Brackenridge\nOtti B", "phone": "978-555-0166", "address": "8 Stedman Street\nChelmsford MA",
        "identifying_notes": "Silver glasses, walks a grey terrier.", "sex": "female", "race": "white",
        "ethnicity": "not_hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}
IDENTIFYING = ["Ottoline", "Brackenridge", "1974-02-09", "02/09/1974", "978-555-0166", "9785550166", "Stedman",
               "Silver glasses", "grey terrier", "Otti B"]


def _html(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _post(client, csrf, url, data, page=None):
    token = csrf(client.get(page or url))
    return client.post(url, data={"csrf_token": token, **data})


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _reads(person_id) -> int:
    return db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "person.read", AuditEvent.record_id == person_id)).scalar_one()


def _value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', page)
    return match.group(1) if match else None


def _textarea(page: str, name: str) -> str | None:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>\s*(.*?)</textarea>', page, re.S)
    return match.group(1) if match else None


@pytest.fixture()
def clinician(agencies, make_user, login_as, client):
    user = make_user(agencies["A"], "clinician")
    login_as(user)
    return user


@pytest.fixture()
def supervisor(agencies, make_user, login_as, client):
    user = make_user(agencies["A"], "supervisor")
    login_as(user)
    return user


# --- search -----------------------------------------------------------------------------------

def test_search_finds_by_exact_name_and_date_regardless_of_case_and_spaces(clinician, client, csrf, agencies):
    person = make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 2, 9))
    page = client.get("/people/")
    assert page.status_code == 200 and "Find a person" in _html(page)
    response = _post(client, csrf, "/people/", {"first_name": "  ottoline ", "last_name": "BRACKENRIDGE ",
                                                "date_of_birth": "1974-02-09"})
    assert response.status_code == 200
    body = _html(response)
    assert f'data-person-id="{person.id}"' in body and "Ottoline Brackenridge" in body
    assert response.request.path == "/people/"  # the name went in the body, not the URL


def test_search_by_partial_name_finds_nothing_and_offers_to_add(clinician, client, csrf, agencies):
    make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 2, 9))
    response = _post(client, csrf, "/people/", {"first_name": "Otto", "last_name": "Brackenridge", "date_of_birth": "1974-02-09"})
    body = _html(response)
    assert response.status_code == 200 and "No exact match" in body and "data-person-id" not in body
    assert 'name="prefill" value="1"' in body
    # The offer carries the typed values to the add form by POST.
    prefilled = client.post("/people/new", data={"csrf_token": csrf(response), "prefill": "1", "first_name": "Otto",
                                                  "last_name": "Brackenridge", "date_of_birth": "1974-02-09"})
    page = _html(prefilled)
    assert prefilled.status_code == 200 and _value(page, "first_name") == "Otto" and _value(page, "date_of_birth") == "1974-02-09"
    assert "usa-error-message" not in page


def test_search_with_bad_input_shows_errors_and_keeps_values(clinician, client, csrf):
    response = _post(client, csrf, "/people/", {"first_name": "Ottoline", "last_name": "", "date_of_birth": "1974-13-45"})
    body = _html(response)
    assert response.status_code == 400
    assert "Enter the last name." in body and "Enter a real date" in body
    assert _value(body, "first_name") == "Ottoline" and _value(body, "date_of_birth") == "1974-13-45"


# --- add ----------------------------------------------------------------------------------------

def test_add_a_person_then_open_the_page(clinician, client, csrf):
    response = _post(client, csrf, "/people/new", FORM)
    assert response.status_code == 302
    person_id = re.fullmatch(r"/people/([0-9a-f-]{36})", response.headers["Location"]).group(1)
    person = db.session.get(Person, person_id)
    assert (person.first_name, person.date_of_birth, person.agency_id) == ("Ottoline", date(1974, 2, 9), clinician.agency_id)
    assert sorted(a.name for a in person.aliases) == ["Lina Brackenridge", "Otti B"]
    page = client.get(f"/people/{person_id}")
    body = _html(page)
    assert page.status_code == 200
    for shown in ("Ottoline Brackenridge", "1974-02-09", "978-555-0166", "Silver glasses", "Lina Brackenridge", "45-54",
                  "Not a veteran", "Housed"):
        assert shown in body, shown
    assert "Ottoline" not in body.split("<title>")[1].split("</title>")[0]  # titles reach browser history


def test_a_us_style_date_is_accepted_and_what_was_typed_comes_back(clinician, client, csrf):
    response = _post(client, csrf, "/people/new", {**FORM, "date_of_birth": "02/09/1974"})
    assert response.status_code == 302
    person = db.session.get(Person, response.headers["Location"].rsplit("/", 1)[1])
    assert person.date_of_birth == date(1974, 2, 9)
    impossible = _post(client, csrf, "/people/new", {**FORM, "date_of_birth": "02/30/1974"})
    body = _html(impossible)
    assert impossible.status_code == 400 and _value(body, "date_of_birth") == "02/30/1974"
    assert 'type="text"' in re.search(r'<input[^>]*name="date_of_birth"[^>]*>', body).group(0)


def test_each_view_of_the_person_page_is_one_audited_read(clinician, client, agencies):
    person = make_person(agencies["A"].id)
    before = _reads(person.id)
    client.get(f"/people/{person.id}")
    client.get(f"/people/{person.id}")
    assert _reads(person.id) == before + 2
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "person.read",
                                                        AuditEvent.record_id == person.id).order_by(AuditEvent.seq.desc())).scalars().first()
    assert event.actor_id == clinician.id and event.details_dict == {"view": "page"}


def test_adding_a_likely_duplicate_offers_the_existing_record_first(clinician, client, csrf, agencies):
    existing = make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 2, 9))
    count = _count(Person)
    offer = _post(client, csrf, "/people/new", {**FORM, "first_name": "OTTOLINE "})
    body = _html(offer)
    assert offer.status_code == 200 and _count(Person) == count
    assert "may already be recorded" in body and f"/people/{existing.id}" in body
    assert _value(body, "first_name") == "OTTOLINE " and 'name="confirm_new"' in body  # what was typed stays
    assert _reads(existing.id) >= 1  # showing the match is an audited read
    confirmed = client.post("/people/new", data={**FORM, "confirm_new": "y", "csrf_token": csrf(offer)})
    assert confirmed.status_code == 302 and _count(Person) == count + 1


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"date_of_birth": "1990-02-30"}, "date_of_birth", "Enter a real date"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth", "can't be in the future"),
    ({"date_of_birth": "1850-01-01"}, "date_of_birth", "after 1900"),
    ({"date_of_birth": ""}, "date_of_birth", "Enter the date of birth."),
    ({"first_name": ""}, "first_name", "Enter a first name."),
    ({"last_name": "   "}, "last_name", "Enter a last name."),
    ({"first_name": "O" * 81}, "first_name", "at most 80 characters"),
    ({"phone": "978-555-0166" * 4}, "phone", "at most 40 characters"),
    ({"phone": "ask the neighbour"}, "phone", "phone number of 7 to 15 digits"),
    ({"address": "a" * 301}, "address", "at most 300 characters"),
    ({"identifying_notes": "n" * 2001}, "identifying_notes", "at most 2000 characters"),
    ({"aliases": "x" * 161}, "aliases", "at most 160 characters"),
    ({"sex": "robot"}, "sex", "Not a valid choice"),
])
def test_bad_person_input_rerenders_with_errors_and_keeps_what_was_typed(clinician, client, csrf, changes, field, message):
    count = _count(Person)
    response = _post(client, csrf, "/people/new", {**FORM, **changes})
    body = _html(response)
    assert response.status_code == 400 and _count(Person) == count
    assert message in body
    assert f'id="{field}-error"' in body or (field == "sex" and "usa-error-message" in body)
    typed = {**FORM, **changes}
    for name in ("first_name", "last_name", "date_of_birth", "phone"):
        assert _value(body, name) == typed[name], name
    assert _textarea(body, "identifying_notes") == typed["identifying_notes"]


def test_several_errors_show_at_once(clinician, client, csrf):
    response = _post(client, csrf, "/people/new", {**FORM, "first_name": "", "last_name": "", "date_of_birth": "not a date"})
    body = _html(response)
    assert response.status_code == 400
    assert all(m in body for m in ("Enter a first name.", "Enter a last name.", "Enter a real date"))


# --- edit ---------------------------------------------------------------------------------------

def test_edit_shows_the_stored_values_and_saves_changes(clinician, client, csrf, agencies):
    person = make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 2, 9), aliases=["Otti B"])
    page = client.get(f"/people/{person.id}/edit")
    body = _html(page)
    assert page.status_code == 200 and _value(body, "first_name") == "Ottoline" and _textarea(body, "aliases") == "Otti B"
    response = client.post(f"/people/{person.id}/edit", data={**FORM, "phone": "978-555-0100", "csrf_token": csrf(page)})
    assert response.status_code == 302 and response.headers["Location"] == f"/people/{person.id}"
    db.session.expire_all()
    assert db.session.get(Person, person.id).phone == "978-555-0100"


def test_edit_with_bad_input_keeps_what_was_typed(clinician, client, csrf, agencies):
    person = make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 2, 9))
    response = _post(client, csrf, f"/people/{person.id}/edit", {**FORM, "last_name": "", "date_of_birth": "2100-01-01"})
    body = _html(response)
    assert response.status_code == 400 and "Enter a last name." in body and "can't be in the future" in body
    assert _value(body, "date_of_birth") == "2100-01-01" and _value(body, "phone") == FORM["phone"]
    db.session.expire_all()
    assert db.session.get(Person, person.id).date_of_birth == date(1974, 2, 9)


# --- merge --------------------------------------------------------------------------------------

def test_supervisor_merges_a_duplicate_and_undoes_it(supervisor, client, csrf, agencies):
    survivor = make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 2, 9))
    duplicate = make_person(agencies["A"].id, "Ottoline", "Brackenridge", date(1974, 9, 2), phone="978-555-0166")
    page = client.get(f"/people/{survivor.id}")
    assert f"/people/{survivor.id}/merge" in _html(page)
    found = _post(client, csrf, f"/people/{survivor.id}/merge", {"first_name": "ottoline", "last_name": "brackenridge",
                                                                  "date_of_birth": "1974-09-02"})
    assert found.status_code == 200
    compare_url = f"/people/{survivor.id}/merge/{duplicate.id}"
    assert compare_url in _html(found)
    compare = client.get(compare_url)
    assert compare.status_code == 200 and "1974-09-02" in _html(compare) and "978-555-0166" in _html(compare)
    missing_reason = client.post(compare_url, data={"csrf_token": csrf(compare), "reason": "", "note": "kept note"})
    assert missing_reason.status_code == 400 and "Choose why" in _html(missing_reason)
    assert "kept note" in _html(missing_reason)
    other_without_note = client.post(compare_url, data={"csrf_token": csrf(compare), "reason": "other", "note": ""})
    assert other_without_note.status_code == 400 and "Explain why" in _html(other_without_note)
    merged = client.post(compare_url, data={"csrf_token": csrf(compare), "reason": "date_of_birth_error", "note": ""})
    assert merged.status_code == 302 and merged.headers["Location"] == f"/people/{survivor.id}"
    merge = db.session.execute(select(PersonMerge).where(PersonMerge.survivor_id == survivor.id)).scalar_one()
    survivor_page = _html(client.get(f"/people/{survivor.id}"))
    assert f'data-merge-id="{merge.id}"' in survivor_page and "Undo merge" in survivor_page
    assert "978-555-0166" in survivor_page
    duplicate_page = _html(client.get(f"/people/{duplicate.id}"))
    assert "Merged into another record" in duplicate_page and f"/people/{survivor.id}" in duplicate_page
    assert client.get(f"/people/{duplicate.id}/edit").status_code == 302
    undone = _post(client, csrf, f"/people/merges/{merge.id}/undo", {}, page=f"/people/{survivor.id}")
    assert undone.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, duplicate.id).merged_into_id is None
    assert db.session.get(Person, survivor.id).phone is None
    assert _post(client, csrf, f"/people/merges/{merge.id}/undo", {}, page=f"/people/{survivor.id}").status_code == 409


def test_merge_by_pasted_record_id(supervisor, client, csrf, agencies):
    survivor, duplicate = make_person(agencies["A"].id), make_person(agencies["A"].id)
    response = _post(client, csrf, f"/people/{survivor.id}/merge", {"record_id": f" {duplicate.id} "})
    assert response.status_code == 302 and response.headers["Location"] == f"/people/{survivor.id}/merge/{duplicate.id}"
    bad = _post(client, csrf, f"/people/{survivor.id}/merge", {"record_id": "Ottoline Brackenridge"})
    assert bad.status_code == 400 and "Enter the record ID" in _html(bad) and "Location" not in bad.headers
    empty = _post(client, csrf, f"/people/{survivor.id}/merge", {"first_name": "Ottoline"})
    assert empty.status_code == 400 and _value(_html(empty), "first_name") == "Ottoline"


def test_merging_a_record_into_itself_is_refused_on_the_page(supervisor, client, csrf, agencies):
    person = make_person(agencies["A"].id)
    url = f"/people/{person.id}/merge/{person.id}"
    response = _post(client, csrf, url, {"reason": "duplicate_entry"})
    assert response.status_code == 400 and "Choose a different record" in _html(response)


def test_each_merge_comparison_shown_is_one_audited_read_per_record(supervisor, client, csrf, agencies):
    one, two = make_person(agencies["A"].id), make_person(agencies["A"].id)
    url = f"/people/{one.id}/merge/{two.id}"
    page = client.get(url)
    before = (_reads(one.id), _reads(two.id))
    refused_by_service = client.post(url, data={"csrf_token": csrf(page), "reason": "other", "note": ""})
    assert refused_by_service.status_code == 400  # rolled back, and the page shown again
    assert (_reads(one.id), _reads(two.id)) == (before[0] + 1, before[1] + 1)
    refused_by_form = client.post(url, data={"csrf_token": csrf(page), "reason": ""})
    assert refused_by_form.status_code == 400
    assert (_reads(one.id), _reads(two.id)) == (before[0] + 2, before[1] + 2)


# --- linked records -------------------------------------------------------------------------------

def test_person_page_lists_linked_record_sections_with_empty_states(clinician, client, agencies):
    person = make_person(agencies["A"].id)
    body = _html(client.get(f"/people/{person.id}"))
    assert 'data-linked="calls"' in body and "No calls are linked to this person yet." in body
    assert 'data-linked="cases"' in body and "No cases are linked to this person yet." in body


def test_a_registered_kind_shows_its_records(clinician, client, agencies):
    person = make_person(agencies["A"].id)
    original = links._KINDS["cases"]
    links.register(links.LinkedKind("cases", "Cases", "None.", lambda actor, p: [
        links.LinkedItem("Case 2025-0042", url="/somewhere", status="Open")] if p.id == person.id else []))
    try:
        body = _html(client.get(f"/people/{person.id}"))
    finally:
        links.register(original)
    assert '<a href="/somewhere">Case 2025-0042</a>' in body and "Open" in body


# --- access -------------------------------------------------------------------------------------

READERS = {"clinician", "bhu_clinician", "supervisor"}
MERGERS = {"supervisor"}
ROLES = ["dispatcher", "officer", "clinician", "bhu_clinician", "supervisor", "liaison", "engagement", "auditor", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_people_pages_by_role_and_agency(role, agencies, make_user, login_as, client, csrf):
    home = "BHU" if role == "bhu_clinician" else "A"
    user = make_user(agencies[home], role)
    login_as(user)
    own, foreign = make_person(agencies[home].id), make_person(agencies["B"].id)
    own_merge, foreign_merge = make_merge(agencies[home].id), make_merge(agencies["B"].id)
    read = 200 if role in READERS else 403
    merge = 200 if role in MERGERS else 403
    expected = {
        "/people/": read,
        "/people/new": read,
        f"/people/{own.id}": read,
        f"/people/{foreign.id}": 404 if read == 200 else 403,
        f"/people/{own.id}/edit": read,
        f"/people/{foreign.id}/edit": 404 if read == 200 else 403,
        f"/people/{own.id}/merge": merge,
        f"/people/{foreign.id}/merge": 404 if merge == 200 else 403,
        f"/people/{own.id}/merge/{own_merge.survivor_id}": merge,
        f"/people/{own.id}/merge/{foreign.id}": 404 if merge == 200 else 403,
    }
    for url, status in expected.items():
        assert client.get(url).status_code == status, (role, url)
    token = csrf(client.get("/auth/account"))
    undo_foreign = client.post(f"/people/merges/{foreign_merge.id}/undo", data={"csrf_token": token})
    assert undo_foreign.status_code == (404 if role in MERGERS else 403)
    undo_own = client.post(f"/people/merges/{own_merge.id}/undo", data={"csrf_token": token})
    assert undo_own.status_code == (302 if role in MERGERS else 403)
    created = client.post("/people/new", data={**FORM, "csrf_token": token})
    assert created.status_code == (302 if role in READERS else 403)


def test_another_agencys_person_never_appears_in_search(clinician, client, csrf, agencies):
    make_person(agencies["B"].id, "Ottoline", "Brackenridge", date(1974, 2, 9))
    response = _post(client, csrf, "/people/", {"first_name": "Ottoline", "last_name": "Brackenridge", "date_of_birth": "1974-02-09"})
    assert "No exact match" in _html(response) and "data-person-id" not in _html(response)


def test_navigation_shows_people_to_readers_only(agencies, make_user, login_as, client, app):
    login_as(make_user(agencies["A"], "clinician"))
    assert 'href="/people/"' in _html(client.get("/"))
    other = app.test_client()
    login_as(make_user(agencies["A"], "dispatcher"), other)
    assert 'href="/people/"' not in _html(other.get("/"))


# --- no identifying fields in logs or URLs ---------------------------------------------------------

def test_creating_and_reading_persons_logs_no_identifying_field(clinician, client, csrf, caplog):
    caplog.set_level(logging.DEBUG)
    urls = []

    def visit(response):
        urls.append(response.request.url)
        urls.append(response.headers.get("Location", ""))
        return response

    add_page = visit(client.get("/people/new"))
    created = visit(client.post("/people/new", data={**FORM, "csrf_token": csrf(add_page)}))
    person_url = created.headers["Location"]
    visit(client.get(person_url))
    visit(client.get(f"{person_url}/edit"))
    visit(_post(client, csrf, "/people/", {"first_name": FORM["first_name"], "last_name": FORM["last_name"],
                                           "date_of_birth": FORM["date_of_birth"]}))
    visit(_post(client, csrf, "/people/new", FORM))  # the duplicate offer
    visit(_post(client, csrf, "/people/new", {**FORM, "date_of_birth": "1974-02-31"}))  # a form error
    visit(_post(client, csrf, f"{person_url}/edit", {**FORM, "phone": "978-555-0167"}, page=f"{person_url}/edit"))
    visit(client.get(person_url))
    logged = caplog.text + "\n".join(str(vars(r)) for r in caplog.records)
    assert "request" in logged and person_url.rsplit("/", 1)[1] in logged  # the request log ran and names ids
    seen = "\n".join(urls)
    for value in [*IDENTIFYING, "978-555-0167", "1974-02-31"]:
        assert value not in logged, value
        assert value not in seen, value
