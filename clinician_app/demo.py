"""Demo data for a new install: six agencies and a user for every role.

Demo passwords and TOTP secrets are derived from this install's secret key, so
re-running the seed prints the same sign-ins without storing them anywhere,
and no two installs share them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import func, select

from clinician_app.agencies.models import Agency
from clinician_app.auth import services as auth_services
from clinician_app.auth.models import ApiClient, User
from clinician_app.core.keyfile import current_keys
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

AGENCIES = [
    ("Chelmsford Police Department", "CPD", "town"),
    ("Billerica Police Department", "BPD", "town"),
    ("Westford Police Department", "WPD", "town"),
    ("Carlisle Police Department", "CARPD", "town"),
    ("Tyngsborough Police Department", "TPD", "town"),
    ("Regional Behavioral Health Unit", "BHU", "bhu"),
]

# (username, display name, agency code, roles)
USERS = [
    ("dispatch.chelmsford", "Dana Dispatcher", "CPD", ["dispatcher"]),
    ("officer.chelmsford", "Owen Officer", "CPD", ["officer"]),
    ("clinician.chelmsford", "Casey Clinician", "CPD", ["clinician"]),
    ("supervisor.chelmsford", "Sam Supervisor", "CPD", ["supervisor"]),
    ("liaison.chelmsford", "Lee Liaison", "CPD", ["liaison"]),
    ("engagement.chelmsford", "Erin Engagement", "CPD", ["engagement"]),
    ("auditor.chelmsford", "Avery Auditor", "CPD", ["auditor"]),
    ("admin.chelmsford", "Alex Admin", "CPD", ["admin"]),
    ("clinician.bhu", "Bailey BHU Clinician", "BHU", ["bhu_clinician"]),
    ("supervisor.bhu", "Blake BHU Supervisor", "BHU", ["supervisor"]),
    ("liaison.bhu", "Logan BHU Liaison", "BHU", ["liaison"]),
    ("admin.bhu", "Ari Regional Admin", "BHU", ["admin"]),
    ("dispatch.westford", "Wren Westford Dispatcher", "WPD", ["dispatcher"]),
    ("clinician.westford", "Wes Westford Clinician", "WPD", ["clinician"]),
    ("liaison.westford", "Willa Westford Liaison", "WPD", ["liaison"]),
]


def _derive(purpose: str, username: str) -> bytes:
    return hmac.new(current_keys().secret_key, f"demo:{purpose}:{username}".encode(), hashlib.sha256).digest()


def demo_password(username: str) -> str:
    raw = base64.b32encode(_derive("password", username)).decode().lower()
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def demo_totp_secret(username: str) -> str:
    return base64.b32encode(_derive("totp", username)[:20]).decode()


def seed_demo() -> dict:
    """Create what is missing; leave what exists. Returns the demo sign-ins."""
    agencies = {}
    for name, code, kind in AGENCIES:
        agency = db.session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
        if agency is None:
            agency = Agency(name=name, code=code, kind=kind, timezone="America/New_York")
            db.session.add(agency)
            db.session.flush()
        agencies[code] = agency
    result = []
    for username, display, code, roles in USERS:
        user = auth_services.find_user(username)
        if user is None:
            user, _ = auth_services.create_user(None, auth_services.NewUser(
                username=username, display_name=display, email=None, agency_id=agencies[code].id,
                roles=roles, password=demo_password(username)))
            user.totp_secret = demo_totp_secret(username)
            user.totp_confirmed_at = utcnow()
        result.append({"username": username, "password": demo_password(username),
                       "totp_secret": demo_totp_secret(username), "roles": user.roles, "agency": code})
    db.session.flush()
    return {"users": result, "persons": seed_demo_persons(agencies), "calls": seed_demo_calls(),
            "api_clients": seed_demo_api_clients(agencies), "routing": seed_demo_routing(agencies),
            "cases": seed_demo_cases(agencies), "followups": seed_demo_followups(agencies),
            "engagement": seed_demo_engagement(agencies), "referrals": seed_demo_referrals(agencies),
            "encounters": seed_demo_encounters()}


# Each town's demo routing rules: (priority, acuities, department clinician on duty, route, outside service, why).
DEMO_ROUTING_RULES = [
    (10, "emergent,urgent", "yes", "department", None,
     "A department clinician is on duty: they co-respond now or reach the person today."),
    (20, "emergent,urgent", "no", "bhu", None,
     "No department clinician on duty: the regional BHU's on-call clinician takes it."),
    (30, "routine", "any", "department", None,
     "Follow-up within 72 hours stays with the town's clinician, who knows its resources."),
    (40, "information", "any", "outside", "988",
     "Information only: give the caller the 988 Suicide & Crisis Lifeline."),
]
# Who is on call now in the demo, so routing and the roster page show something.
DEMO_ON_CALL = ["clinician.chelmsford", "clinician.bhu"]


def seed_demo_routing(agencies: dict) -> dict:
    """Routing rules for every town, shifts covering now for the Chelmsford and
    BHU clinicians, and a route and holder for demo calls already past triage.
    What exists is left alone."""
    from datetime import timedelta

    from clinician_app.agencies.models import Shift
    from clinician_app.calls.models import Call
    from clinician_app.triage.models import RoutingRule

    for agency in agencies.values():
        if agency.is_bhu or db.session.execute(select(RoutingRule.id).where(RoutingRule.agency_id == agency.id)).first():
            continue
        for priority, acuities, on_duty, route, service, why in DEMO_ROUTING_RULES:
            db.session.add(RoutingRule(agency_id=agency.id, priority=priority, acuities=acuities, on_duty=on_duty,
                                       route=route, outside_service=service, description=why))
    now = utcnow()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    for username in DEMO_ON_CALL:
        user = auth_services.find_user(username)
        if user is None or db.session.execute(select(Shift.id).where(
                Shift.user_id == user.id, Shift.starts_at < now + timedelta(hours=10), Shift.ends_at > start)).first():
            continue
        db.session.add(Shift(agency_id=user.agency_id, user_id=user.id, starts_at=start,
                             ends_at=start + timedelta(hours=12)))
    holders = {code: auth_services.find_user(name) for code, name in (("CPD", "clinician.chelmsford"),
                                                                      ("WPD", "clinician.westford"))}
    for call in db.session.execute(select(Call).where(Call.route.is_(None), Call.triaged_at.is_not(None))).scalars():
        call.route, call.route_agency_id, call.acuity = "department", call.agency_id, "urgent"
        holder = holders.get(call.agency.code)
        if call.assigned_at is not None and holder is not None:
            call.assignee_id = holder.id
    db.session.flush()
    from clinician_app.agencies.roster import on_duty_now

    town_ids = [a.id for a in agencies.values() if not a.is_bhu]
    return {"rules": db.session.execute(select(func.count()).select_from(RoutingRule)
                                        .where(RoutingRule.agency_id.in_(town_ids))).scalar_one(),
            "on_call": sorted(u.username for a in agencies.values() for u in on_duty_now(a.id))}


DEMO_API_CLIENT_NAME = "Demo CAD"
DEMO_API_SCOPES = ["calls:create", "calls:read"]


def demo_api_token(agency_code: str) -> str:
    return auth_services.TOKEN_PREFIX + base64.urlsafe_b64encode(_derive("api_token", agency_code)).decode().rstrip("=")


def seed_demo_api_clients(agencies: dict) -> list[dict]:
    """A CAD API client for each town, so the API can be tried at once. Its
    token is derived like the demo passwords; one an admin revoked stays revoked."""
    clients = []
    for code, agency in agencies.items():
        if agency.kind != "town":
            continue
        token = demo_api_token(code)
        client = db.session.execute(
            select(ApiClient).where(ApiClient.token_hash == auth_services._token_hash(token))).scalar_one_or_none()
        if client is None:
            client, _ = auth_services.create_api_client(None, DEMO_API_CLIENT_NAME, DEMO_API_SCOPES, None,
                                                        agency_id=agency.id, token=token)
        if client.is_usable(utcnow()):
            clients.append({"agency": code, "token": token})
    return clients


# Fictional people (555-01xx numbers are reserved for fiction) for the person pages:
# (agency code, first, last, date of birth, phone, address, aliases, identifying notes, report codes)
DEMO_PERSONS = [
    ("CPD", "Marguerite", "Oyelaran", "1961-04-17", "978-555-0111", "14 Pinebrook Lane, Chelmsford MA", ["Maggie Oyelaran"],
     "Uses a blue walker; prefers to be called Maggie.",
     {"sex": "female", "race": "black", "ethnicity": "not_hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}),
    ("CPD", "Desmond", "Kilbride", "1979-11-02", "978-555-0112", "No fixed address; often near the town common", [],
     "Tall, red beard, army jacket.",
     {"sex": "male", "race": "white", "ethnicity": "not_hispanic", "veteran_status": "veteran", "housing_status": "homeless_unsheltered"}),
    ("CPD", "Anneliese", "Vantongeren", "1995-06-23", "978-555-0113", "220 Riverneck Road, Apt 3, Chelmsford MA", [],
     "", {"sex": "female", "race": "white", "ethnicity": "not_hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}),
    ("CPD", "Thaddeus", "Okonkwo-Reyes", "1988-01-30", "978-555-0114", "Staying with a cousin in North Chelmsford", ["Ted Reyes"],
     "", {"sex": "male", "race": "multiple", "ethnicity": "hispanic", "veteran_status": "not_veteran", "housing_status": "unstably_housed"}),
    ("CPD", "Rosalind", "Featherstone", "1947-09-12", "978-555-0115", "9 Maplewood Court, Chelmsford MA", [],
     "Hard of hearing; speak on her left side.",
     {"sex": "female", "race": "white", "ethnicity": "not_hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}),
    ("CPD", "Priyanka", "Ramaswamy", "2001-03-05", "978-555-0116", "UMass Lowell residence hall", [],
     "", {"sex": "female", "race": "asian", "ethnicity": "not_hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}),
    ("CPD", "Bartholomew", "Quenneville", "1970-12-19", "978-555-0117", "Shelter on Middlesex Street", ["Bart Quenneville"],
     "", {"sex": "male", "race": "white", "ethnicity": "not_hispanic", "veteran_status": "veteran", "housing_status": "homeless_sheltered"}),
    ("CPD", "Esperanza", "Villalobos", "1983-08-08", "978-555-0118", "31 Sunnyside Avenue, Chelmsford MA", [],
     "Speaks Spanish at home; English is fine.",
     {"sex": "female", "race": "other", "ethnicity": "hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}),
    ("CPD", "Cornelius", "Abernathy", "1956-02-27", "978-555-0119", "", [],
     "", {"sex": "male", "race": "black", "ethnicity": "not_hispanic", "veteran_status": "unknown", "housing_status": "unknown"}),
    ("CPD", "Genevieve", "Lindqvist", "2009-10-14", "978-555-0120", "45 Hunt Road, Chelmsford MA (with parents)", [],
     "", {"sex": "female", "race": "white", "ethnicity": "not_hispanic", "veteran_status": "not_veteran", "housing_status": "housed"}),
    ("WPD", "Ignatius", "Pemberton", "1966-05-21", "978-555-0131", "7 Boston Road, Westford MA", [],
     "", {"sex": "male", "race": "white", "ethnicity": "not_hispanic", "veteran_status": "veteran", "housing_status": "housed"}),
    ("WPD", "Seraphina", "Castellanos", "1992-07-07", "978-555-0132", "Graniteville, Westford MA", ["Sera Castellanos"],
     "", {"sex": "female", "race": "white", "ethnicity": "hispanic", "veteran_status": "not_veteran", "housing_status": "unstably_housed"}),
    ("WPD", "Leopold", "Hargreaves", "1985-03-29", "978-555-0133", "", [],
     "", {"sex": "x", "race": "unknown", "ethnicity": "unknown", "veteran_status": "unknown", "housing_status": "unknown"}),
]


def seed_demo_persons(agencies: dict) -> int:
    """The demo persons, found by exact match first, so a second run adds none."""
    from datetime import date

    from clinician_app.people.services import PersonData, ensure_person

    for code, first, last, born, phone, address, aliases, notes, codes in DEMO_PERSONS:
        ensure_person(agencies[code].id, PersonData(
            first_name=first, last_name=last, date_of_birth=date.fromisoformat(born), aliases=aliases,
            phone=phone, address=address, identifying_notes=notes, **codes))
    db.session.flush()
    return len(DEMO_PERSONS)


# Fictional calls over the last 60 days: (agency code, incident number, days ago, local
# hour, address, call type, caller, indicators, cautions, caution notes, narrative,
# urgency or None when not flagged, status reached). Some share an address, as
# repeat calls do, so the prior-calls panel has something to show.
DEMO_CALLS = [
    ("CPD", "CPD-D-0001", 58, 9, "14 Pinebrook Lane", "well_being_check", "family", ["dementia"], [], "",
     "Daughter reports her mother has not answered the phone since yesterday.", "same_day", "closed"),
    ("CPD", "CPD-D-0002", 41, 22, "14 Pinebrook Ln", "well_being_check", "friend", ["dementia"], [], "",
     "Neighbour saw the resident walking outside at night without a coat.", "now", "closed"),
    ("CPD", "CPD-D-0003", 12, 15, "14 Pinebrook Lane", "disturbance", "bystander", ["dementia", "mental_health"], ["hazards"],
     "Stove left on; gas smell reported.", "Resident confused and distressed; hazard from the stove.", "now", "on_scene"),
    ("CPD", "CPD-D-0004", 33, 1, "220 Riverneck Road", "suicidal_person", "partner", ["suicidal", "intoxication"], ["weapon"],
     "Caller says there is a hunting rifle in the house.", "Partner reports statements about ending his life after drinking.",
     "now", "closed"),
    ("CPD", "CPD-D-0005", 20, 18, "220 Riverneck Rd", "domestic", "self", ["mental_health"], ["violence"],
     "History of assault on officers at this address.", "Caller reports an argument and feeling unsafe; asks for support.",
     "same_day", "assigned"),
    ("CPD", "CPD-D-0006", 7, 11, "Chelmsford Town Common", "disturbance", "bystander", ["intoxication", "substance_use"], [], "",
     "Man shouting at passers-by, appears intoxicated.", "follow_up", "triaged"),
    ("CPD", "CPD-D-0007", 3, 16, "Chelmsford Town Common", "overdose", "bystander", ["substance_use"], ["hazards"],
     "Used needles on the bench.", "Unresponsive adult; naloxone given by a bystander.", "now", "flagged"),
    ("CPD", "CPD-D-0008", 2, 8, "31 Sunnyside Avenue", "well_being_check", "professional", ["juvenile", "mental_health"], [], "",
     "School counsellor concerned about a student who did not come to school.", "same_day", "flagged"),
    ("CPD", "CPD-D-0009", 1, 13, "9 Maplewood Court", "trespass", "self", [], [], "",
     "", None, "recorded"),
    ("CPD", "CPD-D-0010", 0, 7, "45 Hunt Road", "other", "family", ["developmental_disability"], [], "",
     "Adult son with autism left home; family asks for a clinician to help on return.", "follow_up", "flagged"),
    ("WPD", "WPD-D-0001", 49, 10, "7 Boston Road", "well_being_check", "family", ["mental_health"], [], "",
     "Brother worried after missed medication appointments.", "same_day", "closed"),
    ("WPD", "WPD-D-0002", 26, 21, "7 Boston Road", "suicidal_person", "self", ["suicidal"], [], "",
     "Caller says he has thought about ending his life this week.", "now", "closed"),
    ("WPD", "WPD-D-0003", 15, 14, "Graniteville Road at Main Street", "disturbance", "bystander", ["intoxication"], ["violence"],
     "Threw a bottle at a car.", "Woman shouting in the road, appears intoxicated.", "same_day", "triaged"),
    ("WPD", "WPD-D-0004", 5, 19, "7 Boston Rd", "well_being_check", "family", ["mental_health"], [], "",
     "Family reports he has not slept for days and is talking fast.", "now", "assigned"),
    ("WPD", "WPD-D-0005", 1, 10, "Westford Academy, 30 Patten Road", "other", "professional", ["juvenile", "mental_health"], [], "",
     "Student in crisis in the nurse's office.", "now", "flagged"),
]

# Minutes after receipt at which each step of a demo call was reached.
_DEMO_STEP_MINUTES = [("flagged_at", 2), ("triaged_at", 15), ("assigned_at", 25), ("on_scene_at", 40),
                      ("first_contact_at", 45), ("closed_at", 180)]
_DEMO_STEPS_REACHED = {"flagged": 1, "triaged": 2, "assigned": 3, "on_scene": 5, "closed": 6, "recorded": 0}


def seed_demo_calls() -> int:
    """The demo calls, entered by each town's demo dispatcher through the call
    service; a call whose incident number exists is left alone. Steps after
    flagging are set directly: the triage and encounter services come later."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from clinician_app.calls.services import NewCall, create_call, find_call_by_incident

    dispatchers = {"CPD": auth_services.find_user("dispatch.chelmsford"), "WPD": auth_services.find_user("dispatch.westford")}
    now = utcnow()
    for (code, number, days_ago, hour, address, call_type, caller, indicators, cautions, caution_notes, narrative,
         urgency, status) in DEMO_CALLS:
        dispatcher = dispatchers[code]
        if find_call_by_incident(dispatcher.agency_id, number) is not None:
            continue
        zone = ZoneInfo(dispatcher.agency.timezone)
        day = (now - timedelta(days=days_ago)).astimezone(zone).date()
        received = min(datetime(day.year, day.month, day.day, hour, 5, tzinfo=zone), now - timedelta(minutes=30))
        call = create_call(dispatcher, NewCall(
            incident_number=number, received_at=received, address=address, call_type=call_type, caller_relation=caller,
            received_via="911", indicators=indicators, caution_weapon="weapon" in cautions, caution_violence="violence" in cautions,
            caution_hazards="hazards" in cautions, caution_notes=caution_notes, narrative=narrative,
            co_response=urgency is not None, urgency=urgency))
        call.status = status
        call.flagged_at = None
        for column, minutes in _DEMO_STEP_MINUTES[:_DEMO_STEPS_REACHED[status]]:
            setattr(call, column, received + timedelta(minutes=minutes))
    db.session.flush()
    return len(DEMO_CALLS)


# Demo calls linked to demo persons, and the cases they belong to:
# (agency code, first, last, incident numbers, open a case held by this clinician or None).
# Marguerite's three calls in 58 days make her a repeat contact, with an approved response plan.
DEMO_LINKS = [
    ("CPD", "Marguerite", "Oyelaran", ["CPD-D-0001", "CPD-D-0002", "CPD-D-0003"], "clinician.chelmsford"),
    ("CPD", "Desmond", "Kilbride", ["CPD-D-0006", "CPD-D-0007"], "clinician.chelmsford"),
    ("WPD", "Ignatius", "Pemberton", ["WPD-D-0001", "WPD-D-0002", "WPD-D-0004"], None),
]
DEMO_RESPONSE_PLAN = {
    "approach": "Knock and announce slowly; she startles at loud voices. Let her see your uniform through the window first.",
    "de_escalation": "Call her Maggie. Offer to sit down at the kitchen table; talking about her garden calms her.",
    "contacts": "Daughter (listed on the person record) lives 10 minutes away and can come over.",
    "officer_safety": "Check the stove and gas on arrival. Walker in the hallway: mind the trip hazard.",
}


def seed_demo_cases(agencies: dict) -> int:
    """Links the demo calls to demo persons, opens their cases and writes Marguerite's
    approved response plan. What exists is left alone, so a second run adds nothing."""
    from datetime import date

    from clinician_app.calls.services import find_call_by_incident
    from clinician_app.cases.codes import CASE_OPEN, PLAN_APPROVED
    from clinician_app.cases.models import Case, ResponsePlan
    from clinician_app.core.types import new_id
    from clinician_app.people.services import PersonData, ensure_person

    births = {(first, last): born for _code, first, last, born, *_rest in DEMO_PERSONS}
    for code, first, last, incidents, holder in DEMO_LINKS:
        person, _ = ensure_person(agencies[code].id, PersonData(
            first_name=first, last_name=last, date_of_birth=date.fromisoformat(births[(first, last)])))
        calls = [c for c in (find_call_by_incident(agencies[code].id, n) for n in incidents) if c is not None]
        for call in calls:
            call.person_id = call.person_id or person.id
        if holder is None:
            continue
        case = db.session.execute(select(Case).where(Case.person_id == person.id, Case.status == CASE_OPEN)).scalar_one_or_none()
        if case is None:
            clinician = auth_services.find_user(holder)
            case = Case(agency_id=agencies[code].id, person_id=person.id, assignee_id=clinician.id, status=CASE_OPEN,
                        opened_at=min(c.received_at for c in calls), opened_by_id=clinician.id)
            db.session.add(case)
            db.session.flush()
        for call in calls:
            call.case_id = call.case_id or case.id
    marguerite, _ = ensure_person(agencies["CPD"].id, PersonData(
        first_name="Marguerite", last_name="Oyelaran", date_of_birth=date.fromisoformat(births[("Marguerite", "Oyelaran")])))
    if db.session.execute(select(ResponsePlan.id).where(ResponsePlan.person_id == marguerite.id)).first() is None:
        writer, approver = auth_services.find_user("clinician.chelmsford"), auth_services.find_user("supervisor.chelmsford")
        now = utcnow()
        plan = ResponsePlan(id=new_id(), agency_id=agencies["CPD"].id, person_id=marguerite.id, status=PLAN_APPROVED,
                            written_by_id=writer.id, written_at=now, decided_by_id=approver.id, decided_at=now)
        for name, text in DEMO_RESPONSE_PLAN.items():
            setattr(plan, name, text)
        db.session.add(plan)
    db.session.flush()
    return sum(1 for link in DEMO_LINKS if link[4])  # the demo's cases (the same on every run)


def demo_users() -> list[User]:
    return list(db.session.execute(select(User).where(User.username.in_([u[0] for u in USERS]))).scalars())


# Each town's follow-up templates: (name, trigger kind, trigger code, windows, purpose).
DEMO_FOLLOWUP_TEMPLATES = [
    ("After a high-risk call", "risk", "high", "24h,72h,7d", "Check in after the crisis: safety and supports"),
    ("After an emergency department transport", "disposition", "voluntary_ed", "24h,7d",
     "Check in after discharge: follow-up appointment made?"),
]


def seed_demo_followups(agencies: dict) -> int:
    """Templates for every town, and one open follow-up on Casey Clinician's demo case
    due later today, so My work has something to show (the browser test works it)."""
    from datetime import timedelta

    from clinician_app.cases.models import Case
    from clinician_app.followups.models import Followup
    from clinician_app.followups.services import ensure_template

    for agency in agencies.values():
        if agency.is_bhu:
            continue
        for name, kind, code, windows, purpose in DEMO_FOLLOWUP_TEMPLATES:
            ensure_template(agency.id, name, kind, code, windows, purpose)
    clinician = auth_services.find_user("clinician.chelmsford")
    case = db.session.execute(select(Case).where(Case.assignee_id == clinician.id, Case.status == "open")
                              .order_by(Case.opened_at)).scalars().first()
    if case is not None and db.session.execute(select(Followup.id).where(Followup.case_id == case.id)).first() is None:
        now = utcnow()
        followup = Followup(agency_id=case.agency_id, case_id=case.id, assignee_id=clinician.id, window="custom",
                            anchor_at=now - timedelta(hours=20), due_at=now + timedelta(hours=1), status="open",
                            created_by_id=clinician.id, created_at=now)
        followup.purpose = "Check in after the crisis: safety and supports"
        db.session.add(followup)
    db.session.flush()
    return db.session.execute(select(func.count()).select_from(Followup)).scalar_one()


# --- community engagement (issue 10) ---------------------------------------------------

# Chelmsford's places: (name, kind, address).
DEMO_PLACES = [
    ("Chelmsford High School", "school", "200 Richardson Road"),
    ("Little Sprouts Daycare", "daycare", "12 Summer Street"),
    ("Chelmsford Street Market", "business", "120 Chelmsford Street"),
    ("Varney Playground", "park", "Varney Playground, Chelmsford Street"),
    ("Town Centre", "neighbourhood", "Chelmsford Town Common"),
]
# (place, days ago, local hour, minutes, purpose, notes)
DEMO_VISITS = [
    ("Chelmsford High School", 2, 14, 25, "Walk-through at dismissal", "Met the assistant principal by the bus loop."),
    ("Chelmsford High School", 9, 8, 15, "Arrival: crosswalk and drop-off safety", None),
    ("Little Sprouts Daycare", 5, 10, 20, "Introduced the community officer to staff", None),
    ("Chelmsford Street Market", 3, 16, 10, "Business check after shoplifting reports", "Owner asked for more patrols at closing."),
    ("Varney Playground", 1, 18, 15, "Evening park check", None),
]
DEMO_SCHOOL_CALL = "CPD-D-0011"


def seed_demo_engagement(agencies: dict) -> dict:
    """Chelmsford's places, visits by the demo officer, an event at the high school, a
    partnership with the BHU and Westford, a post, a youth academy with sessions, and
    a demo call at the high school linked to it (so its call page has an "engagement
    here" panel). Each part is added once: a second run adds nothing."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from clinician_app.calls.addresses import normalise_address
    from clinician_app.calls.services import NewCall, create_call, find_call_by_incident
    from clinician_app.engagement.models import (
        AwarenessPost,
        CommunityVisit,
        EngagementEvent,
        Place,
        RegionalPartnership,
        YouthProgram,
        YouthSession,
    )

    cpd = agencies["CPD"]
    officer = auth_services.find_user("officer.chelmsford")
    staff = auth_services.find_user("engagement.chelmsford")
    zone = ZoneInfo(cpd.timezone)
    now = utcnow()
    today = now.astimezone(zone).date()
    places = {}
    for name, kind, address in DEMO_PLACES:
        place = db.session.execute(select(Place).where(Place.agency_id == cpd.id, Place.name == name)).scalar_one_or_none()
        if place is None:
            place = Place(agency_id=cpd.id, name=name, kind=kind, address=address,
                          address_key=normalise_address(address), created_by_id=staff.id)
            db.session.add(place)
            db.session.flush()
        places[name] = place
    school = places["Chelmsford High School"]
    if db.session.execute(select(CommunityVisit.id).where(CommunityVisit.agency_id == cpd.id)).first() is None:
        for name, days_ago, hour, minutes, purpose, notes in DEMO_VISITS:
            day = today - timedelta(days=days_ago)
            started = min(datetime(day.year, day.month, day.day, hour, 0, tzinfo=zone), now - timedelta(hours=1))
            visit = CommunityVisit(agency_id=cpd.id, place_id=places[name].id, kind=places[name].kind,
                                   started_at=started, duration_minutes=minutes, purpose=purpose,
                                   created_by_id=officer.id)
            visit.notes = notes
            visit.officers = [officer]
            db.session.add(visit)
    if db.session.execute(select(EngagementEvent.id).where(EngagementEvent.agency_id == cpd.id)).first() is None:
        event = EngagementEvent(agency_id=cpd.id, kind="seminar", title="Online safety night for parents",
                                topic="Social media, scams and sextortion: what parents can do",
                                held_on=today - timedelta(days=6), place_id=school.id,
                                partners="Town of Chelmsford; Chelmsford Public Schools", attendance=64,
                                materials="Slides; handout on reporting scams", created_by_id=staff.id)
        event.officers = [officer, staff]
        db.session.add(event)
    if db.session.execute(select(RegionalPartnership.id).where(RegionalPartnership.agency_id == cpd.id)).first() is None:
        partnership = RegionalPartnership(
            agency_id=cpd.id, kind="regional_response", title="Regional crisis response with the BHU",
            other_partners="Middlesex District Attorney's Office", started_on=today - timedelta(days=200),
            description="Shared approach to behavioral health calls across the partner towns.",
            outcomes="Common call-flagging criteria; joint training for dispatchers.", created_by_id=staff.id)
        partnership.partner_agencies = [agencies["BHU"], agencies["WPD"]]
        db.session.add(partnership)
    if db.session.execute(select(AwarenessPost.id).where(AwarenessPost.agency_id == cpd.id)).first() is None:
        db.session.add(AwarenessPost(agency_id=cpd.id, platform="facebook", posted_on=today - timedelta(days=4),
                                     topic="prevention", title="Lock your car: a rise in thefts from vehicles",
                                     url="https://www.facebook.com/ChelmsfordPolice", reach=2300,
                                     created_by_id=staff.id))
    program = db.session.execute(select(YouthProgram).where(YouthProgram.agency_id == cpd.id)).scalars().first()
    if program is None:
        program = YouthProgram(agency_id=cpd.id, program="academy", title=f"Youth Police Academy {today.year}",
                               description="A week of sessions on what police officers do.", created_by_id=staff.id)
        db.session.add(program)
        db.session.flush()
        for days_ago, activity, counts in ((12, "Day 1: patrol and the radio", (6, 9, 4)),
                                           (11, "Day 2: K-9 demonstration", (7, 9, 5))):
            session = YouthSession(agency_id=cpd.id, program_id=program.id, held_on=today - timedelta(days=days_ago),
                                   activity=activity, place_id=school.id, participants_8_10=counts[0],
                                   participants_11_13=counts[1], participants_14_17=counts[2], created_by_id=staff.id)
            session.officers = [officer]
            db.session.add(session)
    dispatcher = auth_services.find_user("dispatch.chelmsford")
    call = find_call_by_incident(cpd.id, DEMO_SCHOOL_CALL)
    if call is None:
        call = create_call(dispatcher, NewCall(
            incident_number=DEMO_SCHOOL_CALL, received_at=now - timedelta(hours=3), address="200 Richardson Rd",
            call_type="well_being_check", caller_relation="professional", received_via="business_line",
            indicators=["juvenile", "mental_health"],
            narrative="Guidance counsellor reports a student talking about not wanting to be here.",
            co_response=True, urgency="same_day"))
        call.place_id = school.id
    db.session.flush()
    return {"places": len(DEMO_PLACES), "visits": len(DEMO_VISITS), "school_call": DEMO_SCHOOL_CALL}


# --- referrals (issue 9): the service directory, a consent and a pending referral -------------

# (name, kind, description, phone, address, website, hours, towns served or None for every town)
DEMO_SERVICES = [
    ("988 Suicide & Crisis Lifeline", "crisis_line", "Call or text 988 for free, confidential support, any time.",
     "988", "", "https://988lifeline.org", "24 hours, every day", None),
    ("Massachusetts Behavioral Health Help Line", "crisis_line",
     "Finds mental health and substance use treatment; connects to mobile crisis.", "833-773-2445", "",
     "https://www.masshelpline.com", "24 hours, every day", None),
    ("Greater Lowell Community Behavioral Health Center", "cbhc",
     "Urgent and routine outpatient care, 24/7 mobile crisis intervention for adults and youth.",
     "978-555-0140", "60 Merrimack Street, Lowell MA", "", "Walk-in 8am-8pm; crisis 24 hours", ["CPD", "BPD", "WPD", "TPD"]),
    ("Merrimack Valley Mobile Crisis Team", "mobile_crisis", "Clinicians come to the person, at home or in the community.",
     "978-555-0141", "", "", "24 hours, every day", None),
    ("Chelmsford Street Detox", "detox", "Medically monitored withdrawal management (acute treatment services).",
     "978-555-0142", "12 Chelmsford Street, Lowell MA", "", "Admissions 24 hours", None),
    ("Riverside Outpatient Recovery Services", "outpatient",
     "Outpatient counselling and medication for opioid use disorder.", "978-555-0143",
     "250 Boston Road, Billerica MA", "", "Mon-Fri 8am-6pm", ["CPD", "BPD", "CARPD"]),
    ("Mill City Recovery Coaches", "recovery_coach", "Peer recovery coaches who have been there; same-week meetings.",
     "978-555-0144", "33 Central Street, Lowell MA", "", "Mon-Sat 9am-5pm", None),
    ("Nashoba Valley Housing Resource Center", "housing", "Emergency shelter placement, rental help and housing search.",
     "978-555-0145", "5 Main Street, Westford MA", "", "Mon-Fri 9am-4pm", ["WPD", "CARPD", "TPD"]),
    ("Lowell Transitional Living Center", "housing", "Emergency shelter for adults; meals and case management.",
     "978-555-0146", "193 Middlesex Street, Lowell MA", "", "Intake 24 hours", ["CPD", "BPD", "TPD"]),
    ("Elder Services of the Merrimack Valley", "elder", "Protective services, home care and caregiver support for older adults.",
     "978-555-0147", "280 Merrimack Street, Lawrence MA", "", "Mon-Fri 8:30am-4:30pm; elder abuse hotline 24 hours", None),
    ("Chelmsford Community Health Center", "cmhc", "Mental health counselling and psychiatric care for all ages.",
     "978-555-0148", "2 Summer Street, Chelmsford MA", "", "Mon-Thu 8am-8pm, Fri 8am-5pm", ["CPD"]),
]
DEMO_CONSENT_PURPOSE = "To arrange substance use treatment and crisis follow-up with the regional BHU"
DEMO_REFERRAL_REASON = "Two overdose-related calls in a week; asks for help with treatment and a place to stay."


def seed_demo_referrals(agencies: dict) -> dict:
    """The service directory, Desmond's consent to share with the BHU (substance use
    included) and one pending referral from Chelmsford to the BHU under it, so the
    BHU liaison's inbox is not empty. What exists is left alone."""
    from datetime import date, timedelta

    from clinician_app.cases.models import Case
    from clinician_app.people.services import PersonData, ensure_person
    from clinician_app.referrals import consents as referral_consents
    from clinician_app.referrals import directory as referral_directory
    from clinician_app.referrals import services as referral_services
    from clinician_app.referrals.models import Consent, Referral

    for name, kind, description, phone, address, website, hours, towns in DEMO_SERVICES:
        referral_directory.ensure_service(referral_directory.ServiceData(
            name=name, kind=kind, description=description, phone=phone, address=address, website=website, hours=hours,
            serves_all_towns=towns is None, town_ids=[agencies[c].id for c in towns or []]))
    births = {(first, last): born for _code, first, last, born, *_rest in DEMO_PERSONS}
    desmond, _ = ensure_person(agencies["CPD"].id, PersonData(
        first_name="Desmond", last_name="Kilbride", date_of_birth=date.fromisoformat(births[("Desmond", "Kilbride")])))
    clinician = auth_services.find_user("clinician.chelmsford")
    consent = db.session.execute(select(Consent).where(Consent.person_id == desmond.id)).scalars().first()
    if consent is None:
        today = utcnow().date()
        consent = referral_consents.create_consent(clinician, desmond.id, referral_consents.NewConsent(
            recipient_kind="agency", recipient_agency_id=agencies["BHU"].id,
            categories=["identity", "mental_health", "safety", "substance_use"], purpose=DEMO_CONSENT_PURPOSE,
            expires_on=today + timedelta(days=365), signed_on=today - timedelta(days=3), signed_method="written"))
    case = db.session.execute(select(Case).where(Case.person_id == desmond.id, Case.status == "open")).scalars().first()
    if case is not None and db.session.execute(select(Referral.id).where(Referral.case_id == case.id)).first() is None:
        referral_services.send_agency_referral(clinician, case.id, referral_services.NewAgencyReferral(
            to_agency_id=agencies["BHU"].id, reason=DEMO_REFERRAL_REASON, risk_level="high", cautions=["hazards"],
            caution_notes="Used needles found near where he sleeps.", requested_action="take_over",
            summary_text="Engages well with the clinician; prefers mornings. Open to detox.", includes_part2=True,
            basis="consent", consent_id=consent.id))
    db.session.flush()
    return {"services": len(DEMO_SERVICES)}


# --- reports (issue 11) ------------------------------------------------------------------

# Encounters on the demo's closed calls, so a month's report has dispositions and
# diversions to show: (incident number, kind, minutes after receipt, minutes long,
# disposition code, point of intervention, custody diverted, jail diversion an option,
# emergency department visit prevented, charges considered as (charge, diverted)).
DEMO_ENCOUNTERS = [
    ("CPD-D-0001", "on_scene", 45, 50, "resolved_on_scene", "non_criminal", None, None, True, []),
    ("CPD-D-0002", "on_scene", 45, 35, "cbhc_evaluation", "non_criminal", None, None, True, []),
    ("CPD-D-0004", "on_scene", 45, 90, "voluntary_ed", "pre_arrest", True, True, False,
     [("Threatening to commit a crime", True)]),
    ("WPD-D-0001", "phone", 45, 20, "outpatient_connection", "non_criminal", None, None, None, []),
    ("WPD-D-0002", "on_scene", 45, 60, "arrest_diverted", "pre_arrest", True, True, True,
     [("Disorderly conduct", True), ("Resisting arrest", False)]),
]


def seed_demo_encounters() -> int:
    """An encounter on each of the demo's closed calls, recorded by the town's demo
    clinician; a call that has one already is left alone."""
    from datetime import timedelta

    from clinician_app.calls.services import find_call_by_incident
    from clinician_app.cases.models import Disposition, Encounter, EncounterCharge

    clinicians = {"CPD": auth_services.find_user("clinician.chelmsford"),
                  "WPD": auth_services.find_user("clinician.westford")}
    added = 0
    for (number, kind, after, minutes, code, point, custody, jail, ed, charges) in DEMO_ENCOUNTERS:
        clinician = clinicians[number.split("-")[0]]
        call = find_call_by_incident(clinician.agency_id, number)
        if call is None or db.session.execute(select(Encounter.id).where(Encounter.call_id == call.id)).first():
            continue
        disposition = db.session.execute(select(Disposition).where(Disposition.code == code)).scalar_one()
        started = call.received_at + timedelta(minutes=after)
        encounter = Encounter(call_id=call.id, agency_id=call.agency_id, kind=kind, started_at=started,
                              ended_at=started + timedelta(minutes=minutes), disposition_id=disposition.id,
                              point_of_intervention=point, custody_diverted=custody, jail_diversion_option=jail,
                              ed_visit_prevented=ed, created_by_id=clinician.id, created_at=started)
        for position, (charge, diverted) in enumerate(charges):
            encounter.charges.append(EncounterCharge(position=position, charge=charge, diverted=diverted))
        db.session.add(encounter)
        added += 1
    db.session.flush()
    return len(DEMO_ENCOUNTERS)
