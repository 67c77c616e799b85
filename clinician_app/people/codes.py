"""Coded, non-identifying person fields that reports count, and the age band.

They stay in clear because a code (``veteran``, ``homeless_unsheltered``) does
not say who someone is; the date of birth is encrypted, so age is derived from
it as a band only when a report or a page needs it.
"""
from __future__ import annotations

from datetime import date

UNKNOWN = "unknown"

SEX = {
    "female": "Female",
    "male": "Male",
    "x": "Non-binary or another sex",
    UNKNOWN: "Not known",
}

# The U.S. OMB race categories, as state diversion reports use them.
RACE = {
    "american_indian_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black": "Black or African American",
    "native_hawaiian_pacific_islander": "Native Hawaiian or Other Pacific Islander",
    "white": "White",
    "multiple": "More than one race",
    "other": "Another race",
    UNKNOWN: "Not known",
}

ETHNICITY = {
    "hispanic": "Hispanic or Latino",
    "not_hispanic": "Not Hispanic or Latino",
    UNKNOWN: "Not known",
}

VETERAN_STATUS = {
    "veteran": "Veteran",
    "not_veteran": "Not a veteran",
    UNKNOWN: "Not known",
}

HOUSING_STATUS = {
    "housed": "Housed",
    "unstably_housed": "Unstably housed (staying with others, at risk)",
    "homeless_sheltered": "Homeless, in a shelter",
    "homeless_unsheltered": "Homeless, unsheltered",
    "institution": "In an institution (hospital, jail, treatment)",
    UNKNOWN: "Not known",
}

# field name -> its code list; the order of fields is the order forms show them
CODED_FIELDS: dict[str, dict[str, str]] = {
    "sex": SEX,
    "race": RACE,
    "ethnicity": ETHNICITY,
    "veteran_status": VETERAN_STATUS,
    "housing_status": HOUSING_STATUS,
}

CODED_LABELS = {
    "sex": "Sex",
    "race": "Race",
    "ethnicity": "Ethnicity",
    "veteran_status": "Veteran status",
    "housing_status": "Housing status",
}

# (lowest age, label); each band runs up to the next band's lowest age
AGE_BANDS = [(0, "Under 18"), (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65 and over")]


def label(field: str, code: str | None) -> str:
    return CODED_FIELDS[field].get(code or UNKNOWN, CODED_FIELDS[field][UNKNOWN])


def age_on(date_of_birth: date, on: date) -> int:
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def age_band(date_of_birth: date | None, on: date) -> str:
    if date_of_birth is None:
        return "Not known"
    age = age_on(date_of_birth, on)
    chosen = AGE_BANDS[0][1]
    for lowest, band in AGE_BANDS:
        if age >= lowest:
            chosen = band
    return chosen
