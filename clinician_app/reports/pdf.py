"""The report as a PDF, drawn by WeasyPrint from the printable page's HTML.

Nothing is fetched while rendering: the stylesheet is read from the package and
passed in, and the URL fetcher refuses every URL, so a report can't make the
server request anything. Charts are inline SVG.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app

STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "reports.css"


def _no_fetch(url, *args, **kwargs):
    raise ValueError("report PDFs fetch nothing")


def render_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML

    css = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=_no_fetch)
    document = HTML(string=html, base_url=current_app.root_path, url_fetcher=_no_fetch)
    return document.write_pdf(stylesheets=[css])
