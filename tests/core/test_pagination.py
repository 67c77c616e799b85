"""core/pagination.py: the Page every list template's pager reads, and paginate,
which counts a select and fetches one page of it, clamping the page number."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.core.pagination import Page, clamp_page, page_count, paginate


@pytest.mark.parametrize(("total", "pages"), [(0, 1), (1, 1), (10, 1), (11, 2), (20, 2), (21, 3)])
def test_page_count_is_at_least_one(total, pages):
    assert page_count(total, 10) == pages
    assert Page(items=[], total=total, page=1, per_page=10).pages == pages


@pytest.mark.parametrize(("asked", "page"), [(-3, 1), (0, 1), (1, 1), (2, 2), (3, 3), (4, 3), (99, 3), ("2", 2)])
def test_clamp_page_keeps_the_number_between_first_and_last(asked, page):
    assert clamp_page(asked, 25, 10) == page


def test_first_middle_and_last_pages_know_their_neighbours():
    first, middle, last = (Page(items=[], total=25, page=n, per_page=10) for n in (1, 2, 3))
    assert (first.has_prev, first.has_next) == (False, True)
    assert (middle.has_prev, middle.has_next) == (True, True)
    assert (last.has_prev, last.has_next) == (True, False)
    only = Page(items=[], total=0, page=1, per_page=10)
    assert (only.pages, only.has_prev, only.has_next) == (1, False, False)


@pytest.fixture()
def five_agencies(make_agency):
    return [make_agency(f"PG{n}").code for n in range(5)]


def _codes(stmt_page: Page) -> list[str]:
    return [agency.code for agency in stmt_page.items]


def test_paginate_counts_and_fetches_one_page_in_order(five_agencies):
    stmt = select(Agency).where(Agency.code.startswith("PG")).order_by(Agency.code.desc())
    first = paginate(stmt, 1, 2)
    assert (first.total, first.page, first.per_page, first.pages) == (5, 1, 2, 3)
    assert _codes(first) == ["PG4", "PG3"]
    assert _codes(paginate(stmt, 2, 2)) == ["PG2", "PG1"]
    assert _codes(paginate(stmt, 3, 2)) == ["PG0"]


def test_paginate_clamps_a_page_past_the_end_or_before_the_start(five_agencies):
    stmt = select(Agency).where(Agency.code.startswith("PG")).order_by(Agency.code)
    past = paginate(stmt, 40, 2)
    assert (past.page, _codes(past)) == (3, ["PG4"])
    before = paginate(stmt, 0, 2)
    assert (before.page, _codes(before)) == (1, ["PG0", "PG1"])


def test_paginate_of_nothing_is_one_empty_page(app):
    empty = paginate(select(Agency).where(Agency.code == "NO-SUCH-AGENCY").order_by(Agency.code), 3, 10)
    assert (empty.items, empty.total, empty.page, empty.pages, empty.has_next) == ([], 0, 1, 1, False)
