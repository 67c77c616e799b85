"""Forms for case notes, addenda, break-the-glass requests and their review. They
parse what was typed; the services check again and say what is wrong."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, TextAreaField

from .break_glass_models import BREAK_GLASS_REASONS, REVIEW_OUTCOMES
from .note_models import NOTE_KINDS, SENSITIVITIES, SENSITIVITY_NORMAL

# Lengths and "required" are checked by the services (one message, one place), so
# a mistake re-renders the form with everything typed still there.


class NoteForm(FlaskForm):
    kind = RadioField("Type of note", choices=list(NOTE_KINDS.items()), validate_choice=False)
    sensitivity = RadioField("Sensitivity", choices=list(SENSITIVITIES.items()), default=SENSITIVITY_NORMAL,
                             validate_choice=False)
    body = TextAreaField("Note")


class AddendumForm(FlaskForm):
    body = TextAreaField("Addendum")
    part2 = BooleanField("This addendum holds substance-use information (42 CFR Part 2)")


class BreakGlassForm(FlaskForm):
    reason_code = SelectField("Reason", choices=[("", "- Choose -"), *BREAK_GLASS_REASONS.items()],
                              validate_choice=False)
    reason_text = TextAreaField("Why you need this record now")


class ReviewForm(FlaskForm):
    outcome = RadioField("Was the access appropriate?", choices=list(REVIEW_OUTCOMES.items()), validate_choice=False)
    comment = TextAreaField("Comment")
