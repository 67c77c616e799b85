"""Break the glass (SECURITY.md promise 4): a clinician or supervisor opens a case
outside their scope by giving a reason; the grant lasts a limited time (default 60
minutes, ``BREAK_GLASS_MINUTES``), every use is audited, and the owning agency's
supervisors review it (appropriate / inappropriate, with a comment).

A grant opens the case and its normal notes, never Part 2 bodies (policies.py).
Services flush, never commit; audit details carry ids and codes, never the free
text of a reason or a review.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import func, select

from clinician_app.core import audit, frame_figures, policy
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import policies
from .break_glass_models import (
    BREAK_GLASS_REASONS,
    REASON_TEXT_MAX,
    REVIEW_COMMENT_MAX,
    REVIEW_OUTCOMES,
    BreakGlassGrant,
)
from .models import Case

DEFAULT_MINUTES = 60


def grant_minutes() -> int:
    if has_app_context():
        return int(current_app.config.get("BREAK_GLASS_MINUTES", DEFAULT_MINUTES))
    return DEFAULT_MINUTES


def case_for_break_glass(actor, case_id: str) -> Case:
    """The case, whichever agency owns it: the request form needs it before any grant.
    Ids are opaque, and only holders of the break-glass permission get this far."""
    policy.require(actor, Permission.BREAK_GLASS)
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("That record was not found.")
    return case


def active_grant(user, case_id: str, now: datetime | None = None) -> BreakGlassGrant | None:
    if not policy.has_permission(user, Permission.BREAK_GLASS):
        return None
    now = now or utcnow()
    return db.session.execute(
        select(BreakGlassGrant).where(BreakGlassGrant.user_id == user.id, BreakGlassGrant.case_id == case_id,
                                      BreakGlassGrant.expires_at > now)
        .order_by(BreakGlassGrant.expires_at.desc()).limit(1)
    ).scalar_one_or_none()


def _running(user, now, figure):
    """The banner's figures (how many grants of the user are running, and until when)."""
    if not policy.has_permission(user, Permission.BREAK_GLASS):
        return None
    return (select(figure).where(BreakGlassGrant.user_id == user.id, BreakGlassGrant.expires_at > now)
            .scalar_subquery())


frame_figures.register("break_glass_grants", lambda user, now: _running(user, now, func.count()), default=0)
frame_figures.register("break_glass_until", lambda user, now: _running(user, now, func.max(BreakGlassGrant.expires_at)))


def break_glass(actor, case_id: str, reason_code: str, reason_text: str,
                now: datetime | None = None) -> BreakGlassGrant:
    """Grant the actor time-limited access to the case, or ValidationError naming
    what is missing (a reason from the list, and words of one's own)."""
    case = case_for_break_glass(actor, case_id)
    if not policies.may_break_glass(actor, case):
        raise Conflict("You already have access to this case; there is no need to break the glass.")
    errors: dict[str, list[str]] = {}
    if reason_code not in BREAK_GLASS_REASONS:
        errors["reason_code"] = ["Choose the reason you need this record."]
    text = clean_text(reason_text, REASON_TEXT_MAX, "reason_text", errors,
                      required="Say in a few words why you need this record now.")
    if errors:
        raise ValidationError("Give a reason to open this record.", fields=errors)
    now = now or utcnow()
    grant = BreakGlassGrant(user_id=actor.id, case_id=case.id, person_id=case.person_id, agency_id=case.agency_id,
                            reason_code=reason_code, granted_at=now,
                            expires_at=now + timedelta(minutes=grant_minutes()))
    grant.reason_text = text
    db.session.add(grant)
    db.session.flush()
    audit.record("break_glass.granted", actor=actor, record_type="case", record_id=case.id,
                 reason=BREAK_GLASS_REASONS[reason_code],
                 details={"grant_id": grant.id, "owning_agency_id": case.agency_id, "reason_code": reason_code,
                          "minutes": grant_minutes()})
    return grant


# --- review ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewRow:
    grant: BreakGlassGrant
    active: bool


def review_list(actor, now: datetime | None = None) -> list[ReviewRow]:
    """Grants on the actor's agency's records: waiting for review first (oldest
    first), then the reviewed ones, newest first."""
    policy.require(actor, Permission.BREAK_GLASS_REVIEW)
    now = now or utcnow()
    grants = db.session.execute(
        select(BreakGlassGrant).where(BreakGlassGrant.agency_id == actor.agency_id)
        .order_by(BreakGlassGrant.reviewed_at.is_not(None), BreakGlassGrant.granted_at)
    ).scalars().all()
    pending = [g for g in grants if g.reviewed_at is None]
    done = sorted((g for g in grants if g.reviewed_at is not None), key=lambda g: g.granted_at, reverse=True)
    return [ReviewRow(g, g.active_at(now)) for g in [*pending, *done]]


def grant_for_review(actor, grant_id: str) -> BreakGlassGrant:
    policy.require(actor, Permission.BREAK_GLASS_REVIEW)
    grant = db.session.get(BreakGlassGrant, grant_id)
    if grant is None or grant.agency_id != actor.agency_id:
        raise NotFound("That record was not found.")
    return grant


def read_reason(actor, grant: BreakGlassGrant) -> str | None:
    """The free text of the reason, for the reviewing supervisor (an audited read)."""
    audit.record_at_commit("break_glass.reason_read", actor=actor, record_type="break_glass_grant", record_id=grant.id)
    return grant.reason_text


def review(actor, grant_id: str, outcome: str, comment: str, now: datetime | None = None) -> BreakGlassGrant:
    grant = grant_for_review(actor, grant_id)
    if not policies.may_review_grant(actor, grant):
        raise PermissionDenied("Another supervisor reviews your own use of break-the-glass.")
    if grant.reviewed_at is not None:
        raise Conflict("This use of break-the-glass was already reviewed.")
    errors: dict[str, list[str]] = {}
    if outcome not in REVIEW_OUTCOMES:
        errors["outcome"] = ["Choose whether the access was appropriate."]
    text = clean_text(comment, REVIEW_COMMENT_MAX, "comment", errors,
                      required="Say why the access was inappropriate." if outcome == "inappropriate" else None)
    if errors:
        raise ValidationError("Complete the review.", fields=errors)
    grant.reviewed_by_id = actor.id
    grant.reviewed_at = now or utcnow()
    grant.review_outcome = outcome
    grant.review_comment = text or None
    db.session.flush()
    audit.record("break_glass.reviewed", actor=actor, record_type="break_glass_grant", record_id=grant.id,
                 details={"outcome": outcome, "case_id": grant.case_id, "user_id": grant.user_id})
    return grant
