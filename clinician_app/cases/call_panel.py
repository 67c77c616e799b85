"""What the call page shows about the call's person, case and response plan:
a service, so the person read it audits happens in the same place for every caller."""
from __future__ import annotations

from clinician_app.core import audit
from clinician_app.core.policy import Permission, has_permission
from clinician_app.extensions import db
from clinician_app.people import services as people_services

from . import case_services, response_plans
from .policies import may_record_encounter
from .repeat_contacts import repeat_contact


def call_panel(actor, call) -> dict:
    """What the call page shows about the person and case. Dispatchers and officers
    get the approved response plan only; clinical staff also get the person's name
    (an audited read), the case and the repeat-contact flag. The caller commits."""
    panel = {"plan": response_plans.approved_plan_for_call(actor, call), "person": None, "case": None,
             "open_cases": [], "repeat": None, "can_link": False}
    if has_permission(actor, Permission.PERSONS_READ) and has_permission(actor, Permission.CASES_READ):
        panel["can_link"] = has_permission(actor, Permission.CASES_WRITE) and may_record_encounter(actor, call)
        if call.person_id:
            person = db.session.get(people_services.Person, call.person_id)
            if person is not None and person.agency_id == actor.agency_id:
                audit.record_at_commit("person.read", actor=actor, record_type="person", record_id=person.id,
                             details={"view": "call"})
                panel["person"] = person
                panel["repeat"] = repeat_contact(person.id)
                panel["open_cases"] = case_services.open_cases_of(actor, person.id)
        if call.case_id:
            panel["case"] = db.session.get(case_services.Case, call.case_id)
    return panel
