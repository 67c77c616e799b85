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
CALL_READERS = frozenset({"dispatcher", "officer", "clinician", "bhu_clinician", "supervisor"})
DISPATCH = frozenset({"dispatcher"})
PERSON_READERS = frozenset({"clinician", "bhu_clinician", "supervisor"})
SUPERVISOR = frozenset({"supervisor"})
CLINICAL = frozenset({"clinician", "bhu_clinician", "supervisor"})
ROSTER_VIEWERS = frozenset({"dispatcher", "clinician", "bhu_clinician", "supervisor"})
RULE_EDITORS = frozenset({"supervisor", "admin"})
ENGAGEMENT_READERS = frozenset({"officer", "clinician", "bhu_clinician", "supervisor", "engagement"})
ENGAGEMENT_WRITERS = frozenset({"officer", "engagement"})
ENGAGEMENT_STAFF = frozenset({"engagement"})
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.verify", "auth.enrol", "home.healthz", "home.readyz",
                    # The CAD API's description: no data, and a CAD vendor reads it before it has a token.
                    "api_docs.openapi_json", "api_docs.reference"}
# The CAD API takes a Bearer token only: a signed-in browser session, whatever
# its roles, gets 401 there (tests/api/ cover tokens and their scopes).
TOKEN_ONLY = {"api.ping", "api.create_call", "api.get_call", "api.list_calls"}

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
    **{endpoint: frozenset() for endpoint in TOKEN_ONLY},
    "calls.index": CALL_READERS,
    "calls.detail": CALL_READERS,
    "calls.new": DISPATCH,
    "calls.prior_calls": DISPATCH,
    "people.search": PERSON_READERS,
    "people.new": PERSON_READERS,
    "people.person": PERSON_READERS,
    "people.edit": PERSON_READERS,
    "people.merge": SUPERVISOR,
    "people.merge_confirm": SUPERVISOR,
    "people.unmerge": SUPERVISOR,
    "calls.queue": frozenset({"clinician", "bhu_clinician", "supervisor"}),
    "calls.queue_rows": frozenset({"clinician", "bhu_clinician", "supervisor"}),
    "cases.new_encounter": frozenset({"clinician", "bhu_clinician", "supervisor"}),
    "cases.close_call": SUPERVISOR,
    "cases.dispositions": ADMIN,
    "cases.retire_disposition": ADMIN,
    "cases.restore_disposition": ADMIN,
    "triage.screen": CLINICAL,
    "triage.claim": CLINICAL,
    "triage.assign": SUPERVISOR,
    "triage.rules": RULE_EDITORS,
    "triage.rule_new": RULE_EDITORS,
    "triage.rule_edit": RULE_EDITORS,
    "triage.rule_delete": RULE_EDITORS,
    "roster.week": ROSTER_VIEWERS,
    "roster.add_shift": SUPERVISOR,
    "roster.delete_shift": SUPERVISOR,
    "notifications.index": ALL,
    "notifications.open_one": ALL,
    "notifications.read_all": ALL,
    # Cases, linking, repeat contacts and response plans.
    "cases.index": CLINICAL,
    "cases.detail": CLINICAL,
    "cases.link_person": CLINICAL,
    "cases.join_case": CLINICAL,
    "cases.open_case": CLINICAL,
    "cases.close_case": CLINICAL,
    "cases.reassign": SUPERVISOR,
    "cases.outreach": SUPERVISOR,
    "cases.response_plan": CLINICAL,
    "cases.approve_plan": SUPERVISOR,
    "cases.return_plan": SUPERVISOR,
    # Case notes and break-the-glass (Part 2 and grant rules: tests/cases/test_note_matrix.py).
    "notes.index": CLINICAL,
    "notes.detail": CLINICAL,
    "notes.new": CLINICAL,
    "notes.addendum": CLINICAL,
    "break_glass.request_access": CLINICAL,
    "break_glass.review_list": SUPERVISOR,
    "break_glass.review": SUPERVISOR,
    # Follow-ups (who may close or reassign which one: tests/followups/).
    "followups.my_work": CLINICAL,
    "followups.detail": CLINICAL,
    "followups.new": CLINICAL,
    "followups.attempt": CLINICAL,
    "followups.close": CLINICAL,
    "followups.cancel": CLINICAL,
    "followups.reassign": SUPERVISOR,
    "followups.calendar": CLINICAL,
    "followups.ics": CLINICAL,
    "followups.templates": RULE_EDITORS,  # an agency setting without clinical content: supervisors and admins
    # Referrals, consents and the accounting of disclosures (who sees which summary: tests/referrals/).
    "referrals.directory": ALL,  # public service information, no PHI
    "referrals.new_service": RULE_EDITORS,
    "referrals.edit_service": RULE_EDITORS,
    "referrals.outbox": frozenset({"clinician", "bhu_clinician", "supervisor", "liaison"}),
    "referrals.inbox": frozenset({"supervisor", "liaison"}),
    "referrals.detail": frozenset({"clinician", "bhu_clinician", "supervisor", "liaison"}),
    "referrals.accept": frozenset({"supervisor", "liaison"}),
    "referrals.decline": frozenset({"supervisor", "liaison"}),
    "referrals.service_status": CLINICAL,
    "referrals.new_agency_referral": CLINICAL,
    "referrals.new_service_referral": CLINICAL,
    "referrals.emergency": CLINICAL,
    "referrals.consents": PERSON_READERS,
    "referrals.new_consent": PERSON_READERS,
    "referrals.consent": PERSON_READERS,
    "referrals.consent_print": PERSON_READERS,
    "referrals.blank_consent": PERSON_READERS,
    "referrals.revoke_consent": PERSON_READERS,
    "referrals.consent_event": PERSON_READERS,
    "referrals.accounting_lookup": CLINICAL | {"auditor"},
    "referrals.accounting": CLINICAL | {"auditor"},
    "referrals.accounting_print": CLINICAL | {"auditor"},
    "referrals.accounting_csv": CLINICAL | {"auditor"},
    # Community engagement: officers and engagement staff record visits; only engagement staff
    # record the rest and keep the places list; clinical staff read it as context (tests/engagement/).
    **{ep: ENGAGEMENT_READERS for ep in (
        "engagement.index", "engagement.places", "engagement.place", "engagement.visits", "engagement.visits_csv",
        "engagement.visit", "engagement.events", "engagement.events_csv", "engagement.partnerships",
        "engagement.partnerships_csv", "engagement.posts", "engagement.posts_csv", "engagement.youth",
        "engagement.youth_csv", "engagement.youth_program")},
    "engagement.new_visit": ENGAGEMENT_WRITERS,
    **{ep: ENGAGEMENT_STAFF for ep in (
        "engagement.new_place", "engagement.edit_place", "engagement.new_event", "engagement.new_partnership",
        "engagement.new_post", "engagement.new_youth_program", "engagement.new_youth_session")},
    "engagement.link_call_place": CALL_READERS,  # a call of one's own agency to one of its places
    # Reports: supervisors, and the engagement role for the engagement part only; the
    # co-response figures and the extracts are the supervisors' (tests/reports/test_views.py).
    **{ep: frozenset({"supervisor", "engagement"}) for ep in (
        "reports.index", "reports.printable", "reports.pdf", "reports.table_csv")},
    **{ep: SUPERVISOR for ep in ("reports.deidentified_csv", "reports.diversion_csv")},
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


def _person(user, other):
    from tests.people.factories import make_person

    return {"person_id": make_person(user.agency_id).id}, {"person_id": make_person(other.agency_id).id}


def _person_pair(user, other):
    from tests.people.factories import make_person

    def pair(agency_id):
        return {"person_id": make_person(agency_id).id, "other_id": make_person(agency_id).id}

    return pair(user.agency_id), pair(other.agency_id)


def _person_merge(user, other):
    from tests.people.factories import make_merge

    return {"merge_id": make_merge(user.agency_id).id}, {"merge_id": make_merge(other.agency_id).id}


def _call(user, other):
    from tests.calls.factories import make_call

    return {"call_id": make_call(user.agency_id).id}, {"call_id": make_call(other.agency_id).id}


def _routing_rule(user, other):
    from clinician_app.triage.models import RoutingRule
    from tests.triage.conftest import add_rule

    def rule(agency):
        from clinician_app.extensions import db

        taken = [r.priority for r in db.session.query(RoutingRule).filter_by(agency_id=agency.id)]
        return add_rule(agency, max(taken, default=0) + 1, "bhu")

    return {"rule_id": rule(user.agency).id}, {"rule_id": rule(other.agency).id}


def _shift(user, other):
    from tests.triage.conftest import put_on_duty

    return {"shift_id": put_on_duty(user, user.agency).id}, {"shift_id": put_on_duty(other, other.agency).id}


def _notification(user, other):
    from clinician_app.notifications.services import notify

    return ({"notification_id": notify(user.id, "call_assigned", "call", user.id).id},
            {"notification_id": notify(other.id, "call_assigned", "call", other.id).id})


def _disposition(user, other):
    # Dispositions are one regional list, not an agency's: the "foreign" id is one that doesn't exist.
    import uuid

    from sqlalchemy import select

    from clinician_app.cases.models import Disposition
    from clinician_app.extensions import db

    own = db.session.execute(select(Disposition.id).where(Disposition.code == "referred")).scalar_one()
    return {"disposition_id": own}, {"disposition_id": str(uuid.uuid4())}


def _response_plan(user, other):
    from tests.cases.case_factories import make_plan

    return {"plan_id": make_plan(user.agency_id).id}, {"plan_id": make_plan(other.agency_id).id}


def _case(user, other):
    from tests.cases.note_factories import make_case

    return {"case_id": make_case(user.agency_id).id}, {"case_id": make_case(other.agency_id).id}


def _case_note(user, other):
    from tests.cases.note_factories import make_case, make_note

    return ({"note_id": make_note(make_case(user.agency_id), user).id},
            {"note_id": make_note(make_case(other.agency_id), other).id})


def _break_glass_case(user, other):
    # Breaking the glass is for another agency's case: that is the form the user
    # gets (200); the "foreign" id is one that doesn't exist (404).
    import uuid

    from tests.cases.note_factories import make_case

    return {"case_id": make_case(other.agency_id).id}, {"case_id": str(uuid.uuid4())}


def _grant(user, other):
    # Own: another agency's user broke the glass on a case of the user's agency;
    # foreign: the grant is on the other agency's record, which its supervisors review.
    from tests.cases.note_factories import make_case, make_grant

    return ({"grant_id": make_grant(other, make_case(user.agency_id)).id},
            {"grant_id": make_grant(user, make_case(other.agency_id)).id})


def _followup(user, other):
    from tests.followups.factories import followup_for

    return {"followup_id": followup_for(user).id}, {"followup_id": followup_for(other).id}


def _place(user, other):
    from tests.engagement.factories import make_place

    return {"place_id": make_place(user.agency_id).id}, {"place_id": make_place(other.agency_id).id}


def _visit(user, other):
    from tests.engagement.factories import make_visit

    return {"visit_id": make_visit(user).id}, {"visit_id": make_visit(other).id}


def _youth_program(user, other):
    from tests.engagement.factories import make_program

    return {"program_id": make_program(user).id}, {"program_id": make_program(other).id}


def _referral(user, other):
    # Own: sent by the user's agency to a third town; foreign: between two agencies that aren't the user's.
    from tests.referrals.factories import make_referral, third_agency

    third = third_agency()
    return ({"referral_id": make_referral(user.agency_id, third.id, user).id},
            {"referral_id": make_referral(other.agency_id, third.id, other).id})


def _service_referral(user, other):
    from tests.referrals.factories import make_service_referral

    return ({"referral_id": make_service_referral(user.agency_id, user).id},
            {"referral_id": make_service_referral(other.agency_id, other).id})


def _consent(user, other):
    from tests.people.factories import make_person
    from tests.referrals.factories import make_consent

    return ({"consent_id": make_consent(make_person(user.agency_id), user, recipient_class="partner_agencies").id},
            {"consent_id": make_consent(make_person(other.agency_id), other, recipient_class="partner_agencies").id})


def _service(user, other):
    # The directory is regional: the "foreign" id is one that doesn't exist.
    import uuid

    from tests.referrals.factories import make_service

    return {"service_id": make_service().id}, {"service_id": str(uuid.uuid4())}


RECORD_FACTORIES: dict = {
    **{ep: _referral for ep in ("referrals.detail", "referrals.accept", "referrals.decline")},
    "referrals.service_status": _service_referral,
    **{ep: _case for ep in ("referrals.new_agency_referral", "referrals.new_service_referral", "referrals.emergency")},
    **{ep: _person for ep in ("referrals.consents", "referrals.new_consent", "referrals.accounting",
                              "referrals.accounting_print", "referrals.accounting_csv")},
    **{ep: _consent for ep in ("referrals.consent", "referrals.consent_print", "referrals.revoke_consent",
                               "referrals.consent_event")},
    "referrals.edit_service": _service,
    **{ep: _place for ep in ("engagement.place", "engagement.edit_place")},
    "engagement.visit": _visit,
    **{ep: _youth_program for ep in ("engagement.youth_program", "engagement.new_youth_session")},
    "engagement.link_call_place": _call,
    "followups.new": _case,
    **{ep: _followup for ep in ("followups.detail", "followups.attempt", "followups.close", "followups.cancel",
                                "followups.reassign")},
    **{ep: _case for ep in ("cases.detail", "cases.close_case", "cases.reassign")},
    **{ep: _call for ep in ("cases.link_person", "cases.join_case")},
    "cases.response_plan": _person,
    **{ep: _response_plan for ep in ("cases.approve_plan", "cases.return_plan")},
    **{ep: _case for ep in ("notes.index", "notes.new")},
    **{ep: _case_note for ep in ("notes.detail", "notes.addendum")},
    "break_glass.request_access": _break_glass_case,
    "break_glass.review": _grant,
    **{ep: _call for ep in ("cases.new_encounter", "cases.close_call")},
    **{ep: _disposition for ep in ("cases.retire_disposition", "cases.restore_disposition")},
    **{ep: _call for ep in ("triage.screen", "triage.claim", "triage.assign")},
    **{ep: _routing_rule for ep in ("triage.rule_edit", "triage.rule_delete")},
    "roster.delete_shift": _shift,
    "notifications.open_one": _notification,
    "api.get_call": _call,
    "calls.detail": _call,
    **{ep: _person for ep in ("people.person", "people.edit", "people.merge")},
    "people.merge_confirm": _person_pair,
    "people.unmerge": _person_merge,
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


def test_api_endpoints_take_a_token_and_nothing_else(app):
    api_endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/api/")} - PUBLIC_ENDPOINTS
    assert api_endpoints == TOKEN_ONLY
    for endpoint in TOKEN_ONLY:
        assert getattr(app.view_functions[endpoint], "token_authenticated", False), endpoint


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
        denied = 401 if rule.endpoint in TOKEN_ONLY else 403
        if rule.arguments:
            own, foreign = RECORD_FACTORIES[rule.endpoint](user, other_agency_user)
            cases = [(_url(rule, own), 200 if allowed else denied), (_url(rule, foreign), 404 if allowed else denied)]
        else:
            cases = [(_url(rule, {}), 200 if allowed else OVERRIDES.get((rule.endpoint, role), denied))]
        for url, expected in cases:
            if "GET" in rule.methods:
                status = client.get(url).status_code
                assert status in _acceptable(expected), (role, "GET", url, status)
                checked += 1
            elif "POST" in rule.methods and expected in (401, 403, 404):
                status = client.post(url, data={"csrf_token": token}).status_code
                assert status == expected, (role, "POST", url, status)
                checked += 1
    assert checked > 0


def _acceptable(expected):
    # A permitted page may answer with a redirect (e.g. to a form's next step).
    return {200, 302} if expected == 200 else {expected}
