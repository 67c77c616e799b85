"""the region-wide report's period indexes carry the columns it counts (PostgreSQL INCLUDE)

Revision ID: 0014_report_covering_indexes
Revises: 0013_call_received_via
Create Date: 2026-11-24 11:45:00.000000

The BHU-year report reads a year of calls, encounters and follow-ups through
the period indexes of 0012, then visits the table for each row. Carrying the
counted columns in the index lets PostgreSQL answer from the index alone
(the four largest of the report's statements, in process at the default
bench scale: 61 -> 43 ms). SQLite has no INCLUDE:
its indexes stay as they are.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014_report_covering_indexes'
down_revision = '0013_call_received_via'
branch_labels = None
depends_on = None

COVERING = [
    ('calls', 'ix_calls_received', 'received_at',
     ['agency_id', 'person_id', 'co_response', 'flagged_at', 'first_contact_at']),
    ('encounters', 'ix_encounters_started', 'started_at',
     ['call_id', 'kind', 'disposition_id', 'custody_diverted', 'jail_diversion_option', 'ed_visit_prevented']),
    ('followups', 'ix_followups_due', 'due_at', ['status', 'done_within_window']),
]


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, name, column, include in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], postgresql_include=include)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, name, column, _include in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column])
