"""CSV files users download: every cell goes through ``safe_cell``, so a
spreadsheet never runs one as a formula (CSV injection: a typed reason or name
starting with = + - @ would otherwise be executed when the file is opened).

    body = csv_text([HEADER, *rows])
    return csv_response(body, "calls-2026-01-31.csv")

For a long export streamed in batches, ``csv_text`` each batch and yield it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response

# What a spreadsheet would take as the start of a formula (tab and CR included:
# some spreadsheets strip them and then read the rest).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The cell as text (None is empty); one that a spreadsheet would run as a
    formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(rows: Iterable[Iterable]) -> str:
    """The rows as CSV (RFC 4180 line ends), every cell through ``safe_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue()


def csv_response(body, filename: str) -> Response:
    """A download of CSV text (or an iterator of CSV text, streamed). Never cached
    (core/web.py marks every non-static response no-store as well)."""
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
