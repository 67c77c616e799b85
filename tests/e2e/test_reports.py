"""Reports in a real browser: the demo supervisor opens last month's report (the
default), sees the three charts with their titles, downloads a table as CSV and the
PDF, and opens the printable page; the engagement role sees no co-response figures."""
from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from .support import SCREENSHOT_DIR, review, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]


def test_supervisor_opens_last_months_report_and_downloads_csv_and_pdf(live_server, page):
    sign_in(page, live_server.user("supervisor.chelmsford"))
    page.get_by_role("link", name="Reports", exact=True).first.click()
    page.wait_for_url("**/reports/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Chelmsford Police Department")
    charts = page.locator("svg.app-chart__svg")
    expect(charts).to_have_count(3)
    for title in ("Calls flagged and co-responses by month", "Encounters by disposition",
                  "Minutes from flag to first contact by month"):
        expect(page.locator("svg.app-chart__svg title", has_text=title)).to_have_count(1)
        expect(page.get_by_role("img", name=title)).to_be_visible()
    headline = page.locator("[data-table=headline]")
    expect(headline).to_contain_text("Calls flagged for co-response")
    review(page, "reports-supervisor")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download “Headline figures” as CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith("-headline.csv")
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert rows[0] == ["Figure", "Value"]
    assert "Calls flagged for co-response" in {row[0] for row in rows}

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf_path = SCREENSHOT_DIR / "reports-supervisor.pdf"
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    download.save_as(pdf_path)
    text = " ".join(page_.extract_text() for page_ in PdfReader(pdf_path).pages)
    assert "Chelmsford Police Department" in text and "Generated" in text
    assert "Calls flagged for co-response" in text

    page.get_by_role("link", name="Printable version").click()
    page.wait_for_url("**/reports/print**")
    expect(page.locator("svg.app-chart__svg")).to_have_count(3)
    review(page, "reports-printable")
    page.emulate_media(media="print")
    review(page, "reports-printable-print-media")


def test_bhu_supervisor_compares_towns_and_engagement_sees_only_engagement(live_server, page):
    sign_in(page, live_server.user("supervisor.bhu"))
    page.goto("/reports/")
    expect(page.get_by_label("Town", exact=True)).to_be_visible()
    expect(page.locator("[data-table=towns]")).to_contain_text("Westford Police Department")
    review(page, "reports-bhu")
    page.get_by_label("Town", exact=True).select_option(label="Westford Police Department")
    page.get_by_role("button", name="Show the report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Westford Police Department")
    page.context.clear_cookies()

    sign_in(page, live_server.user("engagement.chelmsford"))
    page.goto("/reports/")
    expect(page.get_by_role("heading", name="Community engagement")).to_be_visible()
    expect(page.locator("svg.app-chart__svg")).to_have_count(0)
    expect(page.get_by_text("Calls flagged")).to_have_count(0)
    review(page, "reports-engagement")
