"""Authorization matrix (SECURITY.md promise 1): every route x every role, in two agencies.

The expected access is written out below, endpoint by endpoint, rather than
derived from the code it checks; a test also fails when an endpoint exists
that this table does not mention, so a new route can't go unreviewed.
"""
import re

import pytest

from clinician_app.core.policy import ROLE_PERMISSIONS, Role, endpoint_declaration

ALL = frozenset(r.value for r in Role)
ADMIN = frozenset({"admin"})
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.verify", "auth.enrol", "home.healthz", "home.readyz"}

# endpoint -> roles that may use it (GET pages and POST actions alike)
ACCESS: dict[str, frozenset[str]] = {
    "home.index": ALL,
    "auth.account": ALL,
    "auth.change_password": ALL,
    "auth.logout": ALL,
    "auth.logout_everywhere": ALL,
    "admin.users": ADMIN,
    "admin.new_user": ADMIN,
    "admin.user": ADMIN,
    "admin.user_roles": ADMIN,
    "admin.user_profile": ADMIN,
    "admin.user_disable": ADMIN,
    "admin.user_enable": ADMIN,
    "admin.user_unlock": ADMIN,
    "admin.user_reset_mfa": ADMIN,
    "admin.user_reset_password": ADMIN,
    "admin.agencies": ADMIN,
    "admin.new_agency": ADMIN,
    "admin.edit_agency": ADMIN,
    "admin.api_clients": ADMIN,
    "admin.new_api_client": ADMIN,
    "admin.revoke_api_client": ADMIN,
    "auditor.events": frozenset({"auditor"}),
    "auditor.export": frozenset({"auditor"}),
    "auditor.verify": frozenset({"auditor"}),
}

# endpoints taking a record id: how to make one record in the signed-in user's
# agency and one in another agency -> {url argument: value}
def _users(user, other):
    return {"user_id": user.id}, {"user_id": other.id}


def _agency(user, other):
    return {"agency_id": user.agency_id}, {"agency_id": other.agency_id}


def _api_client(user, other):
    from clinician_app.auth.services import create_api_client

    own, _ = create_api_client(None, "CAD", ["calls:create"], 30, agency_id=user.agency_id)
    foreign, _ = create_api_client(None, "CAD", ["calls:create"], 30, agency_id=other.agency_id)
    return {"client_id": own.id}, {"client_id": foreign.id}


RECORD_FACTORIES: dict = {
    **{ep: _users for ep in ("admin.user", "admin.user_roles", "admin.user_profile", "admin.user_disable",
                             "admin.user_enable", "admin.user_unlock", "admin.user_reset_mfa", "admin.user_reset_password")},
    "admin.edit_agency": _agency,
    "admin.revoke_api_client": _api_client,
}

# Where a rule about the record or the agency narrows what the role allows:
# (endpoint, role) -> status for the matrix's user, who is in a town, not the BHU.
OVERRIDES = {("admin.new_agency", "admin"): 403}  # only the BHU's admins add partner agencies


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]


def test_every_endpoint_declares_a_permission(app):
    undeclared = [r.endpoint for r in app.url_map.iter_rules()
                  if endpoint_declaration(app.view_functions[r.endpoint], r.endpoint) is None]
    assert undeclared == []


def test_only_the_sign_in_pages_and_health_checks_are_public(app):
    public = {r.endpoint for r in app.url_map.iter_rules()
              if endpoint_declaration(app.view_functions[r.endpoint], r.endpoint) == "public"}
    assert public == PUBLIC_ENDPOINTS


def test_every_endpoint_is_in_the_written_table(app):
    missing = sorted({r.endpoint for r in _rules(app)} - set(ACCESS))
    assert missing == [], f"add these endpoints to ACCESS with the roles that may use them: {missing}"


def test_written_table_agrees_with_the_role_permissions(app):
    for endpoint, roles in ACCESS.items():
        permission = endpoint_declaration(app.view_functions[endpoint], endpoint)
        granted = {role.value for role, perms in ROLE_PERMISSIONS.items() if permission in perms}
        assert granted == set(roles), endpoint


def _url(rule, values):
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values[name]), url)
    return url


@pytest.mark.parametrize("role", sorted(ALL))
def test_role_against_every_endpoint(app, role, agencies, make_user, login_as, client, csrf):
    user = make_user(agencies["A"], role)
    other_agency_user = make_user(agencies["B"], role)
    login_as(user)
    token = csrf(client.get("/auth/account"))
    checked = 0
    for rule in _rules(app):
        allowed = role in ACCESS[rule.endpoint] and (rule.endpoint, role) not in OVERRIDES
        if rule.arguments:
            own, foreign = RECORD_FACTORIES[rule.endpoint](user, other_agency_user)
            cases = [(_url(rule, own), 200 if allowed else 403), (_url(rule, foreign), 404 if allowed else 403)]
        else:
            cases = [(_url(rule, {}), 200 if allowed else OVERRIDES.get((rule.endpoint, role), 403))]
        for url, expected in cases:
            if "GET" in rule.methods:
                status = client.get(url).status_code
                assert status in _acceptable(expected), (role, "GET", url, status)
                checked += 1
            elif "POST" in rule.methods and expected in (403, 404):
                status = client.post(url, data={"csrf_token": token}).status_code
                assert status == expected, (role, "POST", url, status)
                checked += 1
    assert checked > 0


def _acceptable(expected):
    # A permitted page may answer with a redirect (e.g. to a form's next step).
    return {200, 302} if expected == 200 else {expected}
