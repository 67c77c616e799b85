"""The side navigation: one entry per section, shown to roles holding its permission.

Domains add their sections here; an entry whose endpoint is not registered is skipped.
"""
from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from clinician_app.core.policy import Permission


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: Permission


NAV_ITEMS = [
    NavItem("Home", "home.index", Permission.SIGNED_IN),
    NavItem("Queue", "calls.queue", Permission.QUEUE_VIEW),
    NavItem("Calls", "calls.index", Permission.CALLS_READ),
    NavItem("Flag a call", "calls.new", Permission.CALLS_CREATE),
    NavItem("People", "people.search", Permission.PERSONS_READ),
    NavItem("Cases", "cases.index", Permission.CASES_READ),
    NavItem("Outreach", "cases.outreach", Permission.CASES_ASSIGN),
    NavItem("My work", "followups.my_work", Permission.FOLLOWUPS_WORK),
    NavItem("Calendar", "followups.calendar", Permission.FOLLOWUPS_WORK),
    NavItem("Follow-up templates", "followups.templates", Permission.FOLLOWUP_TEMPLATES_EDIT),
    NavItem("Referral inbox", "referrals.inbox", Permission.REFERRALS_RECEIVE),
    NavItem("Referral outbox", "referrals.outbox", Permission.REFERRALS_SEND),
    NavItem("Service directory", "referrals.directory", Permission.SIGNED_IN),
    NavItem("Roster", "roster.week", Permission.ROSTER_VIEW),
    NavItem("Engagement", "engagement.index", Permission.ENGAGEMENT_READ),
    NavItem("Reports", "reports.index", Permission.REPORTS_ENGAGEMENT),
    NavItem("Break-glass review", "break_glass.review_list", Permission.BREAK_GLASS_REVIEW),
    NavItem("Routing rules", "triage.rules", Permission.ROUTING_RULES_EDIT),
    NavItem("Notifications", "notifications.index", Permission.SIGNED_IN),
    NavItem("Users", "admin.users", Permission.ADMIN_USERS),
    NavItem("Agencies", "admin.agencies", Permission.ADMIN_AGENCIES),
    NavItem("API clients", "admin.api_clients", Permission.ADMIN_API_CLIENTS),
    NavItem("Dispositions", "cases.dispositions", Permission.ADMIN_SETTINGS),
    NavItem("Audit trail", "auditor.events", Permission.AUDIT_READ),
    NavItem("Accounting of disclosures", "referrals.accounting_lookup", Permission.DISCLOSURES_READ),
    NavItem("Your account", "auth.account", Permission.SIGNED_IN),
]


def navigation() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    granted = current_user.permissions
    items = []
    for item in NAV_ITEMS:
        if item.permission in granted and item.endpoint in current_app.view_functions:
            items.append({"label": item.label, "url": url_for(item.endpoint),
                          "current": request.endpoint == item.endpoint})
    return items
