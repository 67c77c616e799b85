"""The daily reminder as an RQ job, for deployments with Redis.

``flask --app wsgi followups schedule`` puts the next run on the queue at the
configured local time; each run sends the reminders and then schedules the
next day's, so one ``rq worker --with-scheduler`` keeps it going. The job id
carries the date, so scheduling twice for a day is harmless, and the reminder
itself is once-a-day safe (``ReminderLog``) however often it runs. Without
Redis, cron runs ``followups remind`` instead (README).
"""
from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from redis import Redis
from rq import Queue

from clinician_app.core.timeutil import utcnow

QUEUE_NAME = "clinician"


def reminder_queue(redis_url: str | None = None) -> Queue:
    url = redis_url or current_app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError("REDIS_URL is not set: run `flask --app wsgi followups remind` from cron instead")
    return Queue(QUEUE_NAME, connection=Redis.from_url(url))


def next_run_at(now: datetime, at_local: time, tz_name: str) -> datetime:
    """The next moment (UTC) when the local clock shows ``at_local``; strictly after ``now``."""
    tz = ZoneInfo(tz_name)
    local_now = now.astimezone(tz)
    candidate = datetime.combine(local_now.date(), at_local, tzinfo=tz)
    if candidate <= local_now:
        candidate = datetime.combine(local_now.date() + timedelta(days=1), at_local, tzinfo=tz)
    return candidate.astimezone(ZoneInfo("UTC"))


def schedule_next(queue: Queue, now: datetime | None = None):
    """Schedule the next daily run; returns the RQ job."""
    config = current_app.config
    at_local = time.fromisoformat(config["REMINDER_LOCAL_TIME"])
    run_at = next_run_at(now or utcnow(), at_local, config["REMINDER_TIMEZONE"])
    return queue.enqueue_at(run_at, run_daily_reminders, job_id=f"followups-remind-{run_at:%Y%m%d}",
                            description="daily follow-up reminders")


def run_daily_reminders() -> dict:
    """The job: runs in the worker, outside any request. Counts only in its result."""
    from clinician_app import create_app
    from clinician_app.extensions import db

    from .reminders import send_daily_reminders

    app = create_app(os.environ.get("CLINICIAN_ENV", "production"))
    with app.app_context():
        run = send_daily_reminders()
        db.session.commit()
        schedule_next(reminder_queue())
        return {"reminded": len(run.sent), "skipped": run.skipped, "failed": len(run.failed)}
