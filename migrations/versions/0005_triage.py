"""triage: screens, routing rules, on-call shifts, claims and assignment, notifications

Revision ID: 0005_triage
Revises: 0004_api_idempotency
Create Date: 2026-11-24 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_triage'
down_revision = '0004_api_idempotency'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('route', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('route_agency_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('outside_service', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('acuity', sa.String(length=16), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_calls_assignee_id_users'), 'users', ['assignee_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_calls_route_agency_id_agencies'), 'agencies', ['route_agency_id'], ['id'])
        batch_op.create_index('ix_calls_assignee', ['assignee_id'], unique=False)
        batch_op.create_index('ix_calls_route_agency_status', ['route_agency_id', 'status'], unique=False)

    op.create_table('triages',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('call_id', sa.String(length=36), nullable=False),
    sa.Column('answers_enc', sa.LargeBinary(), nullable=True),
    sa.Column('observations_enc', sa.LargeBinary(), nullable=True),
    sa.Column('screen_risk', sa.String(length=12), nullable=False),
    sa.Column('risk_level', sa.String(length=12), nullable=False),
    sa.Column('acuity', sa.String(length=16), nullable=False),
    sa.Column('route', sa.String(length=12), nullable=False),
    sa.Column('outside_service', sa.String(length=20), nullable=True),
    sa.Column('suggested_route', sa.String(length=12), nullable=False),
    sa.Column('suggested_outside_service', sa.String(length=20), nullable=True),
    sa.Column('suggestion_reason', sa.String(length=300), nullable=False),
    sa.Column('rule_id', sa.String(length=36), nullable=True),
    sa.Column('override_reason', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_triages_call_id_calls')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_triages_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triages'))
    )
    with op.batch_alter_table('triages', schema=None) as batch_op:
        batch_op.create_index('ix_triages_call_created', ['call_id', 'created_at'], unique=False)

    op.create_table('routing_rules',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('acuities', sa.String(length=80), nullable=False),
    sa.Column('on_duty', sa.String(length=4), nullable=False),
    sa.Column('route', sa.String(length=12), nullable=False),
    sa.Column('outside_service', sa.String(length=20), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_routing_rules_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_routing_rules_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rules')),
    sa.UniqueConstraint('agency_id', 'priority', name='uq_routing_rules_agency_priority')
    )

    op.create_table('shifts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_shifts_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_shifts_user_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_shifts_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts'))
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_agency_starts', ['agency_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_shifts_user_starts', ['user_id', 'starts_at'], unique=False)

    op.create_table('call_assignments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('call_id', sa.String(length=36), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=False),
    sa.Column('previous_assignee_id', sa.String(length=36), nullable=True),
    sa.Column('assigned_by_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_assignments_call_id_calls')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_call_assignments_assignee_id_users')),
    sa.ForeignKeyConstraint(['previous_assignee_id'], ['users.id'], name=op.f('fk_call_assignments_previous_assignee_id_users')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_call_assignments_assigned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_assignments'))
    )
    with op.batch_alter_table('call_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_call_assignments_call_created', ['call_id', 'created_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('record_type', sa.String(length=30), nullable=False),
    sa.Column('record_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')
    op.drop_table('notifications')
    with op.batch_alter_table('call_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_call_assignments_call_created')
    op.drop_table('call_assignments')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_shifts_user_starts')
        batch_op.drop_index('ix_shifts_agency_starts')
    op.drop_table('shifts')
    op.drop_table('routing_rules')
    with op.batch_alter_table('triages', schema=None) as batch_op:
        batch_op.drop_index('ix_triages_call_created')
    op.drop_table('triages')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_route_agency_status')
        batch_op.drop_index('ix_calls_assignee')
        batch_op.drop_constraint(batch_op.f('fk_calls_route_agency_id_agencies'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_calls_assignee_id_users'), type_='foreignkey')
        batch_op.drop_column('acuity')
        batch_op.drop_column('outside_service')
        batch_op.drop_column('route_agency_id')
        batch_op.drop_column('route')
        batch_op.drop_column('assignee_id')
