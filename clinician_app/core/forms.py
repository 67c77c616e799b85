"""Helpers shared by every domain's forms."""
from .errors import ValidationError


def apply_service_errors(form, exc: ValidationError) -> str | None:
    """Put a service's field errors next to their fields, so the page re-renders
    with what was typed; return whatever has no field, for the summary."""
    unplaced = []
    for name, messages in exc.fields.items():
        # A list field's errors belong to its entries, not to the list itself.
        if name in form and form[name].type != "FieldList":
            form[name].errors = [*form[name].errors, *[m for m in messages if m not in form[name].errors]]
        else:
            unplaced.extend(messages)
    if unplaced or not exc.fields:
        return " ".join(unplaced) or exc.message
    return None
