"""Rules about one person record, checked by the services after loading it.
No Flask here: the API and CLI reach the same rules."""
from __future__ import annotations

from clinician_app.core.errors import Conflict, NotFound, ValidationError


def check_editable(person) -> None:
    if person.is_merged:
        raise Conflict("This record was merged into another one. Edit the surviving record instead.")


def check_mergeable(survivor, duplicate) -> None:
    if survivor.id == duplicate.id:
        raise ValidationError("A record can't be merged into itself.",
                              fields={"other": ["Choose a different record to merge."]})
    if survivor.agency_id != duplicate.agency_id:
        # Records are scoped to one agency; another agency's record is not found, not refused.
        raise NotFound("That record was not found.")
    if survivor.is_merged:
        raise Conflict("This record was itself merged into another one; merge into the surviving record.")
    if duplicate.is_merged:
        raise Conflict("That record was already merged into another one.")


def check_unmergeable(merge, duplicate) -> None:
    if merge.undone_at is not None:
        raise Conflict("This merge was already undone.")
    if duplicate.merged_into_id != merge.survivor_id:
        raise Conflict("The merged record has changed since; this merge can't be undone.")
