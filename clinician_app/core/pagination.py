"""Offset paging of list queries: a ``Page`` (the shape the ``pager`` macro in
templates/macros/ui.html reads: ``page``, ``pages``, ``has_prev``, ``has_next``,
``total``) and ``paginate``, which counts a select and fetches one page of it.

    stmt = policy.visible(select(Call), actor, Call).where(...)
    page = paginate(stmt.order_by(Call.received_at.desc(), Call.id), page=requested, per_page=50)

The audit trail pages by sequence number instead (audit_console/services.py),
so events written meanwhile don't shift its pages.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from clinician_app.extensions import db

T = TypeVar("T")


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` rows make; an empty list is still one page."""
    return max(1, ceil(total / per_page))


def clamp_page(page, total: int, per_page: int) -> int:
    """The requested page number, kept between 1 and the last page."""
    return max(1, min(int(page), page_count(total, per_page)))


@dataclass
class Page(Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt: Select, page, per_page: int, *, unique: bool = False) -> Page:
    """Count the rows ``stmt`` selects, then fetch the page asked for (clamped to
    the pages there are) as scalars, in ``stmt``'s order. Two queries. ``unique``
    is needed when ``stmt`` eagerly joins a collection."""
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    number = clamp_page(page, total, per_page)
    result = db.session.execute(stmt.offset((number - 1) * per_page).limit(per_page)).scalars()
    items = result.unique().all() if unique else result.all()
    return Page(items=list(items), total=total, page=number, per_page=per_page)
