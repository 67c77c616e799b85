"""core/csv_export.py: every CSV users download goes through safe_cell, so no
cell runs as a spreadsheet formula (CSV injection)."""
from __future__ import annotations

import csv
import io

import pytest

from clinician_app.core.csv_export import csv_response, csv_text, safe_cell


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_that_would_run_as_a_formula_gets_an_apostrophe(dangerous):
    assert safe_cell(dangerous) == "'" + dangerous


@pytest.mark.parametrize(("value", "cell"), [(None, ""), ("", ""), ("plain", "plain"), (42, "42"), (-5, "'-5"),
                                             ("a=b", "a=b"), ("2026-01-31", "2026-01-31"), ({"k": 1}, "{'k': 1}")])
def test_other_cells_are_kept_as_text(value, cell):
    assert safe_cell(value) == cell


def test_csv_text_guards_every_cell_and_uses_crlf_line_ends():
    body = csv_text([["name", "note"], ["=HYPERLINK(1)", "+1"], ["ok", 'says "hi", twice']])
    assert body == 'name,note\r\n\'=HYPERLINK(1),\'+1\r\nok,"says ""hi"", twice"\r\n'
    assert list(csv.reader(io.StringIO(body))) == [["name", "note"], ["'=HYPERLINK(1)", "'+1"],
                                                   ["ok", 'says "hi", twice']]


def test_csv_text_of_no_rows_is_empty():
    assert csv_text([]) == ""


def test_csv_response_is_an_uncached_attachment(app):
    with app.test_request_context():
        response = csv_response(iter(["a,b\r\n", "1,2\r\n"]), "export-2026-01-31.csv")
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"] == 'attachment; filename="export-2026-01-31.csv"'
        assert response.headers["Cache-Control"] == "no-store"
        assert response.get_data(as_text=True) == "a,b\r\n1,2\r\n"
