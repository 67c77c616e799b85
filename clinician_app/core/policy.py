"""Who may do what: named permissions, the role table, and agency scope.

Every endpoint declares one permission with ``@requires`` (or is explicitly
``@public``); ``enforce_endpoint_permission`` runs before each request and
denies anything undeclared, so a forgotten decorator fails closed.
Rules about one record (same agency? assigned? consent?) live in each domain's
``policies.py``; this module holds only what every domain shares.
"""
from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select

from .errors import NotFound, PermissionDenied

if TYPE_CHECKING:  # pragma: no cover
    from clinician_app.auth.models import User


class Role(StrEnum):
    DISPATCHER = "dispatcher"
    OFFICER = "officer"
    CLINICIAN = "clinician"
    BHU_CLINICIAN = "bhu_clinician"
    SUPERVISOR = "supervisor"
    LIAISON = "liaison"
    ENGAGEMENT = "engagement"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.DISPATCHER: "Dispatcher",
    Role.OFFICER: "Officer",
    Role.CLINICIAN: "Department clinician",
    Role.BHU_CLINICIAN: "BHU clinician",
    Role.SUPERVISOR: "Supervisor",
    Role.LIAISON: "Referral liaison",
    Role.ENGAGEMENT: "Community engagement",
    Role.AUDITOR: "Auditor",
    Role.ADMIN: "Administrator",
}


class Permission(StrEnum):
    SIGNED_IN = "account:self"  # own home page, password and MFA
    CALLS_CREATE = "calls:create"
    CALLS_READ = "calls:read"  # non-clinical call fields
    CALLS_READ_CLINICAL = "calls:read_clinical"
    QUEUE_VIEW = "queue:view"
    TRIAGE = "triage:write"
    CALLS_CLAIM = "calls:claim"
    CALLS_ASSIGN = "calls:assign"
    ROSTER_VIEW = "roster:view"
    ROSTER_EDIT = "roster:edit"
    ROUTING_RULES_EDIT = "routing_rules:edit"
    PERSONS_READ = "persons:read"
    PERSONS_WRITE = "persons:write"
    PERSONS_MERGE = "persons:merge"
    CASES_READ = "cases:read"
    CASES_WRITE = "cases:write"
    CASES_ASSIGN = "cases:assign"  # reassign cases, the proactive-outreach list
    RESPONSE_PLANS_APPROVE = "response_plans:approve"
    CASE_NOTES_READ = "case_notes:read"
    CASE_NOTES_WRITE = "case_notes:write"
    BREAK_GLASS = "break_glass:use"
    BREAK_GLASS_REVIEW = "break_glass:review"
    FOLLOWUPS_WORK = "followups:work"
    FOLLOWUPS_MANAGE = "followups:manage"
    FOLLOWUP_TEMPLATES_EDIT = "followup_templates:edit"  # an agency setting: no clinical content
    REFERRALS_SEND = "referrals:send"
    REFERRALS_RECEIVE = "referrals:receive"
    SERVICE_DIRECTORY_EDIT = "service_directory:edit"  # regional directory of services: no clinical content
    ENGAGEMENT_READ = "engagement:read"
    ENGAGEMENT_WRITE = "engagement:write"
    # Events, partnerships, posts, youth programs and the places registry: the
    # engagement role; officers record community visits (ENGAGEMENT_WRITE) only.
    ENGAGEMENT_MANAGE = "engagement:manage"
    REPORTS_VIEW = "reports:view"
    REPORTS_ENGAGEMENT = "reports:engagement"
    AUDIT_READ = "audit:read"
    DISCLOSURES_READ = "disclosures:read"
    ADMIN_USERS = "admin:users"
    ADMIN_AGENCIES = "admin:agencies"
    ADMIN_API_CLIENTS = "admin:api_clients"
    ADMIN_SETTINGS = "admin:settings"
    ADMIN_KEYS = "admin:keys"
    # Declared by the CAD API's endpoints and granted to no role: only an API
    # client token whose scopes cover them opens those endpoints (api/auth.py).
    API_CALLS_CREATE = "api:calls_create"
    API_CALLS_READ = "api:calls_read"
    API_PING = "api:ping"  # any usable token may ping


P = Permission
_CLINICAL = {
    P.CALLS_READ, P.CALLS_READ_CLINICAL, P.QUEUE_VIEW, P.TRIAGE, P.CALLS_CLAIM,
    P.PERSONS_READ, P.PERSONS_WRITE, P.CASES_READ, P.CASES_WRITE, P.CASE_NOTES_READ,
    P.CASE_NOTES_WRITE, P.BREAK_GLASS, P.FOLLOWUPS_WORK, P.REFERRALS_SEND,
    P.ENGAGEMENT_READ, P.DISCLOSURES_READ, P.ROSTER_VIEW,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DISPATCHER: frozenset({P.SIGNED_IN, P.CALLS_CREATE, P.CALLS_READ, P.ROSTER_VIEW}),
    Role.OFFICER: frozenset({P.SIGNED_IN, P.CALLS_READ, P.ENGAGEMENT_READ, P.ENGAGEMENT_WRITE}),
    Role.CLINICIAN: frozenset({P.SIGNED_IN} | _CLINICAL),
    Role.BHU_CLINICIAN: frozenset({P.SIGNED_IN} | _CLINICAL),
    Role.SUPERVISOR: frozenset(
        {P.SIGNED_IN, P.CALLS_ASSIGN, P.CASES_ASSIGN, P.RESPONSE_PLANS_APPROVE,
         P.ROSTER_EDIT, P.ROUTING_RULES_EDIT, P.PERSONS_MERGE, P.BREAK_GLASS_REVIEW,
         P.FOLLOWUPS_MANAGE, P.FOLLOWUP_TEMPLATES_EDIT, P.REPORTS_VIEW, P.REPORTS_ENGAGEMENT,
         P.REFERRALS_RECEIVE, P.SERVICE_DIRECTORY_EDIT} | _CLINICAL
    ),
    Role.LIAISON: frozenset({P.SIGNED_IN, P.REFERRALS_SEND, P.REFERRALS_RECEIVE}),
    Role.ENGAGEMENT: frozenset(
        {P.SIGNED_IN, P.ENGAGEMENT_READ, P.ENGAGEMENT_WRITE, P.ENGAGEMENT_MANAGE, P.REPORTS_ENGAGEMENT}
    ),
    Role.AUDITOR: frozenset({P.SIGNED_IN, P.AUDIT_READ, P.DISCLOSURES_READ}),
    Role.ADMIN: frozenset(
        {P.SIGNED_IN, P.ADMIN_USERS, P.ADMIN_AGENCIES, P.ADMIN_API_CLIENTS,
         P.ADMIN_SETTINGS, P.ADMIN_KEYS, P.ROUTING_RULES_EDIT, P.FOLLOWUP_TEMPLATES_EDIT,
         P.SERVICE_DIRECTORY_EDIT}
    ),
}


def permissions_for(roles) -> frozenset[Permission]:
    return _permissions_for(frozenset(roles))


@lru_cache(maxsize=256)  # a page asks for the viewer's permissions dozens of times
def _permissions_for(roles: frozenset[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(Role(role), frozenset())
    return frozenset(granted)


def has_permission(user: User | None, permission: Permission) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return permission in user.permissions


def require(user: User | None, permission: Permission) -> None:
    """For services: raise unless the actor holds the permission."""
    if not has_permission(user, permission):
        raise PermissionDenied("You do not have permission to do that.")


# --- endpoint declarations ---------------------------------------------------

def requires(permission: Permission):
    """Declare the permission a view needs; enforced before the request runs."""

    def mark(view):
        view.required_permission = Permission(permission)
        return view

    return mark


def public(view):
    """Declare a view open without sign-in (sign-in pages, health checks)."""
    view.is_public = True
    return view


# Flask's own static file view can't carry a decorator.
PUBLIC_ENDPOINTS = frozenset({"static"})


def endpoint_declaration(view: Any, endpoint: str | None = None) -> Permission | str | None:
    if endpoint in PUBLIC_ENDPOINTS or getattr(view, "is_public", False):
        return "public"
    return getattr(view, "required_permission", None)


# --- agency scope -------------------------------------------------------------

def visible(stmt: Select, user: User, model=None) -> Select:
    """Narrow a query to the records ``user`` may list.

    A model may define ``scope_clause(user)`` for rules beyond "same agency"
    (shared referrals, BHU routing); otherwise its ``agency_id`` must match.
    """
    model = model if model is not None else stmt.column_descriptions[0]["entity"]
    scope = getattr(model, "scope_clause", None)
    if scope is not None:
        return stmt.where(scope(user))
    return stmt.where(model.agency_id == user.agency_id)


def get_visible(session, model, record_id: str, user: User):
    """Load one record the user may see; another agency's id is a plain 404."""
    from sqlalchemy import select

    stmt = visible(select(model).where(model.id == record_id), user, model)
    record = session.execute(stmt).scalar_one_or_none()
    if record is None:
        raise NotFound("That record was not found.")
    return record
