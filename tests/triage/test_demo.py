"""The demo seed: routing rules per town, on-call shifts covering now, and the
suggestion they give."""
import json

from clinician_app.agencies.roster import on_duty_now
from clinician_app.auth.services import find_user
from clinician_app.triage.routing import town_rules


def test_seed_demo_routing_is_idempotent_and_puts_clinicians_on_call(app):
    first = json.loads(app.test_cli_runner().invoke(args=["seed-demo", "--json"]).output)
    second = json.loads(app.test_cli_runner().invoke(args=["seed-demo", "--json"]).output)
    assert first["routing"] == second["routing"]
    assert first["routing"]["on_call"] == ["clinician.bhu", "clinician.chelmsford"]
    chelmsford = find_user("clinician.chelmsford")
    assert [u.username for u in on_duty_now(chelmsford.agency_id)] == ["clinician.chelmsford"]
    rules = town_rules(chelmsford.agency_id)
    assert [r.priority for r in rules] == [10, 20, 30, 40] and all(r.description for r in rules)
