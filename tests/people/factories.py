"""Person factories for the people tests and the authorization matrix, and the
demo persons' identifying values registered as sentinels: the suite fails at the
end if any of them reaches a log."""
from __future__ import annotations

import secrets
from datetime import date

from clinician_app.demo import DEMO_PERSONS
from tests.conftest import SENTINELS


def demo_identifying_values() -> list[str]:
    """Names, dates of birth (as stored and as typed in the US) and phone numbers."""
    values = []
    for _code, first, last, born, phone, _address, aliases, _notes, _codes in DEMO_PERSONS:
        day = date.fromisoformat(born)
        values += [first, last, born, day.strftime("%m/%d/%Y"), phone, phone.replace("-", ""), *aliases]
    return values


SENTINELS.update(demo_identifying_values())


def make_person(agency_id: str, first: str | None = None, last: str | None = None,
                born: date = date(1980, 5, 17), **fields):
    """A person stored through the encryption layer, without an acting user (the
    seed path), so factories work for any role under test."""
    from clinician_app.people.services import PersonData, ensure_person

    person, _created = ensure_person(agency_id, PersonData(
        first_name=first or f"Test{secrets.token_hex(3)}", last_name=last or f"Person{secrets.token_hex(3)}",
        date_of_birth=born, **fields))
    return person


def make_merge(agency_id: str):
    """A merge record (survivor, duplicate) in one agency, as the merge service leaves it."""
    from clinician_app.core.timeutil import utcnow
    from clinician_app.core.types import new_id
    from clinician_app.extensions import db
    from clinician_app.people.models import PersonMerge

    survivor, duplicate = make_person(agency_id), make_person(agency_id)
    duplicate.merged_into_id, duplicate.merged_at = survivor.id, utcnow()
    merge = PersonMerge(id=new_id(), agency_id=agency_id, survivor_id=survivor.id, merged_id=duplicate.id,
                        reason="duplicate_entry", summary={"filled_fields": [], "added_alias_ids": [], "moved": {}})
    db.session.add(merge)
    db.session.flush()
    return merge
