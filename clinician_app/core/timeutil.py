"""Time is stored in UTC (timezone-aware) and shown in the agency's time zone."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime | None, tz_name: str) -> datetime | None:
    value = as_utc(value)
    return value.astimezone(ZoneInfo(tz_name)) if value else None


def format_local(value: datetime | None, tz_name: str, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    local = to_local(value, tz_name)
    return local.strftime(fmt) if local else ""
