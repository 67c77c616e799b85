"""CSV, PDF and the two extracts, produced through the pages and parsed back."""
from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader

from clinician_app.extensions import db
from clinician_app.reports import exports
from tests.reports.factories import build_fixture

MARCH = {"start": "2025-03", "end": "2025-03"}


@pytest.fixture()
def month(agencies, make_user, login_as):
    supervisor = make_user(agencies["A"], "supervisor")
    fx = build_fixture(agencies, supervisor)
    login_as(supervisor)
    return fx


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _pairs(rows):
    return {row[0]: row[1:] for row in rows[1:]}


def test_headline_csv_parses_back_with_small_counts_suppressed(client, month):
    rows = _csv(client.get("/reports/table.csv", query_string={**MARCH, "table": "headline"}))
    assert rows[0] == ["Figure", "Value"]
    figures = _pairs(rows)
    assert figures["Calls recorded"] == ["7"]
    assert figures["Calls flagged for co-response"] == ["6"]
    assert figures["Co-responses (all kinds)"] == ["5"]
    assert figures["Co-responses: on scene"] == ["<5"]  # 3
    assert figures["Median minutes from flag to first contact"] == ["45.0"]  # five values: shown
    assert figures["Follow-ups done within their window"] == ["n<5"]  # 2 of 4
    assert figures["Routing overrides"] == ["<5"]


def test_every_table_exports(client, month):
    page = client.get("/reports/", query_string=MARCH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for key in ("headline", "monthly", "coresponses", "dispositions", "diversions", "followups", "referrals",
                "routing", "oversight", "engagement", "engagement_places", "engagement_youth"):
        assert f"table={key}" in html, key
        rows = _csv(client.get("/reports/table.csv", query_string={**MARCH, "table": key}))
        assert len(rows) >= 2
    monthly = _pairs(_csv(client.get("/reports/table.csv", query_string={**MARCH, "table": "monthly"})))
    assert list(monthly)[-1] == "2025-03" and len(monthly) == 12
    assert monthly["2025-03"][0] == "6"
    assert client.get("/reports/table.csv", query_string={**MARCH, "table": "nope"}).status_code == 404


def test_the_page_shows_exact_figures_and_three_accessible_charts(client, month):
    html = client.get("/reports/", query_string=MARCH).get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="app-chart__svg" role="img"') == 3
    for chart in ("chart-trend", "chart-dispositions", "chart-contact"):
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
    assert "The numbers in this chart" in html
    assert '<td class="app-num">3</td>' in html  # on scene, exact on screen


def test_pdf_has_the_town_period_generation_time_and_headline_figures(client, month, agencies):
    response = client.get("/reports/report.pdf", query_string=MARCH)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert agencies["A"].name in text
    assert "March 2025" in text
    assert "Generated" in text
    assert "Calls flagged for co-response" in text
    for figure in ("Calls recorded 7", "Calls flagged for co-response 6", "Co-responses (all kinds) 5"):
        assert figure in " ".join(text.split()), figure
    assert "<5" in text


def test_printable_page_is_suppressed_and_standalone(client, month, agencies):
    response = client.get("/reports/print", query_string=MARCH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert agencies["A"].name in html and "March 2025" in html and "data-generated" in html
    assert "&lt;5" in html
    assert "usa-sidenav" not in html


def test_deidentified_extract_has_no_identifying_data(client, month):
    response = client.get("/reports/calls-deidentified.csv", query_string=MARCH)
    rows = _csv(response)
    body = response.get_data(as_text=True)
    for value in month.identifying:
        assert value not in body, value
    header, data = rows[0], rows[1:]
    assert len(data) == 7  # town A's March calls
    assert not any(h in header for h in ("incident_number", "address", "narrative", "name", "date_of_birth"))
    assert {row[header.index("month")] for row in data} == {"2025-03"}
    assert sorted(int(row[0]) for row in data) == list(range(1, 8))
    bands = _count_of(data, header.index("age_band"))
    assert bands["45-54"] == 1  # born 1971-04-23, 53 in March 2025
    assert bands["65 and over"] == 3  # the three calls of the person born in 1950
    repeat = {row[header.index("repeat_contact")] for row in data if row[header.index("age_band")] == "45-54"}
    assert repeat == {"yes"}
    veteran = [row for row in data if row[header.index("veteran_status")] == "veteran"]
    assert len(veteran) == 1 and veteran[0][header.index("housing_status")] == "homeless_sheltered"


def _count_of(rows, index):
    from collections import Counter

    return Counter(row[index] for row in rows)


def test_diversion_extract_follows_the_mapping_file(client, month):
    month.objects["calls"]["c2"].received_via = "911"
    db.session.flush()
    response = client.get("/reports/diversion.csv", query_string=MARCH)
    rows = _csv(response)
    body = response.get_data(as_text=True)
    for value in month.identifying:
        assert value not in body, value
    mapping = json.loads(exports.MAPPING_FILE.read_text())
    assert rows[0] == [c["header"] for c in mapping["columns"]]
    data = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(data) == 5  # encounters started in March on town A's calls
    hours = sorted(r["Date and time (hour)"] for r in data)
    assert hours[0] == "2025-03-01 00:00" and all(h.endswith(":00") for h in hours)
    assert sorted(r["How the call came in (911 or other)"] for r in data) == ["911 emergency line"] + ["Not recorded"] * 4
    trespass = next(r for r in data if "Trespass" in r["Charges considered"])
    assert trespass["Charges considered"] == "Trespass; Disorderly conduct"
    assert trespass["Charges diverted"] == "Trespass: diverted; Disorderly conduct: not diverted"
    assert trespass["Point of intervention"] == "Pre-arrest"
    assert trespass["Criminal custody diverted"] == "Yes"
    assert trespass["Disposition"] == "Arrest diverted"
    phone = next(r for r in data if r["Type of contact"] == "Phone")
    assert phone["Presenting problem"] == "Both (co-occurring)"
    assert phone["Emergency department visit prevented"] == "Yes"
    assert phone["Jail diversion an option"] == "Unknown"
    assert phone["Age range"] == "45-54" and phone["Veteran status"] == "Veteran"
    assert phone["Housing status"] == "Homeless, in a shelter"
    assert phone["Referral made"] == "Yes" and phone["How the call came in (911 or other)"] == "911 emergency line"
    assert phone["Referred to (kind of service)"] == "Transfer to another agency; Community behavioral health center"
    assert trespass["Referral made"] == "No" and trespass["Referred to (kind of service)"] == "None"


def test_the_mapping_file_decides_the_columns(client, month, monkeypatch):
    custom = {"columns": [{"header": "Hour", "field": "encounter_hour"},
                          {"header": "Diverted", "field": "custody_diverted", "values": {"yes": "Y", "no": "N",
                                                                                         "unknown": "U"}},
                          {"header": "Program site", "field": None, "value": "Site 7"}]}
    monkeypatch.setattr(exports, "diversion_mapping", lambda: custom)
    rows = _csv(client.get("/reports/diversion.csv", query_string=MARCH))
    assert rows[0] == ["Hour", "Diverted", "Program site"]
    assert sorted(r[1] for r in rows[1:]) == ["N", "N", "U", "Y", "Y"]
    assert {r[2] for r in rows[1:]} == {"Site 7"}


def test_the_shipped_mapping_names_only_known_fields():
    exports.diversion_mapping.cache_clear()
    mapping = exports.diversion_mapping()
    assert all(c.get("field") is None or c["field"] in exports.DIVERSION_FIELDS for c in mapping["columns"])
