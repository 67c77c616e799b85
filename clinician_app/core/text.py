"""Checking typed text in services: strip it, then at most one problem per field
(blank but required, too long, control characters) into ``errors[name]``, the
shape ``ValidationError(fields=errors)`` takes.

    errors: dict[str, list[str]] = {}
    reason = clean_text(data.reason, REASON_MAX, "reason", errors, required="Give the reason.")
    title = clean_text(data.title, TITLE_MAX, "title", errors, multiline=False)

Messages never quote the value: they may reach logs or API replies.
"""
from __future__ import annotations

import unicodedata

TOO_LONG = "Use at most {limit} characters."
CONTROL_CHARACTERS = "Remove the control characters."


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    """Any control character; with ``multiline``, line breaks and tabs are allowed."""
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)


def clean_text(value, limit: int, name: str, errors: dict, *, required: str | None = None,
               multiline: bool = True, too_long: str = TOO_LONG, not_text: str | None = None) -> str:
    """The stripped text ("" for None or anything not a string).

    ``required``: the message when it is blank. ``multiline``: line breaks and tabs
    are allowed (free text); single-line fields pass False. ``too_long`` is
    formatted with ``limit`` and ``length``. ``not_text``: the message for a value
    that is neither None nor a string (API input); without it such a value counts
    as blank."""
    if not_text is not None and value is not None and not isinstance(value, str):
        errors[name] = [not_text]
        return ""
    text = value.strip() if isinstance(value, str) else ""
    if not text and required:
        errors[name] = [required]
    elif len(text) > limit:
        errors[name] = [too_long.format(limit=limit, length=len(text))]
    elif has_control_characters(text, multiline=multiline):
        errors[name] = [CONTROL_CHARACTERS]
    return text
