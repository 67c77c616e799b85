"""Follow-ups: tasks after a crisis, their contact attempts, daily reminders and calendars."""
