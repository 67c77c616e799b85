"""core/text.py: the one check of typed text the services share."""
from __future__ import annotations

import pytest

from clinician_app.core.text import clean_text, has_control_characters


def check(value, **options):
    errors: dict[str, list[str]] = {}
    return clean_text(value, 10, "field", errors, **options), errors.get("field")


def test_text_is_stripped_and_blank_is_fine_unless_required():
    assert check("  hello \n") == ("hello", None)
    assert check("   ") == ("", None)
    assert check(None) == ("", None)
    assert check("  ", required="Enter it.") == ("", ["Enter it."])
    assert check(None, required="Enter it.") == ("", ["Enter it."])


def test_too_long_names_the_limit_or_uses_the_callers_message():
    assert check("x" * 11) == ("x" * 11, ["Use at most 10 characters."])
    assert check(" " + "x" * 10 + " ") == ("x" * 10, None)
    assert check("x" * 12, too_long="At most {limit} ({length} typed).") == ("x" * 12, ["At most 10 (12 typed)."])


def test_line_breaks_are_allowed_only_in_multiline_text():
    assert check("a\nb\tc") == ("a\nb\tc", None)
    assert check("a\nb", multiline=False) == ("a\nb", ["Remove the control characters."])
    assert check("a\x00b") == ("a\x00b", ["Remove the control characters."])
    assert check("a\x1bb", multiline=False) == ("a\x1bb", ["Remove the control characters."])


def test_one_problem_per_field_blank_first_then_length_then_control_characters():
    assert check("\x00" * 11) == ("\x00" * 11, ["Use at most 10 characters."])


def test_a_value_that_is_not_text_is_blank_unless_the_caller_refuses_it():
    assert check(42) == ("", None)
    assert check(42, required="Enter it.") == ("", ["Enter it."])
    assert check(42, not_text="Enter text.") == ("", ["Enter text."])
    assert check(None, not_text="Enter text.") == ("", None)


@pytest.mark.parametrize(("value", "multiline", "found"), [
    ("plain", False, False), ("a\nb", False, True), ("a\nb\r\n\tc", True, False),
    ("a\x07b", True, True), ("a\x7fb", True, True), ("a\u0085b", True, True), ("Zoë 名前", False, False),
])
def test_has_control_characters(value, multiline, found):
    assert has_control_characters(value, multiline=multiline) is found
