"""Referral figures for the report: referrals sent in the period from the scope's
agencies, by kind of service (a transfer to another agency is its own row).

"Accepted" is an agency transfer accepted, or a service referral scheduled or
attended; "declined" is either kind declined. The rest (awaiting an answer, held,
sent, no-show) is the difference.
"""
from __future__ import annotations

from sqlalchemy import func, select

from clinician_app.referrals import codes
from clinician_app.referrals.models import Referral, ServiceEntry

from .metrics import ReferralKind

AGENCY_ROW = "agency"
AGENCY_LABEL = "Transfer to another agency"
ACCEPTED = (codes.ACCEPTED, codes.SCHEDULED, codes.ATTENDED)


def service_kind_label(kind: str | None) -> str:
    if kind == AGENCY_ROW:
        return AGENCY_LABEL
    return codes.SERVICE_KINDS.get(kind or "", kind or "Not recorded")


def referral_figures(q, ids, period) -> list[ReferralKind]:
    kind = func.coalesce(ServiceEntry.kind, AGENCY_ROW)
    rows = q.all(
        select(kind, func.count(), func.count().filter(Referral.status.in_(ACCEPTED)),
               func.count().filter(Referral.status == codes.DECLINED))
        .select_from(Referral).outerjoin(ServiceEntry, ServiceEntry.id == Referral.service_id)
        .where(Referral.from_agency_id.in_(ids), Referral.sent_at >= period.start, Referral.sent_at < period.end)
        .group_by(kind))
    found = {k: ReferralKind(k, service_kind_label(k), made, accepted, declined) for k, made, accepted, declined in rows}
    ordered = [found.pop(k, ReferralKind(k, service_kind_label(k))) for k in (*codes.SERVICE_KINDS, AGENCY_ROW)]
    return ordered + sorted(found.values(), key=lambda r: r.label)
