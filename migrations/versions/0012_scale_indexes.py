"""indexes the reports and the benchmarks at scale need

Measured with bench/run.py on the default scale (100,000 calls, 300,000 notes,
2 million audit events); each index names the query it serves:

* calls (case_id, agency_id, received_at), replacing (case_id): the case page's
  timeline reads a case's calls in the viewer's agency newest first, and joins its
  triages and encounters through them; with the case id alone PostgreSQL ANDed a
  bitmap of every call of the agency (about 30,000 rows) into each of those reads.
* followups (case_id, due_at), replacing (case_id): the timeline's newest
  follow-ups of a case, read in order with a limit instead of sorted.
* referrals (received_case_id): a case's referrals are those it sent or received
  (case_id OR received_case_id); without this the OR was a scan of the table.
* calls (received_at), encounters (started_at), followups (due_at), triages
  (created_at): the monthly report over all of the BHU's towns selects a period
  with no agency to lead an index, and each of its queries scanned the whole
  table (the twelve-month BHU report's SQL went from about 180 ms to 55 ms,
  with random_page_cost = 1.1 as deploy/postgresql.conf recommends).

Revision ID: 0012_scale_indexes
Revises: 0011_engagement
Create Date: 2026-11-24 08:00:00.000000

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_scale_indexes'
down_revision = '0011_engagement'
branch_labels = None
depends_on = None

# (table, index, column): a report's period over every agency.
PERIOD_INDEXES = [
    ('calls', 'ix_calls_received', 'received_at'),
    ('encounters', 'ix_encounters_started', 'started_at'),
    ('followups', 'ix_followups_due', 'due_at'),
    ('triages', 'ix_triages_created', 'created_at'),
]


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_case_agency_received', ['case_id', 'agency_id', 'received_at'], unique=False)
        batch_op.drop_index('ix_calls_case_id')

    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index('ix_followups_case_due', ['case_id', 'due_at'], unique=False)
        batch_op.drop_index('ix_followups_case')

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_received_case', ['received_case_id'], unique=False)

    for table, name, column in PERIOD_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)


def downgrade():
    for table, name, _column in reversed(PERIOD_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_received_case')

    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index('ix_followups_case', ['case_id'], unique=False)
        batch_op.drop_index('ix_followups_case_due')

    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_case_id', ['case_id'], unique=False)
        batch_op.drop_index('ix_calls_case_agency_received')
