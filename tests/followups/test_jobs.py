"""The daily reminder on RQ (with Redis): scheduled at the local time, once per
day, and each run sends the reminders and schedules the next."""
from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from clinician_app.extensions import db
from clinician_app.followups import jobs
from clinician_app.notifications.models import Notification
from tests.followups.factories import followup_for

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_up(), reason="no Redis at REDIS_URL_FOR_TESTS")


@pytest.mark.parametrize("now,expected", [
    ("2026-06-15T10:00:00+00:00", "2026-06-15T11:00:00+00:00"),  # 06:00 EDT: today at 07:00 EDT
    ("2026-06-15T12:00:00+00:00", "2026-06-16T11:00:00+00:00"),  # past 07:00 local: tomorrow
    ("2026-03-07T13:00:00+00:00", "2026-03-08T11:00:00+00:00"),  # across spring-forward: 07:00 EDT
    ("2026-10-31T12:00:00+00:00", "2026-11-01T12:00:00+00:00"),  # across fall-back: 07:00 EST
])
def test_next_run_is_the_next_local_seven_oclock(now, expected):
    result = jobs.next_run_at(datetime.fromisoformat(now), time(7, 0), "America/New_York")
    assert result == datetime.fromisoformat(expected)


def test_schedule_without_redis_says_to_use_cron(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = app.test_cli_runner().invoke(args=["followups", "schedule"])
    assert result.exit_code != 0 and "cron" in result.output


@pytest.fixture()
def queue(app, monkeypatch):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    yield jobs.reminder_queue(REDIS_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()


@needs_redis
def test_schedule_puts_one_job_per_day_on_the_queue(app, queue):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["followups", "schedule"]).exit_code == 0
    assert runner.invoke(args=["followups", "schedule"]).exit_code == 0
    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1 and scheduled[0].startswith("followups-remind-")
    when = queue.scheduled_job_registry.get_scheduled_time(scheduled[0]).replace(tzinfo=UTC)
    assert timedelta(0) < when - datetime.now(UTC) <= timedelta(days=1)


@needs_redis
def test_a_run_sends_the_reminders_and_schedules_tomorrow(app, app_ctx, queue, clinician, monkeypatch):
    import clinician_app

    followup_for(clinician, due_at=datetime.now(UTC) - timedelta(hours=2))
    db.session.commit()
    monkeypatch.setattr(clinician_app, "create_app", lambda *_args, **_kw: app)
    result = jobs.run_daily_reminders()
    assert result["reminded"] == 1
    note = db.session.execute(select(Notification).where(Notification.user_id == clinician.id)).scalars().all()
    assert any(n.kind == "followups_due" for n in note)
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1
