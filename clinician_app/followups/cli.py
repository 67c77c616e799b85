"""``flask --app wsgi followups remind``: the daily reminder (cron, or a scheduler, runs it)."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

followups_cli = AppGroup("followups", help="Follow-up tasks.")


@followups_cli.command("remind")
@click.option("--at", "at", default=None, metavar="ISO-TIME",
              help="Act as if it were this time (timezone-aware ISO 8601); for catching up a missed day.")
def remind(at: str | None):
    """E-mail and notify each assignee of what is due today and overdue (once per day)."""
    from .reminders import send_daily_reminders

    now = None
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("use ISO 8601, like 2026-03-08T07:00:00-05:00", param_hint="--at") from None
        if now.tzinfo is None:
            raise click.BadParameter("give the time zone, like 2026-03-08T07:00:00-05:00", param_hint="--at")
    run = send_daily_reminders(now)
    for user_id, due_today, overdue, emailed in run.sent:
        click.echo(f"reminded user {user_id}: {due_today} due today, {overdue} overdue"
                   f"{', e-mailed' if emailed else ''}")
    click.echo(f"{len(run.sent)} reminded, {run.skipped} already reminded today, {len(run.failed)} e-mail failures")
    if run.failed:
        raise click.ClickException("some e-mails failed; run again to retry them")


@followups_cli.command("schedule")
def schedule():
    """Put the next daily reminder on the RQ queue (needs REDIS_URL and `rq worker --with-scheduler`)."""
    from .jobs import reminder_queue, schedule_next

    try:
        queue = reminder_queue()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    job = schedule_next(queue)
    click.echo(f"next reminder run scheduled: job {job.id} on queue {queue.name}")
