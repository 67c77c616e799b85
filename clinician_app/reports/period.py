"""Report periods: whole months in the agency's time zone, turned into UTC bounds.

A month runs from local midnight on its first day to local midnight on the next
month's first day, so a month with a DST change is 743 or 745 hours long and a
call at 00:30 local time on the 1st belongs to the new month whatever its UTC
date. Every query compares stored UTC instants with these bounds; nothing is
converted per row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from clinician_app.core.errors import ValidationError

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 120  # ten years
TREND_MONTHS = 12  # charts show at least a year


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH_PATTERN.match((text or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            raise ValueError("not a month")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def plus(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def minus(self, other: Month) -> int:
        return (self.year * 12 + self.month) - (other.year * 12 + other.month)

    def start_utc(self, tz: str) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=ZoneInfo(tz)).astimezone(UTC)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def title(self) -> str:
        return date(self.year, self.month, 1).strftime("%B %Y")

    @property
    def short(self) -> str:
        return date(self.year, self.month, 1).strftime("%b %Y")


@dataclass(frozen=True)
class Period:
    """``first`` to ``last`` month inclusive, in time zone ``tz``."""

    first: Month
    last: Month
    tz: str

    @property
    def months(self) -> list[Month]:
        return [self.first.plus(i) for i in range(self.last.minus(self.first) + 1)]

    @property
    def start(self) -> datetime:
        return self.first.start_utc(self.tz)

    @property
    def end(self) -> datetime:  # exclusive
        return self.last.plus(1).start_utc(self.tz)

    def bounds(self) -> list[datetime]:
        """The UTC instants where each month starts, and the end: len(months) + 1 values."""
        return [m.start_utc(self.tz) for m in self.months] + [self.end]

    def trend(self) -> Period:
        """The months the charts show: the period, widened back to a year when shorter."""
        if len(self.months) >= TREND_MONTHS:
            return self
        return Period(self.last.plus(1 - TREND_MONTHS), self.last, self.tz)

    @property
    def title(self) -> str:
        return self.first.title if self.first == self.last else f"{self.first.title} to {self.last.title}"

    @property
    def slug(self) -> str:
        return self.first.key if self.first == self.last else f"{self.first.key}_to_{self.last.key}"


def last_full_month(today: date) -> Month:
    return Month.of(today).plus(-1)


def make_period(first: str | None, last: str | None, tz: str, today: date) -> Period:
    """Parse the form's months (``YYYY-MM``); empty means last month. Raises ValidationError."""
    errors: dict[str, list[str]] = {}
    default = last_full_month(today)
    months = {}
    for name, text in (("start", first), ("end", last)):
        if not text:
            months[name] = None
            continue
        try:
            months[name] = Month.parse(text)
        except ValueError:
            errors[name] = ["Enter a month as YYYY-MM, for example 2025-03."]
    if errors:
        raise ValidationError("Check the months.", fields=errors)
    start = months["start"] or months["end"] or default
    end = months["end"] or (start if months["start"] else default)
    current = Month.of(today)
    if end < start:
        errors["end"] = ["The last month can't be before the first."]
    elif end > current:
        errors["end"] = ["The last month can't be in the future."]
    elif end.minus(start) + 1 > MAX_MONTHS:
        errors["start"] = [f"Choose at most {MAX_MONTHS} months."]
    if errors:
        raise ValidationError("Check the months.", fields=errors)
    return Period(start, end, tz)
