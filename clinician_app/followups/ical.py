"""An iCalendar (RFC 5545) feed of one's own follow-ups, written by hand: CRLF line
ends, lines folded at 75 octets, UTC times with "Z", one UID per follow-up, a
DTSTAMP on each event. No PHI: every event is "Follow-up" with a link."""
from __future__ import annotations

from datetime import datetime, timedelta

from clinician_app.core.timeutil import as_utc

PRODID = "-//clinician_app//Follow-ups//EN"
EVENT_MINUTES = 30


def _stamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces, continuation lines starting with a
    space, never inside a UTF-8 character."""
    data = line.encode()
    if len(data) <= 75:
        return line
    pieces, start, limit = [], 0, 75
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # don't split a multi-byte character
            end -= 1
        pieces.append(data[start:end].decode())
        start, limit = end, 74  # the leading space of a continuation counts
    return "\r\n ".join(pieces)


def calendar(followups, link_for, now: datetime, host: str) -> str:
    """``link_for(followup) -> absolute URL``; ``host`` makes the UIDs globally unique."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             "X-WR-CALNAME:Follow-ups"]
    for f in followups:
        start = as_utc(f.due_at)
        url = link_for(f)
        lines += ["BEGIN:VEVENT", f"UID:followup-{f.id}@{host}", f"DTSTAMP:{_stamp(now)}",
                  f"DTSTART:{_stamp(start)}", f"DTEND:{_stamp(start + timedelta(minutes=EVENT_MINUTES))}",
                  "SUMMARY:Follow-up", f"DESCRIPTION:{_escape(url)}", f"URL:{url}",
                  f"STATUS:{'CANCELLED' if f.status == 'cancelled' else 'CONFIRMED'}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
