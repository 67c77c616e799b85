"""A hand-built fixture month (March 2025, New York: DST starts on the 9th) for the
report tests. Every record is listed below as plain data; the tests compute the
expected figures from these lists with plain Python, not with the report's code.

Identifying values (names, date of birth, narratives, notes, addresses, incident
numbers, charges are not identifying) are sentinels: the de-identified extracts
must contain none of them, and the suite fails if one reaches a log.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clinician_app.cases.break_glass_models import BreakGlassGrant
from clinician_app.cases.models import Disposition, Encounter, EncounterCharge
from clinician_app.extensions import db
from clinician_app.followups.models import Followup
from clinician_app.triage.models import Triage
from tests.calls.factories import make_call
from tests.cases.note_factories import make_case, sentinel
from tests.people.factories import make_person

NY = ZoneInfo("America/New_York")
MONTH = (2025, 3)


def local(y, m, d, hh=12, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NY)


def in_march(moment: datetime) -> bool:
    """The test's own month rule: the local calendar month in New York."""
    return (moment.astimezone(NY).year, moment.astimezone(NY).month) == MONTH


@dataclass
class Fixture:
    calls: list[dict] = field(default_factory=list)  # specs: town, received, flagged, contact_minutes, person
    encounters: list[dict] = field(default_factory=list)
    followups: list[dict] = field(default_factory=list)
    triages: list[dict] = field(default_factory=list)
    grants: list[dict] = field(default_factory=list)
    referrals: list[dict] = field(default_factory=list)
    identifying: list[str] = field(default_factory=list)
    objects: dict = field(default_factory=dict)


def _disposition(code: str) -> Disposition:
    return db.session.execute(select(Disposition).where(Disposition.code == code)).scalar_one()


def build_fixture(agencies, author) -> Fixture:
    """Town A's March 2025, with records just outside it, and town B's noise."""
    fx = Fixture()
    a, b = agencies["A"], agencies["B"]
    first = f"Zebulon{secrets.token_hex(2)}"
    last = f"Quintavalle{secrets.token_hex(2)}"
    SENTINEL_DOB = date(1971, 4, 23)
    fx.identifying += [first, last, SENTINEL_DOB.isoformat(), SENTINEL_DOB.strftime("%m/%d/%Y"), "1971"]
    p1 = make_person(a.id, first, last, born=SENTINEL_DOB, sex="male", race="white", ethnicity="not_hispanic",
                     veteran_status="veteran", housing_status="homeless_sheltered")
    p2 = make_person(a.id, born=date(2001, 1, 1))
    p3 = make_person(a.id, born=date(1950, 6, 30), sex="female")
    persons = {"p1": p1, "p2": p2, "p3": p3}

    # (name, town, received local, flagged?, minutes flag -> first contact or None, person)
    specs = [
        ("c1", a, local(2025, 3, 1, 0, 30), True, 10, "p3"),  # 05:30 UTC on the 1st: March
        ("c2", a, local(2025, 3, 10, 9, 0), True, 30, "p1"),  # after the DST change
        ("c3", a, local(2025, 3, 15, 14, 0), True, 45, "p2"),
        ("c4", a, local(2025, 3, 20, 8, 0), True, 60, "p3"),
        ("c5", a, local(2025, 3, 31, 23, 30), True, 120, None),  # 03:30 UTC on 1 April: still March
        ("c6", a, local(2025, 3, 12, 16, 0), True, None, "p3"),
        ("c7", a, local(2025, 3, 13, 10, 0), False, None, None),
        ("feb", a, local(2025, 2, 28, 23, 30), True, 5, None),  # 04:30 UTC on 1 March: February
        ("apr", a, local(2025, 4, 1, 0, 15), True, 7, None),
        ("p1_jan", a, local(2025, 1, 20), False, None, "p1"),
        ("p1_feb", a, local(2025, 2, 15), False, None, "p1"),
        ("p2_nov", a, local(2024, 11, 1), False, None, "p2"),
        ("p2_feb", a, local(2025, 2, 1), False, None, "p2"),
        ("b1", b, local(2025, 3, 5), True, 15, None),
        ("b2", b, local(2025, 3, 6), True, 25, None),
    ]
    calls = {}
    for name, town, received, flagged, contact, person in specs:
        narrative = sentinel("narrative")
        caution = sentinel("caution")
        incident = f"INC-{secrets.token_hex(4).upper()}"
        address = f"{secrets.randbelow(900) + 100} Sentinel{secrets.token_hex(2)} Street"
        fx.identifying += [narrative, caution, incident, address]
        call = make_call(town.id, incident_number=incident, received_at=received, address=address,
                         narrative=narrative, caution_notes=caution, co_response=flagged,
                         urgency="now" if flagged else None,
                         indicators=["mental_health", "substance_use"] if name == "c2" else ["mental_health"])
        call.flagged_at = received + timedelta(minutes=2) if flagged else None
        call.first_contact_at = call.flagged_at + timedelta(minutes=contact) if contact is not None else None
        call.person_id = persons[person].id if person else None
        calls[name] = call
        fx.calls.append({"name": name, "town": town.id, "received": received, "flagged": flagged,
                         "contact": contact, "person": person})
    db.session.flush()
    fx.objects["calls"] = calls

    # (call, kind, started local, disposition, custody diverted, jail option, ED prevented, charges)
    enc_specs = [
        ("c1", "on_scene", local(2025, 3, 1, 1, 0), "resolved_on_scene", True, True, None, [("Disorderly conduct", True)]),
        ("c2", "phone", local(2025, 3, 10, 9, 40), "referred", False, None, True, []),
        ("c3", "on_scene", local(2025, 3, 15, 15, 0), "arrest_diverted", True, True, False,
         [("Trespass", True), ("Disorderly conduct", False)]),
        ("c4", "outreach", local(2025, 3, 21, 10, 0), "voluntary_ed", None, None, False, []),
        ("c5", "on_scene", local(2025, 4, 1, 0, 10), "resolved_on_scene", True, None, None, []),  # April
        ("feb", "on_scene", local(2025, 3, 1, 0, 5), "arrest", False, False, False, []),  # March encounter, Feb call
        ("b1", "on_scene", local(2025, 3, 5, 13, 0), "detox", False, None, True, []),
    ]
    encounters = {}
    for call_name, kind, started, code, custody, jail, ed, charges in enc_specs:
        call = calls[call_name]
        encounter = Encounter(call_id=call.id, agency_id=call.agency_id, kind=kind, started_at=started,
                              ended_at=started + timedelta(minutes=40), disposition_id=_disposition(code).id,
                              point_of_intervention="pre_arrest" if charges else "non_criminal",
                              custody_diverted=custody, jail_diversion_option=jail, ed_visit_prevented=ed,
                              created_by_id=author.id)
        note = sentinel("encounter-note")
        fx.identifying.append(note)
        encounter.note = note
        for position, (charge, diverted) in enumerate(charges):
            encounter.charges.append(EncounterCharge(position=position, charge=charge, diverted=diverted))
        db.session.add(encounter)
        encounters[call_name] = encounter
        town = next(s["town"] for s in fx.calls if s["name"] == call_name)
        fx.encounters.append({"call": call_name, "town": town, "kind": kind, "started": started, "code": code,
                              "diversion": _disposition(code).counts_as_diversion, "custody": custody,
                              "jail": jail, "ed": ed, "charges": charges})
    db.session.flush()
    fx.objects["encounters"] = encounters

    # Follow-ups: (agency of the case, encounter or None, due local, status, done within window)
    case_a = make_case(a.id, assignee=author)
    case_bhu = make_case(agencies["BHU"].id, assignee=author)
    case_b = make_case(b.id, assignee=author)
    fu_specs = [
        (case_a, None, local(2025, 3, 5), "done", True),
        (case_a, None, local(2025, 3, 6), "done", False),
        (case_a, None, local(2025, 3, 7), "open", None),  # past due, still open
        (case_a, None, local(2025, 3, 8), "cancelled", None),
        (case_a, None, local(2025, 2, 27), "done", True),  # February
        (case_bhu, "c1", local(2025, 3, 20), "done", True),  # the BHU's case, on town A's call
        (case_b, None, local(2025, 3, 9), "done", True),  # town B
    ]
    for index, (case, enc_name, due, status, within) in enumerate(fu_specs):
        followup = Followup(agency_id=case.agency_id, case_id=case.id,
                            encounter_id=encounters[enc_name].id if enc_name else None,
                            assignee_id=author.id, window=f"{index + 1}h", anchor_at=due - timedelta(hours=24),
                            due_at=due, status=status, done_within_window=within,
                            completed_at=due if status == "done" else None, created_by_id=author.id)
        followup.purpose = sentinel("purpose")
        fx.identifying.append(followup.purpose)
        db.session.add(followup)
        town = calls[enc_name].agency_id if enc_name else case.agency_id
        fx.followups.append({"town": town, "due": due, "status": status, "within": within})

    # Triages: (call, created local, route, outside service, suggested route, suggested outside service)
    tr_specs = [
        ("c1", local(2025, 3, 1, 0, 40), "department", None, "department", None),
        ("c2", local(2025, 3, 10, 9, 10), "bhu", None, "department", None),
        ("c3", local(2025, 3, 15, 14, 10), "outside", "988", "outside", "211"),
        ("apr", local(2025, 4, 2), "bhu", None, "department", None),
        ("b1", local(2025, 3, 5), "bhu", None, "department", None),
    ]
    for call_name, created, route, outside, suggested, suggested_outside in tr_specs:
        db.session.add(Triage(call_id=calls[call_name].id, screen_risk="low", risk_level="low", acuity="urgent",
                              route=route, outside_service=outside, suggested_route=suggested,
                              suggested_outside_service=suggested_outside, suggestion_reason="rule",
                              created_by_id=author.id, created_at=created))
        town = calls[call_name].agency_id
        fx.triages.append({"town": town, "created": created,
                           "override": (route, outside) != (suggested, suggested_outside)})

    # Break-glass grants: (owning agency, granted local, review outcome)
    bg_specs = [(a, local(2025, 3, 3), "inappropriate"), (a, local(2025, 3, 25), None),
                (a, local(2025, 2, 25), "appropriate"), (b, local(2025, 3, 3), None)]
    for owner, granted, outcome in bg_specs:
        case = make_case(owner.id)
        grant = BreakGlassGrant(user_id=author.id, case_id=case.id, person_id=case.person_id, agency_id=owner.id,
                                reason_code="imminent_risk", granted_at=granted,
                                expires_at=granted + timedelta(hours=1),
                                reviewed_at=granted + timedelta(days=1) if outcome else None,
                                reviewed_by_id=author.id if outcome else None, review_outcome=outcome)
        grant.reason_text = sentinel("reason")
        db.session.add(grant)
        fx.grants.append({"town": owner.id, "granted": granted, "outcome": outcome})
    db.session.flush()

    # Referrals: (from agency, case, service kind or None for a transfer to an agency, status, sent local)
    from clinician_app.referrals.models import Referral, ServiceEntry

    services = {}
    for kind in ("cbhc", "detox"):
        services[kind] = ServiceEntry(name=f"Bench {kind} {secrets.token_hex(2)}", kind=kind)
        db.session.add(services[kind])
    db.session.flush()
    calls["c2"].case_id = case_a.id  # the phone encounter's referral (within 7 days after it)
    ref_specs = [
        (a, case_a, "cbhc", "scheduled", local(2025, 3, 4)),
        (a, case_a, "cbhc", "declined", local(2025, 3, 10, 12, 0)),
        (a, case_a, None, "accepted", local(2025, 3, 12)),
        (a, case_a, None, "pending", local(2025, 3, 20)),
        (a, case_a, "detox", "attended", local(2025, 2, 20)),  # February
        (b, case_b, "cbhc", "scheduled", local(2025, 3, 4)),  # town B
    ]
    for owner, case, kind, status, sent in ref_specs:
        db.session.add(Referral(kind="service" if kind else "agency", from_agency_id=owner.id, case_id=case.id,
                                person_id=case.person_id, to_agency_id=None if kind else agencies["BHU"].id,
                                service_id=services[kind].id if kind else None, status=status,
                                sent_by_id=author.id, sent_at=sent))
        fx.referrals.append({"town": owner.id, "kind": kind or "agency", "status": status, "sent": sent})
    db.session.flush()
    return fx


def to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
