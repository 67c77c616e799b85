"""Reading referrals: one referral as the actor may see it (the summary is an
audited read), the agency's outbox and inbox, the count awaiting a decision, and
a case's referrals (its section of the case page and its timeline entries).
Pending referrals whose consent has lapsed are held as they are read."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, lazyload

from clinician_app.cases import timeline
from clinician_app.cases.models import Case
from clinician_app.core import audit, policy
from clinician_app.core.errors import PermissionDenied
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import as_utc
from clinician_app.extensions import db

from . import codes, policies
from .consents import hold_lapsed
from .disclosures import disclosure_for_referral
from .models import Disclosure, Referral, ServiceEntry


def get_referral(actor, referral_id: str) -> Referral:
    """A referral the actor's agency sent or received; anyone else's is a plain 404."""
    if not (policy.has_permission(actor, Permission.REFERRALS_SEND)
            or policy.has_permission(actor, Permission.REFERRALS_RECEIVE)):
        raise PermissionDenied("You do not have permission to do that.")
    return policy.get_visible(db.session, Referral, referral_id, actor)


@dataclass
class ReferralView:
    referral: Referral
    show_summary: bool
    disclosure: Disclosure | None
    notice: str | None
    consent_copy: dict | None
    side: str  # "sender" or "receiver"


def read_referral(actor, referral_id: str) -> ReferralView:
    """The referral as the actor may see it: the summary (an audited read) when
    allowed, with the notice and the consent copy when it carries Part 2."""
    referral = get_referral(actor, referral_id)
    hold_lapsed(actor, [referral])
    show = policies.may_read_summary(actor, referral)
    disclosure = disclosure_for_referral(referral) if show else None
    if show:
        audit.record_at_commit("referral.read", actor=actor, record_type="referral", record_id=referral.id,
                     details={"side": "sender" if policies.is_sender(actor, referral) else "receiver",
                              "part2": referral.includes_part2})
    notice = codes.part2_notice() if show and referral.includes_part2 else None
    copy = disclosure.consent_copy if disclosure is not None and disclosure.consent_copy_enc else None
    return ReferralView(referral, show, disclosure, notice, copy,
                        "sender" if policies.is_sender(actor, referral) else "receiver")


def outbox(actor) -> list[Referral]:
    """The agency's referrals to other agencies and to services, newest first."""
    policy.require(actor, Permission.REFERRALS_SEND)
    rows = list(db.session.execute(select(Referral).where(Referral.from_agency_id == actor.agency_id)
                                   .order_by(Referral.sent_at.desc()).limit(200)).scalars())
    hold_lapsed(actor, rows)
    return rows


def inbox(actor) -> list[Referral]:
    """Referrals sent to the actor's agency, undecided first, then newest."""
    policy.require(actor, Permission.REFERRALS_RECEIVE)
    rows = list(db.session.execute(select(Referral).where(
        Referral.kind == codes.KIND_AGENCY, Referral.to_agency_id == actor.agency_id)
        .order_by(Referral.sent_at.desc()).limit(200)).scalars())
    hold_lapsed(actor, rows)
    rows.sort(key=lambda r: (r.status != codes.PENDING, -as_utc(r.sent_at).timestamp()))
    # The inbox names whom each referral is about (from the summary): audited reads.
    for referral in rows:
        if policies.may_read_summary(actor, referral):
            audit.record_at_commit("referral.read", actor=actor, record_type="referral", record_id=referral.id,
                         details={"side": "receiver", "view": "inbox"})
    return rows


def pending_count(actor) -> int:
    return db.session.execute(select(func.count()).select_from(Referral).where(
        Referral.kind == codes.KIND_AGENCY, Referral.to_agency_id == actor.agency_id,
        Referral.status == codes.PENDING)).scalar_one()


_CASE_REFERRALS = "clinician_app.case_referrals"  # the request's own memo (its WSGI environ)


def referrals_for_case(actor, case: Case) -> list[Referral]:
    """Referrals sent from the case, and the one it was opened from. Read once per
    request: the case page's timeline and its referrals section both show them."""
    if not (policy.has_permission(actor, Permission.REFERRALS_SEND) and case.agency_id == actor.agency_id):
        return []
    from flask import has_request_context, request

    memo = request.environ.setdefault(_CASE_REFERRALS, {}) if has_request_context() else {}
    key = (actor.id, case.id)
    if key not in memo:
        memo[key] = list(db.session.execute(policy.visible(select(Referral), actor, Referral).where(
            or_(Referral.case_id == case.id, Referral.received_case_id == case.id))
            # What the case page shows (the parties' names, the status): not the
            # sender's user record and roles, nor the service's towns.
            .options(lazyload(Referral.sent_by), joinedload(Referral.service).lazyload(ServiceEntry.towns))
            .order_by(Referral.sent_at.desc())).scalars())
    return list(memo[key])


def _timeline(case, actor) -> list[timeline.TimelineItem]:
    if not policy.has_permission(actor, Permission.REFERRALS_SEND) or case.agency_id != actor.agency_id:
        return []
    from flask import has_request_context, url_for

    items = []
    for referral in referrals_for_case(actor, case):
        if referral.received_case_id == case.id:
            title = f"Referral received from {referral.from_agency.name}"
        elif referral.is_agency:
            title = f"Referral to {referral.recipient_label}"
        else:
            title = f"Referral to {referral.recipient_label} (service)"
        items.append(timeline.TimelineItem(
            at=as_utc(referral.sent_at), kind="referral", title=title, summary=referral.status_label,
            url=url_for("referrals.detail", referral_id=referral.id) if has_request_context() else None))
    return items


timeline.register("referrals", _timeline)
