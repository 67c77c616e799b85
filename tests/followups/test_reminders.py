"""The daily reminder, delivered to a real SMTP server (aiosmtpd on loopback):
counts and a link only, never a person's name; running it twice sends once."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from clinician_app.extensions import db
from clinician_app.followups.models import ReminderLog
from clinician_app.notifications.models import Notification
from clinician_app.people.models import Person
from tests.followups.factories import followup_for

AT = datetime.fromisoformat("2026-06-15T10:00:00-04:00")  # 10:00 in the agencies' zone


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def smtp(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port, "SMTP_STARTTLS": False,
                       "SMTP_FROM": "followups@example.org", "APP_BASE_URL": "https://clinic.example.org"}.items():
        monkeypatch.setitem(app.config, key, value)
    yield inbox
    controller.stop()


def _remind(app, at=AT):
    return app.test_cli_runner().invoke(args=["followups", "remind", "--at", at.isoformat()])


def test_the_reminder_reaches_the_smtp_server_once_with_counts_and_no_names(app, app_ctx, smtp, clinician, make_user,
                                                                           agencies):
    clinician.email = "casey@example.org"
    overdue = followup_for(clinician, due_at=AT - timedelta(hours=3))
    followup_for(clinician, due_at=AT - timedelta(days=2))
    followup_for(clinician, due_at=AT + timedelta(hours=5))  # later today
    followup_for(clinician, due_at=AT + timedelta(days=2))  # upcoming: not in the reminder
    quiet = make_user(agencies["A"], "clinician")
    quiet.email = "quiet@example.org"
    followup_for(quiet, due_at=AT + timedelta(days=3))  # nothing due today: no reminder at all
    db.session.commit()
    names = [p.full_name for p in db.session.execute(select(Person)).scalars()]
    first = _remind(app)
    assert first.exit_code == 0, first.output
    assert "1 reminded" in first.output
    assert len(smtp.messages) == 1
    recipients, text = smtp.messages[0]
    assert recipients == ["casey@example.org"]
    assert "Subject: Follow-ups: 1 due today, 2 overdue" in text
    assert "https://clinic.example.org/followups/" in text
    for name in names:
        assert name not in text
        for part in name.split():
            assert part not in text
    assert overdue.purpose not in text

    second = _remind(app)
    assert second.exit_code == 0, second.output
    assert "0 reminded, 1 already reminded today" in second.output
    assert len(smtp.messages) == 1  # sent once
    logs = db.session.execute(select(ReminderLog).where(ReminderLog.user_id == clinician.id)).scalars().all()
    assert [(log.local_date.isoformat(), log.due_today, log.overdue, log.emailed) for log in logs] == [
        ("2026-06-15", 1, 2, True)]
    notes = db.session.execute(select(Notification).where(Notification.user_id == clinician.id)).scalars().all()
    assert [n.kind for n in notes] == ["followups_due"]
    assert db.session.execute(select(Notification).where(Notification.user_id == quiet.id)).first() is None

    # The next local day is a new reminder.
    assert _remind(app, AT + timedelta(days=1)).exit_code == 0
    assert len(smtp.messages) == 2


def test_without_smtp_the_reminder_is_in_app_only(app, app_ctx, clinician, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    followup_for(clinician, due_at=AT - timedelta(hours=1))
    db.session.commit()
    result = _remind(app)
    assert result.exit_code == 0 and "1 reminded" in result.output
    assert db.session.execute(select(Notification.kind).where(Notification.user_id == clinician.id)).scalars().all() \
        == ["followups_due"]


def test_a_failed_email_is_retried_on_the_next_run(app, app_ctx, clinician, monkeypatch):
    clinician.email = "casey@example.org"
    followup_for(clinician, due_at=AT - timedelta(hours=1))
    db.session.commit()
    for key, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": _free_port(), "SMTP_STARTTLS": False,
                       "SMTP_TIMEOUT_SECONDS": 2}.items():
        monkeypatch.setitem(app.config, key, value)  # nothing listens there
    failed = _remind(app)
    assert failed.exit_code != 0 and "1 e-mail failures" in failed.output
    assert db.session.execute(select(ReminderLog).where(ReminderLog.user_id == clinician.id)).first() is None


def test_the_at_option_needs_a_time_zone(app):
    result = app.test_cli_runner().invoke(args=["followups", "remind", "--at", "2026-06-15T10:00:00"])
    assert result.exit_code != 0 and "time zone" in result.output
