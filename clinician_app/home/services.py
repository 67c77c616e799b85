"""What each role's home page shows: counts only, never clinical content."""
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from clinician_app.auth.models import ApiClient, User
from clinician_app.core.audit import AuditEvent
from clinician_app.core.policy import Role
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db


@dataclass
class Panel:
    role: str
    title: str
    intro: str
    stats: list[tuple[str, int]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, endpoint)
    empty_title: str | None = None
    empty_text: str | None = None


ROLE_INTROS = {
    Role.DISPATCHER: ("Dispatch", "Flag calls that involve mental health or substance use for co-response.",
                      "No calls yet", "Calls you and your colleagues flag will be listed here with their status."),
    Role.OFFICER: ("Patrol", "Your agency's calls with safety cautions, and your community engagement records.",
                   "Nothing to show yet", "Recent calls and your community visits will appear here."),
    Role.CLINICIAN: ("Co-response", "Triage flagged calls, work your cases and follow-ups.",
                     "Your queue is empty", "Flagged calls waiting for triage, your open cases and follow-ups due today will appear here."),
    Role.BHU_CLINICIAN: ("Regional BHU", "Work routed to the BHU from every partner town.",
                         "Nothing routed to the BHU", "Calls and referrals routed to the BHU will appear here."),
    Role.SUPERVISOR: ("Supervision", "Assign work, review break-glass use, and run reports.",
                      "Nothing to review", "Unassigned calls, overdue follow-ups and break-glass uses awaiting review will appear here."),
    Role.LIAISON: ("Referrals", "Your agency's referral inbox and outbox.",
                   "No referrals", "Referrals sent to your agency will appear here for you to accept or decline."),
    Role.ENGAGEMENT: ("Community engagement", "Visits, events, partnerships, awareness posts and youth programs.",
                      "No records yet", "Community engagement records will appear here."),
}


def _admin_panel(user: User) -> Panel:
    base = select(func.count()).select_from(User).where(User.agency_id == user.agency_id)
    return Panel(
        role=Role.ADMIN, title="Administration", intro="Users, agencies and API clients. Clinical content is not shown to administrators.",
        stats=[
            ("Active users", db.session.execute(base.where(User.disabled_at.is_(None))).scalar_one()),
            ("Locked accounts", db.session.execute(base.where(User.locked_at.is_not(None))).scalar_one()),
            ("Active API clients", db.session.execute(
                select(func.count()).select_from(ApiClient).where(
                    ApiClient.agency_id == user.agency_id, ApiClient.revoked_at.is_(None))).scalar_one()),
        ],
        links=[("Manage users", "admin.users"), ("Agencies", "admin.agencies"), ("API clients", "admin.api_clients")],
    )


def _auditor_panel(user: User) -> Panel:
    day_ago = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    events = select(func.count()).select_from(AuditEvent).where(AuditEvent.agency_id == user.agency_id)
    return Panel(
        role=Role.AUDITOR, title="Audit", intro="The audit trail of your agency and its integrity check.",
        stats=[
            ("Events today (UTC)", db.session.execute(events.where(AuditEvent.occurred_at >= day_ago)).scalar_one()),
            ("Failed sign-ins today", db.session.execute(events.where(
                AuditEvent.occurred_at >= day_ago, AuditEvent.action == "auth.signin_failed")).scalar_one()),
        ],
        links=[("Audit trail", "auditor.events"), ("Accounting of disclosures", "referrals.accounting_lookup")],
    )


CALL_LINKS = {
    Role.DISPATCHER: [("Flag a call", "calls.new"), ("All calls", "calls.index")],
    Role.OFFICER: [("Your agency's calls", "calls.index")],
}


def _calls_panel(user: User, role: Role) -> Panel:
    """Dispatch and patrol: call counts once there are calls; the empty state until then."""
    from clinician_app.calls.services import call_counts

    title, intro, empty_title, empty_text = ROLE_INTROS[role]
    counts = call_counts(user)
    if not counts.total:
        return Panel(role=role, title=title, intro=intro, links=CALL_LINKS[role][:1] if role == Role.DISPATCHER else [],
                     empty_title=empty_title, empty_text=empty_text)
    return Panel(role=role, title=title, intro=intro,
                 stats=[("Calls in the last 7 days", counts.last_7_days), ("Flagged, awaiting triage", counts.awaiting_triage)],
                 links=CALL_LINKS[role])


def _liaison_panel(user: User) -> Panel:
    """The referral inbox and outbox: counts only, never a summary."""
    from clinician_app.referrals.reading import pending_count

    title, intro, empty_title, empty_text = ROLE_INTROS[Role.LIAISON]
    waiting = pending_count(user)
    return Panel(role=Role.LIAISON, title=title, intro=intro, stats=[("Referrals awaiting your decision", waiting)],
                 links=[("Referral inbox", "referrals.inbox"), ("Referral outbox", "referrals.outbox")])


def home_panels(user: User) -> list[Panel]:
    panels = _role_panels(user)
    for panel in panels:  # a section not built into this deployment is not linked
        panel.links = [(label, ep) for label, ep in panel.links if ep in current_app.view_functions]
    return panels


def _role_panels(user: User) -> list[Panel]:
    panels = []
    for role in user.roles:
        role = Role(role)
        if role == Role.ADMIN:
            panels.append(_admin_panel(user))
        elif role == Role.AUDITOR:
            panels.append(_auditor_panel(user))
        elif role == Role.LIAISON:
            panels.append(_liaison_panel(user))
        elif role in CALL_LINKS:
            panels.append(_calls_panel(user, role))
        elif role in ROLE_INTROS:
            title, intro, empty_title, empty_text = ROLE_INTROS[role]
            panels.append(Panel(role=role, title=title, intro=intro, empty_title=empty_title, empty_text=empty_text))
    return panels
