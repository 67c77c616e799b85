"""The few figures every signed-in page's frame shows (the bell's unread count,
the break-the-glass banner), read together in one statement per page.

Each package that puts a figure in the frame registers a scalar subquery for it
when its module is imported, so this module never imports them::

    frame_figures.register("unread_notifications", lambda user, now: select(func.count())...
                           .scalar_subquery(), default=0)

A builder returns None when the user may not have the figure (the default is
shown). base.html reads ``frame_figures()`` once; the statement runs at most once
per request, after the view has done its work, so the figures are current.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

Builder = Callable[[Any, Any], Any]  # (user, now) -> a scalar subquery, or None


@dataclass(frozen=True)
class _Figure:
    build: Builder
    default: Any


_FIGURES: dict[str, _Figure] = {}


def register(key: str, build: Builder, *, default: Any = None) -> None:
    """Add (or replace) the figure named ``key``; ``default`` is shown when the
    builder returns None or the page cannot read the database."""
    _FIGURES[key] = _Figure(build, default)


def defaults() -> dict[str, Any]:
    return {key: figure.default for key, figure in _FIGURES.items()}


def read(user, now=None) -> dict[str, Any]:
    """Every registered figure for ``user``: one SELECT of scalar subqueries, or none
    when no builder has anything for this user."""
    values = defaults()
    now = now or utcnow()
    columns = []
    for key, figure in _FIGURES.items():
        subquery = figure.build(user, now)
        if subquery is not None:
            columns.append(subquery.label(key))
    if not columns:
        return values
    try:
        row = db.session.execute(select(*columns)).one()
    except SQLAlchemyError:  # an error page after a failed transaction: the frame without its figures
        return values
    values.update({key: value if value is not None else values[key] for key, value in row._mapping.items()})
    return values
