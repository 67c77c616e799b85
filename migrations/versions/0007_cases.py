"""cases: episodes of care, calls linked to persons and cases, response plans,
and each agency's repeat-contact threshold

Revision ID: 0007_cases
Revises: 0006_encounters
Create Date: 2026-11-24 15:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0007_cases'
down_revision = '0006_encounters'
branch_labels = None
depends_on = None


def upgrade():
    # "N calls in D days" flags a person for proactive outreach; each agency sets its own.
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat_contact_calls', sa.Integer(), nullable=False, server_default='3'))
        batch_op.add_column(sa.Column('repeat_contact_days', sa.Integer(), nullable=False, server_default='90'))

    op.create_table('cases',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('assignee_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('opened_by_id', sa.String(length=36), nullable=True),
    sa.Column('closed_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_cases_agency_id_agencies')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_cases_person_id_persons')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_cases_assignee_id_users')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_cases_opened_by_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_cases_closed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_agency_status_opened', ['agency_id', 'status', 'opened_at'], unique=False)
        batch_op.create_index('ix_cases_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_cases_person_status', ['person_id', 'status'], unique=False)

    # person_id leads a composite index: it serves "this person's calls" and the
    # grouped "calls per person in the last D days" count without a table scan.
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('case_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_calls_person_id_persons'), 'persons', ['person_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_calls_case_id_cases'), 'cases', ['case_id'], ['id'])
        batch_op.create_index('ix_calls_person_received', ['person_id', 'received_at'], unique=False)
        batch_op.create_index('ix_calls_case_id', ['case_id'], unique=False)

    op.create_table('response_plans',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('approach_enc', sa.LargeBinary(), nullable=True),
    sa.Column('de_escalation_enc', sa.LargeBinary(), nullable=True),
    sa.Column('contacts_enc', sa.LargeBinary(), nullable=True),
    sa.Column('officer_safety_enc', sa.LargeBinary(), nullable=True),
    sa.Column('written_by_id', sa.String(length=36), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_response_plans_agency_id_agencies')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_response_plans_person_id_persons')),
    sa.ForeignKeyConstraint(['written_by_id'], ['users.id'], name=op.f('fk_response_plans_written_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_response_plans_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_plans'))
    )
    with op.batch_alter_table('response_plans', schema=None) as batch_op:
        batch_op.create_index('ix_response_plans_person_status', ['person_id', 'status'], unique=False)
        batch_op.create_index('ix_response_plans_agency_status', ['agency_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('response_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_response_plans_agency_status')
        batch_op.drop_index('ix_response_plans_person_status')
    op.drop_table('response_plans')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_case_id')
        batch_op.drop_index('ix_calls_person_received')
        batch_op.drop_constraint(batch_op.f('fk_calls_case_id_cases'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_calls_person_id_persons'), type_='foreignkey')
        batch_op.drop_column('case_id')
        batch_op.drop_column('person_id')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_person_status')
        batch_op.drop_index('ix_cases_assignee_status')
        batch_op.drop_index('ix_cases_agency_status_opened')
    op.drop_table('cases')
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('repeat_contact_calls')
        batch_op.drop_column('repeat_contact_days')
