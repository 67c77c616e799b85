"""Who may run which report for which agencies, and what the engagement role sees."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.core.audit import AuditEvent
from clinician_app.extensions import db
from tests.reports.factories import build_fixture

MARCH = {"start": "2025-03", "end": "2025-03"}
ENDPOINTS = ["/reports/", "/reports/print", "/reports/report.pdf", "/reports/table.csv",
             "/reports/calls-deidentified.csv", "/reports/diversion.csv"]


@pytest.fixture()
def month(agencies, make_user):
    return build_fixture(agencies, make_user(agencies["A"], "supervisor"))


@pytest.mark.parametrize("role", ["dispatcher", "officer", "clinician", "bhu_clinician", "liaison", "auditor", "admin"])
def test_other_roles_get_no_report(client, agencies, make_user, login_as, role):
    login_as(make_user(agencies["A"], role))
    for url in ENDPOINTS:
        assert client.get(url, query_string=MARCH).status_code == 403, url


def test_a_town_supervisor_reports_on_their_own_town_only(client, agencies, make_user, login_as, month):
    login_as(make_user(agencies["A"], "supervisor"))
    page = client.get("/reports/", query_string=MARCH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert agencies["A"].name in html and 'name="scope"' in html and "<select" not in html.split("<main")[1]
    for scope in (agencies["B"].id, agencies["BHU"].id, "all"):
        for url in ENDPOINTS:
            assert client.get(url, query_string={**MARCH, "scope": scope}).status_code == 404, (url, scope)


def test_the_bhu_supervisor_reports_on_any_town_or_all(client, agencies, make_user, login_as, month):
    login_as(make_user(agencies["BHU"], "supervisor"))
    html = client.get("/reports/", query_string=MARCH).get_data(as_text=True)
    assert "All partner towns" in html and "By town" in html
    assert f'<option value="{agencies["B"].id}">' in html
    town_b = client.get("/reports/table.csv", query_string={**MARCH, "scope": agencies["B"].id, "table": "headline"})
    assert town_b.status_code == 200
    assert "Calls flagged for co-response,<5" in town_b.get_data(as_text=True)  # two
    combined = client.get("/reports/table.csv", query_string={**MARCH, "scope": "all", "table": "headline"})
    assert "Calls flagged for co-response,8" in combined.get_data(as_text=True)
    assert client.get("/reports/", query_string={**MARCH, "scope": agencies["BHU"].id}).status_code == 404
    assert client.get("/reports/diversion.csv", query_string={**MARCH, "scope": "all"}).status_code == 200


def test_the_engagement_role_sees_the_engagement_part_only(client, agencies, make_user, login_as, month):
    login_as(make_user(agencies["A"], "engagement"))
    page = client.get("/reports/", query_string=MARCH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Community engagement" in html
    assert "Calls flagged" not in html and "app-chart__svg" not in html and "Data extracts" not in html
    assert client.get("/reports/table.csv", query_string={**MARCH, "table": "headline"}).status_code == 403
    engagement = client.get("/reports/table.csv", query_string=MARCH)
    assert engagement.status_code == 200 and engagement.get_data(as_text=True).startswith("Activity,Count")
    for url in ("/reports/calls-deidentified.csv", "/reports/diversion.csv"):
        assert client.get(url, query_string=MARCH).status_code == 403
    printable = client.get("/reports/print", query_string=MARCH).get_data(as_text=True)
    assert "Calls flagged" not in printable and "Community engagement" in printable
    assert client.get("/reports/", query_string={**MARCH, "scope": agencies["B"].id}).status_code == 404


def test_bad_months_are_explained_not_failed(client, agencies, make_user, login_as):
    login_as(make_user(agencies["A"], "supervisor"))
    page = client.get("/reports/", query_string={"start": "2025-03", "end": "2025-01"})
    assert page.status_code == 400
    assert "can&#39;t be before the first" in page.get_data(as_text=True)
    page = client.get("/reports/", query_string={"start": "March"})
    assert page.status_code == 400 and "YYYY-MM" in page.get_data(as_text=True)
    assert client.get("/reports/table.csv", query_string={"start": "2999-01"}).status_code == 422


def test_the_default_is_last_month(client, agencies, make_user, login_as):
    login_as(make_user(agencies["A"], "supervisor"))
    page = client.get("/reports/")
    assert page.status_code == 200
    assert "Reports: " in page.get_data(as_text=True)


def test_reports_and_files_are_audited_without_figures_or_names(client, agencies, make_user, login_as, month):
    supervisor = make_user(agencies["A"], "supervisor")
    login_as(supervisor)
    client.get("/reports/", query_string=MARCH)
    client.get("/reports/calls-deidentified.csv", query_string=MARCH)
    client.get("/reports/diversion.csv", query_string=MARCH)
    events = db.session.execute(select(AuditEvent).where(AuditEvent.actor_id == supervisor.id)
                                .order_by(AuditEvent.seq)).scalars().all()
    assert [e.action for e in events] == ["report.view", "report.export", "report.export"]
    assert events[1].details_dict["export"] == "calls_deidentified" and events[1].details_dict["rows"] == 7
    assert events[0].details_dict["first_month"] == "2025-03"
    dumped = " ".join(str(e.details) for e in events)
    for value in month.identifying:
        assert value not in dumped
