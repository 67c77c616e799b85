"""The daily reminder: per assignee, how many follow-ups are due today and how many
are overdue, as an in-app notification and an e-mail. Counts and a link only:
no names, purposes or notes ever leave in an e-mail.

Safe to run twice: each person's reminder claims a ``ReminderLog(user, local
date)`` row (unique) in the same transaction as its notification, and the
transaction commits only after the e-mail went out. A second run finds the row
and sends nothing; a concurrent run waits on the row and then skips; an e-mail
that fails rolls that person's row back so the next run tries again.
"""
from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from clinician_app.agencies.models import Agency
from clinician_app.auth.models import User
from clinician_app.core import audit
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db
from clinician_app.notifications.services import notify

from .codes import STATUS_OPEN
from .models import Followup, ReminderLog
from .services import local_day_bounds


@dataclass
class ReminderRun:
    sent: list[tuple[str, int, int, bool]] = field(default_factory=list)  # (user id, due today, overdue, e-mailed)
    skipped: int = 0  # already reminded today
    failed: list[str] = field(default_factory=list)  # user ids whose e-mail failed (retried next run)


def due_counts(user: User, tz_name: str, now: datetime) -> tuple[int, int]:
    """(due later today, overdue) among the user's open follow-ups."""
    _, end = local_day_bounds(to_local(now, tz_name).date(), tz_name)
    base = select(func.count()).select_from(Followup).where(Followup.assignee_id == user.id,
                                                            Followup.status == STATUS_OPEN)
    overdue = db.session.execute(base.where(Followup.due_at < now)).scalar_one()
    today = db.session.execute(base.where(Followup.due_at >= now, Followup.due_at < end)).scalar_one()
    return today, overdue


def reminder_text(due_today: int, overdue: int, link: str) -> tuple[str, str]:
    """Subject and body: counts and a link, nothing about anyone."""
    def plural(n: int) -> str:
        return f"{n} follow-up{'' if n == 1 else 's'}"

    subject = f"Follow-ups: {due_today} due today, {overdue} overdue"
    body = (f"You have {plural(due_today)} due today and {plural(overdue)} overdue.\n\n"
            f"Open My work to see them: {link}\n\n"
            "This message lists counts only; sign in to see the details.\n")
    return subject, body


def send_email(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["SMTP_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT_SECONDS"]) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(message)


def _assignees_with_work(now: datetime) -> list[tuple[User, str]]:
    """Active users holding an open follow-up due before the end of their local day
    (a day ahead of UTC at most, so everything due within 36 hours is a candidate)."""
    from datetime import timedelta

    rows = db.session.execute(
        select(User, Agency.timezone).join(Agency, Agency.id == User.agency_id)
        .where(User.disabled_at.is_(None), User.id.in_(
            select(Followup.assignee_id).where(Followup.status == STATUS_OPEN,
                                               Followup.due_at < now + timedelta(hours=36))))
        .order_by(User.id)).all()
    return [(user, tz) for user, tz in rows]


def send_daily_reminders(now: datetime | None = None) -> ReminderRun:
    """Remind every assignee with something due today or overdue, once per local day.
    Commits per person (see the module docstring)."""
    now = now or utcnow()
    run = ReminderRun()
    link = f"{current_app.config['APP_BASE_URL']}/followups/"
    smtp = bool(current_app.config.get("SMTP_HOST"))
    for user, tz in _assignees_with_work(now):
        user_id, email, agency_id = user.id, user.email, user.agency_id
        due_today, overdue = due_counts(user, tz, now)
        if not (due_today or overdue):
            continue
        local_date = to_local(now, tz).date()
        if db.session.execute(select(ReminderLog.id).where(ReminderLog.user_id == user_id,
                                                           ReminderLog.local_date == local_date)).first():
            run.skipped += 1
            continue
        emailed = bool(smtp and email)
        log = ReminderLog(user_id=user_id, local_date=local_date, due_today=due_today, overdue=overdue,
                          emailed=emailed, sent_at=now)
        try:
            db.session.add(log)
            db.session.flush()
        except IntegrityError:  # another run got there first
            db.session.rollback()
            run.skipped += 1
            continue
        notify(user_id, "followups_due", "followup_reminder", log.id)
        if emailed:
            try:
                send_email(email, *reminder_text(due_today, overdue, link))
            except (OSError, smtplib.SMTPException):
                db.session.rollback()
                run.failed.append(user_id)
                continue
        # Audited after the e-mail: the audit chain's head is not held while a mail server answers.
        audit.record("followup.remind", actor=None, agency_id=agency_id, record_type="user", record_id=user_id,
                     details={"local_date": local_date.isoformat(), "due_today": due_today, "overdue": overdue,
                              "emailed": emailed})
        db.session.commit()
        run.sent.append((user_id, due_today, overdue, emailed))
    return run
