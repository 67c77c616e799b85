"""Who may run which report, for which agencies (no Flask here).

* A town's supervisor: their own town.
* The BHU's supervisor: any partner town, or all of them together ("the whole BHU").
* The engagement role: the same agency rule, but only the community engagement
  section; the co-response figures and every co-response export are refused.

Reports are aggregates: nothing here gives access to a record.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.core.errors import NotFound, PermissionDenied
from clinician_app.core.policy import Permission, has_permission
from clinician_app.extensions import db

ALL = "all"


@dataclass(frozen=True)
class Scope:
    """The agencies a report covers. ``key`` is "all" (every agency: the metrics then skip
    the agency filters and the joins that only serve them) or the town's agency id."""

    key: str
    name: str
    agency_ids: tuple[str, ...]
    towns: tuple[Agency, ...]  # for the by-town table of a BHU-wide report
    timezone: str
    repeat_calls: int
    repeat_days: int

    @property
    def is_all(self) -> bool:
        return self.key == ALL


def may_view_coresponse(user) -> bool:
    return has_permission(user, Permission.REPORTS_VIEW)


def may_view_engagement(user) -> bool:
    return has_permission(user, Permission.REPORTS_ENGAGEMENT) or may_view_coresponse(user)


def require_coresponse(user) -> None:
    if not may_view_coresponse(user):
        raise PermissionDenied("Your role may see the community engagement figures only.")


def _towns() -> list[Agency]:
    return list(db.session.execute(select(Agency).where(Agency.kind == "town").order_by(Agency.name)).scalars())


def scope_choices(user) -> list[tuple[str, str]]:
    """(key, label) of every scope the user may choose, the default first."""
    if not may_view_engagement(user):
        return []
    agency = user.agency
    if agency.is_bhu:
        return [(ALL, f"All partner towns ({agency.name})")] + [(town.id, town.name) for town in _towns()]
    return [(agency.id, agency.name)]


def resolve_scope(user, key: str | None) -> Scope:
    """The scope ``key`` names, if the user may report on it; another agency's town is a 404."""
    if not may_view_engagement(user):
        raise PermissionDenied("Your role does not include reports.")
    agency = user.agency
    key = key or (ALL if agency.is_bhu else agency.id)
    if agency.is_bhu:
        if key == ALL:
            agencies = list(db.session.execute(select(Agency).order_by(Agency.name)).scalars())
            towns = tuple(a for a in agencies if not a.is_bhu)
            return Scope(ALL, f"All partner towns ({agency.name})", tuple(a.id for a in agencies), towns,
                         agency.timezone, agency.repeat_contact_calls, agency.repeat_contact_days)
        town = db.session.get(Agency, key)
        if town is None or town.is_bhu:
            raise NotFound("That town was not found.")
    else:
        if key != agency.id:
            raise NotFound("That town was not found.")
        town = agency
    return Scope(town.id, town.name, (town.id,), (town,), town.timezone,
                 town.repeat_contact_calls, town.repeat_contact_days)
