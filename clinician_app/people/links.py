"""The records other domains link to a person (calls, cases, ...).

The person page lists one section per registered kind, and a merge re-points
each kind's links from the duplicate to the survivor (and back, if the merge is
undone). A domain that links records to persons registers its kind when it is
imported, replacing the placeholder of the same key::

    links.register(links.LinkedKind(
        key="calls", title="Calls", empty_text="No calls are linked to this person.",
        list_for=lambda actor, person: [...LinkedItem...],
        relink=lambda from_id, to_id, only_ids: [...ids moved...]))

This module holds no Flask or domain imports: it only knows the contract.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LinkedItem:
    """One linked record as the person page shows it: no identifying text."""

    label: str
    url: str | None = None
    when: datetime | None = None
    status: str | None = None


@dataclass(frozen=True)
class LinkedKind:
    key: str
    title: str
    empty_text: str
    # (acting user, person) -> the records of this kind the actor may see
    list_for: Callable[..., list[LinkedItem]]
    # (from person id, to person id, only these record ids or None for all) -> ids moved
    relink: Callable[[str, str, list[str] | None], list[str]] | None = None


_KINDS: dict[str, LinkedKind] = {}


def register(kind: LinkedKind) -> None:
    _KINDS[kind.key] = kind


def kinds() -> list[LinkedKind]:
    return list(_KINDS.values())


def _none_yet(actor, person) -> list[LinkedItem]:
    return []


# Placeholders, so the page shows where calls and cases will appear; the calls
# and cases domains replace them with their own kinds.
register(LinkedKind("calls", "Calls", "No calls are linked to this person yet.", _none_yet))
register(LinkedKind("cases", "Cases", "No cases are linked to this person yet.", _none_yet))


# Flags other domains raise on the person page ("Repeat contact: 4 calls in 90
# days"): each source is (acting user, person) -> short texts, no identifying data.
_FLAG_SOURCES: dict[str, Callable[..., list[str]]] = {}


def register_flag(key: str, source: Callable[..., list[str]]) -> None:
    _FLAG_SOURCES[key] = source


def flags_for(actor, person) -> list[str]:
    return [text for source in _FLAG_SOURCES.values() for text in source(actor, person)]
