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

No Flask or domain imports here: it only knows the contract.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineItem:
    at: datetime  # UTC, timezone-aware
    kind: str  # "call", "triage", "encounter", "note", ...: also the CSS modifier
    title: str
    url: str | None = None
    restricted: bool = False
    summary: str | None = None  # a short line under the title, already safe to show


Source = Callable[..., list[TimelineItem]]  # (case, actor) -> items; (case, actor, limit=n) if it takes a limit
_SOURCES: dict[str, Source] = {}
_TAKES_LIMIT: dict[str, bool] = {}


def register(key: str, source: Source) -> None:
    """Add (or replace) the source named ``key``. A source that accepts a ``limit``
    keyword returns at most that many items, the newest, so a page of a case with
    years of history reads a bounded number of rows."""
    _SOURCES[key] = source
    try:
        _TAKES_LIMIT[key] = "limit" in inspect.signature(source).parameters
    except (TypeError, ValueError):
        _TAKES_LIMIT[key] = False


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
    the newest ``limit`` overall are among them, and one more says there is more."""
    items = []
    for key, source in list(_SOURCES.items()):
        items.extend(source(case, actor, limit=limit + 1) if _TAKES_LIMIT.get(key) else source(case, actor))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit], len(items) > limit
