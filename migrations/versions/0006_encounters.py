"""encounters: dispositions (seeded), encounters, charges, supervisor closures,
queue targets per agency, and the queue's index

Revision ID: 0006_encounters
Revises: 0005_triage
Create Date: 2026-11-24 13:00:00.000000

"""
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0006_encounters'
down_revision = '0005_triage'
branch_labels = None
depends_on = None

# Frozen here (not imported from the app) so the migration stays the same when
# the app's code changes.
SEED_DISPOSITIONS = [
    ("resolved_on_scene", "Resolved / de-escalated on scene", True),
    ("voluntary_ed", "Voluntary transport to emergency department", False),
    ("section_12", "Involuntary evaluation (Section 12)", False),
    ("section_35", "Substance-use commitment petition (Section 35)", False),
    ("cbhc_evaluation", "Mobile crisis / Community Behavioral Health Center evaluation", True),
    ("crisis_stabilisation", "Crisis stabilisation (CBAT/CCS)", True),
    ("detox", "Detox", True),
    ("outpatient_connection", "New outpatient connection", True),
    ("arrest_diverted", "Arrest diverted", True),
    ("arrest", "Arrest", False),
    ("referred", "Referred to services", True),
    ("refused", "Refused services", False),
]


def upgrade():
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_now_minutes', sa.Integer(), nullable=False, server_default='15'))
        batch_op.add_column(sa.Column('target_same_day_minutes', sa.Integer(), nullable=False, server_default='480'))
        batch_op.add_column(sa.Column('target_follow_up_minutes', sa.Integer(), nullable=False, server_default='4320'))

    # The queue asks for one agency's (or routed-to agency's) calls in a few open
    # statuses; with most calls closed this index finds the open ones directly.
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_agency_status', ['agency_id', 'status'], unique=False)

    dispositions = op.create_table('dispositions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('counts_as_diversion', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispositions')),
    sa.UniqueConstraint('code', name=op.f('uq_dispositions_code'))
    )
    now = datetime.now(UTC)
    op.bulk_insert(dispositions, [
        {"id": str(uuid.uuid4()), "code": code, "label": label, "counts_as_diversion": diversion,
         "position": (index + 1) * 10, "retired_at": None, "created_at": now}
        for index, (code, label, diversion) in enumerate(SEED_DISPOSITIONS)
    ])

    op.create_table('encounters',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('call_id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disposition_id', sa.String(length=36), nullable=False),
    sa.Column('point_of_intervention', sa.String(length=20), nullable=False),
    sa.Column('custody_diverted', sa.Boolean(), nullable=True),
    sa.Column('jail_diversion_option', sa.Boolean(), nullable=True),
    sa.Column('ed_visit_prevented', sa.Boolean(), nullable=True),
    sa.Column('note_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_encounters_call_id_calls')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_encounters_agency_id_agencies')),
    sa.ForeignKeyConstraint(['disposition_id'], ['dispositions.id'], name=op.f('fk_encounters_disposition_id_dispositions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_encounters_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounters'))
    )
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.create_index('ix_encounters_call_started', ['call_id', 'started_at'], unique=False)

    op.create_table('encounter_charges',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('encounter_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('charge', sa.String(length=120), nullable=False),
    sa.Column('diverted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_encounter_charges_encounter_id_encounters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounter_charges'))
    )
    with op.batch_alter_table('encounter_charges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encounter_charges_encounter_id'), ['encounter_id'], unique=False)

    op.create_table('call_closures',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('call_id', sa.String(length=36), nullable=False),
    sa.Column('closed_by_id', sa.String(length=36), nullable=False),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_closures_call_id_calls')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_call_closures_closed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_closures'))
    )
    with op.batch_alter_table('call_closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_closures_call_id'), ['call_id'], unique=False)


def downgrade():
    with op.batch_alter_table('call_closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_closures_call_id'))
    op.drop_table('call_closures')
    with op.batch_alter_table('encounter_charges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounter_charges_encounter_id'))
    op.drop_table('encounter_charges')
    with op.batch_alter_table('encounters', schema=None) as batch_op:
        batch_op.drop_index('ix_encounters_call_started')
    op.drop_table('encounters')
    op.drop_table('dispositions')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_agency_status')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('target_follow_up_minutes')
        batch_op.drop_column('target_same_day_minutes')
        batch_op.drop_column('target_now_minutes')
