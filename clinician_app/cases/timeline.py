"""What the case page's timeline shows, from every domain that adds to a case.

The cases domain registers its own entries (calls, triages, encounters); case
notes, follow-ups and referrals register theirs when their modules are imported,
so this package never imports them::

    from clinician_app.cases import timeline
    timeline.register("notes", lambda case, actor: [timeline.TimelineItem(...), ...])

A source returns only what ``actor`` may see of ``case``; an entry the actor may
know exists but not read (a Part 2 note, say) comes back with ``restricted=True``
and a title that gives nothing away. Sources decrypt only what they put in a
title or summary, since the page shows everything they return.

A source may also say when its entries are, without building them: ``times`` is
``(case, actor, limit) -> SELECT`` of one timestamp column, the newest ``limit``
of exactly the entries the source would return (None when it returns none). The
case page reads every source's times in one statement to find the moment its
newest entries start, and asks those sources only for entries from then on: it
builds about as many entries as it shows, not a full page from each source.

No Flask or domain imports here: it only knows the contract (and the session,
for that one statement).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TimelineItem:
    at: datetime  # UTC, timezone-aware
    kind: str  # "call", "triage", "encounter", "note", ...: also the CSS modifier
    title: str
    url: str | None = None
    restricted: bool = False
    summary: str | None = None  # a short line under the title, already safe to show


Source = Callable[..., list[TimelineItem]]  # (case, actor) -> items; (case, actor, limit=n) if it takes a limit
Times = Callable[..., Any]  # (case, actor, limit) -> a SELECT of one timestamp column, or None
_SOURCES: dict[str, Source] = {}
_TAKES_LIMIT: dict[str, bool] = {}
_TIMES: dict[str, Times] = {}


def register(key: str, source: Source, *, times: Times | None = None) -> None:
    """Add (or replace) the source named ``key``. A source that accepts a ``limit``
    keyword returns at most that many items, the newest, so a page of a case with
    years of history reads a bounded number of rows. A source registered with
    ``times`` (it must take ``limit``) also accepts ``since``: only items at or
    after that moment."""
    _SOURCES[key] = source
    try:
        _TAKES_LIMIT[key] = "limit" in inspect.signature(source).parameters
    except (TypeError, ValueError):
        _TAKES_LIMIT[key] = False
    if times is not None and _TAKES_LIMIT[key]:
        _TIMES[key] = times
    else:
        _TIMES.pop(key, None)


def sources() -> dict[str, Source]:
    return dict(_SOURCES)


def items_for(case, actor) -> list[TimelineItem]:
    """Every source's items for ``case``, newest first."""
    items = [item for source in _SOURCES.values() for item in source(case, actor)]
    items.sort(key=lambda item: item.at, reverse=True)
    return items


def recent_items(case, actor, limit: int) -> tuple[list[TimelineItem], bool]:
    """The newest ``limit`` items of every source together, newest first, and whether
    there are older ones. Each source that takes a limit is asked for ``limit + 1``:
    the newest ``limit`` overall are among them, and one more says there is more.
    Sources that give their times are asked only for items from the moment the
    newest ``limit`` of theirs begin (each of the newest ``limit`` overall is at
    least that new)."""
    since, more = _since(case, actor, limit)
    items = []
    for key, source in list(_SOURCES.items()):
        if not _TAKES_LIMIT.get(key):
            items.extend(source(case, actor))
        elif since is not None and key in _TIMES:
            items.extend(source(case, actor, limit=limit + 1, since=since))
        else:
            items.extend(source(case, actor, limit=limit + 1))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit], more or len(items) > limit


def _since(case, actor, limit: int) -> tuple[datetime | None, bool]:
    """The ``limit``-th newest moment among the sources that give their times, and
    whether they have more entries than ``limit``: one statement (a UNION ALL of
    each source's newest times). None when they have ``limit`` or fewer."""
    if limit < 1:
        return None, False
    parts = [stmt for key, times in list(_TIMES.items())
             if key in _SOURCES and (stmt := times(case, actor, limit + 1)) is not None]
    if not parts:
        return None, False
    from sqlalchemy import select, union_all

    from clinician_app.extensions import db

    newest = union_all(*[select(part.subquery().c[0].label("at")) for part in parts]).subquery()
    found = db.session.execute(select(newest.c.at).order_by(newest.c.at.desc())
                               .offset(limit - 1).limit(2)).scalars().all()
    return (found[0] if found else None), len(found) > 1
