"""Field rules shared by the person form and the person service (the service is
the authority; the form repeats them so every error shows on the first submit).

Messages never quote the value: they may reach logs or API replies."""
from __future__ import annotations

import re
from datetime import date

from .models import EARLIEST_BIRTH

_PHONE = re.compile(r"\+?[0-9().\- ]+(?: ?(?:x|ext\.?) ?[0-9]{1,6})?", re.IGNORECASE)


def date_of_birth_problem(value: date | None, today: date) -> str | None:
    if value is None:
        return "Enter the date of birth."
    if value > today:
        return "The date of birth can't be in the future."
    if value < EARLIEST_BIRTH:
        return f"Enter a date of birth after {EARLIEST_BIRTH.year}."
    return None


def phone_problem(value: str) -> str | None:
    if not value:
        return None
    number = re.split(r"(?i)\s*(?:x|ext\.?)\s*", value, maxsplit=1)[0]  # without the extension
    digits = sum(c.isdigit() for c in number)
    if not _PHONE.fullmatch(value) or not 7 <= digits <= 15:
        return "Enter a phone number of 7 to 15 digits, for example 978-555-0100."
    return None
