"""follow-ups: templates, tasks, contact attempts and the daily reminder log

Revision ID: 0009_followups
Revises: 0008_case_notes
Create Date: 2026-11-25 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009_followups'
down_revision = '0008_case_notes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('followup_templates',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('trigger_kind', sa.String(length=12), nullable=False),
    sa.Column('trigger_code', sa.String(length=40), nullable=False),
    sa.Column('windows', sa.String(length=60), nullable=False),
    sa.Column('purpose', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followup_templates_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_followup_templates_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_templates'))
    )
    with op.batch_alter_table('followup_templates', schema=None) as batch_op:
        batch_op.create_index('ix_followup_templates_agency_active', ['agency_id', 'active'], unique=False)

    op.create_table('followups',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('encounter_id', sa.String(length=36), nullable=True),
    sa.Column('template_id', sa.String(length=36), nullable=True),
    sa.Column('assignee_id', sa.String(length=36), nullable=False),
    sa.Column('window', sa.String(length=12), nullable=False),
    sa.Column('anchor_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purpose_enc', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=12), nullable=True),
    sa.Column('done_within_window', sa.Boolean(), nullable=True),
    sa.Column('close_reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('closed_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_followups_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_followups_case_id_cases')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_followups_encounter_id_encounters')),
    sa.ForeignKeyConstraint(['template_id'], ['followup_templates.id'], name=op.f('fk_followups_template_id_followup_templates')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_followups_assignee_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_followups_closed_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_followups_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followups')),
    sa.UniqueConstraint('encounter_id', 'window', name='uq_followups_encounter_window')
    )
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index('ix_followups_assignee_status_due', ['assignee_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_followups_agency_status_due', ['agency_id', 'status', 'due_at'], unique=False)
        batch_op.create_index('ix_followups_case', ['case_id'], unique=False)

    op.create_table('followup_attempts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('followup_id', sa.String(length=36), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('note_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['followup_id'], ['followups.id'], name=op.f('fk_followup_attempts_followup_id_followups')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_followup_attempts_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_attempts'))
    )
    with op.batch_alter_table('followup_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_followup_attempts_followup_at', ['followup_id', 'attempted_at'], unique=False)

    op.create_table('reminder_logs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('due_today', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('emailed', sa.Boolean(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_logs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_logs')),
    sa.UniqueConstraint('user_id', 'local_date', name='uq_reminder_logs_user_date')
    )


def downgrade():
    op.drop_table('reminder_logs')
    with op.batch_alter_table('followup_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_attempts_followup_at')
    op.drop_table('followup_attempts')
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index('ix_followups_case')
        batch_op.drop_index('ix_followups_agency_status_due')
        batch_op.drop_index('ix_followups_assignee_status_due')
    op.drop_table('followups')
    with op.batch_alter_table('followup_templates', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_templates_agency_active')
    op.drop_table('followup_templates')
