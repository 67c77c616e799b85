"""The SVG charts: every text that reaches them is escaped, and the markup parses."""
from xml.etree import ElementTree

from clinician_app.reports.charts import bar_chart, line_chart

HOSTILE = '<script>alert("x")</script> & "quotes"'
SVG = "{http://www.w3.org/2000/svg}"


def test_line_chart_escapes_its_texts_and_parses():
    svg = str(line_chart("c1", HOSTILE, HOSTILE, [HOSTILE, "Feb"], [(HOSTILE, [1, None]), ("Two", [None, 3])], HOSTILE))
    assert "<script>" not in svg
    root = ElementTree.fromstring(svg)
    assert root.find(f"{SVG}title").text == HOSTILE and root.find(f"{SVG}desc").text == HOSTILE
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count(HOSTILE) == 3  # the axis label, an x label and a legend entry
    assert root.get("aria-labelledby") == "c1-title c1-desc"


def test_bar_chart_escapes_its_texts_and_draws_one_bar_per_value():
    svg = str(bar_chart("c2", "Bars", "Two bars", [(HOSTILE, 4, "4"), ("None", None, "<5")]))
    root = ElementTree.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == [HOSTILE, "4", "None", "<5"]
    filled = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#005ea2"]
    assert len(filled) == 1 and float(filled[0].get("width")) > 0
