"""community engagement: places, visits, events, partnerships, posts, youth programs

Revision ID: 0011_engagement
Revises: 0010_referrals
Create Date: 2026-11-24 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_engagement'
down_revision = '0010_referrals'
branch_labels = None
depends_on = None


def _officers(table, record_column, record_table):
    op.create_table(table,
    sa.Column(record_column, sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint([record_column], [f'{record_table}.id'],
                            name=op.f(f'fk_{table}_{record_column}_{record_table}'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{table}_user_id_users')),
    sa.PrimaryKeyConstraint(record_column, 'user_id', name=op.f(f'pk_{table}'))
    )


def upgrade():
    op.create_table('places',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('address_key', sa.String(length=200), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_places_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_places_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_places')),
    sa.UniqueConstraint('agency_id', 'name', name='uq_places_agency_name')
    )
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.create_index('ix_places_agency_address_key', ['agency_id', 'address_key'], unique=False)

    op.create_table('eng_visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('place_id', sa.String(length=36), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('notes_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_eng_visits_agency_id_agencies')),
    sa.ForeignKeyConstraint(['place_id'], ['places.id'], name=op.f('fk_eng_visits_place_id_places')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_eng_visits_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eng_visits'))
    )
    with op.batch_alter_table('eng_visits', schema=None) as batch_op:
        batch_op.create_index('ix_eng_visits_agency_started', ['agency_id', 'started_at'], unique=False)
        batch_op.create_index('ix_eng_visits_place_started', ['place_id', 'started_at'], unique=False)
    _officers('eng_visit_officers', 'visit_id', 'eng_visits')

    op.create_table('eng_events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place_id', sa.String(length=36), nullable=True),
    sa.Column('partners', sa.String(length=300), nullable=True),
    sa.Column('attendance', sa.Integer(), nullable=True),
    sa.Column('materials', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_eng_events_agency_id_agencies')),
    sa.ForeignKeyConstraint(['place_id'], ['places.id'], name=op.f('fk_eng_events_place_id_places')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_eng_events_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eng_events'))
    )
    with op.batch_alter_table('eng_events', schema=None) as batch_op:
        batch_op.create_index('ix_eng_events_agency_held', ['agency_id', 'held_on'], unique=False)
        batch_op.create_index('ix_eng_events_place_held', ['place_id', 'held_on'], unique=False)
    _officers('eng_event_officers', 'event_id', 'eng_events')

    op.create_table('eng_partnerships',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('other_partners', sa.String(length=300), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('description', sa.String(length=2000), nullable=True),
    sa.Column('outcomes', sa.String(length=2000), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_eng_partnerships_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_eng_partnerships_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eng_partnerships'))
    )
    with op.batch_alter_table('eng_partnerships', schema=None) as batch_op:
        batch_op.create_index('ix_eng_partnerships_agency_started', ['agency_id', 'started_on'], unique=False)
    op.create_table('eng_partnership_agencies',
    sa.Column('partnership_id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['eng_partnerships.id'],
                            name=op.f('fk_eng_partnership_agencies_partnership_id_eng_partnerships'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                            name=op.f('fk_eng_partnership_agencies_agency_id_agencies')),
    sa.PrimaryKeyConstraint('partnership_id', 'agency_id', name=op.f('pk_eng_partnership_agencies'))
    )

    op.create_table('eng_posts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('topic', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('reach', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_eng_posts_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_eng_posts_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eng_posts'))
    )
    with op.batch_alter_table('eng_posts', schema=None) as batch_op:
        batch_op.create_index('ix_eng_posts_agency_posted', ['agency_id', 'posted_on'], unique=False)

    op.create_table('eng_youth_programs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('program', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=True),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_eng_youth_programs_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_eng_youth_programs_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eng_youth_programs'))
    )
    with op.batch_alter_table('eng_youth_programs', schema=None) as batch_op:
        batch_op.create_index('ix_eng_youth_programs_agency', ['agency_id'], unique=False)

    op.create_table('eng_youth_sessions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('program_id', sa.String(length=36), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('activity', sa.String(length=200), nullable=False),
    sa.Column('place_id', sa.String(length=36), nullable=True),
    sa.Column('participants_8_10', sa.Integer(), nullable=False),
    sa.Column('participants_11_13', sa.Integer(), nullable=False),
    sa.Column('participants_14_17', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_eng_youth_sessions_agency_id_agencies')),
    sa.ForeignKeyConstraint(['program_id'], ['eng_youth_programs.id'],
                            name=op.f('fk_eng_youth_sessions_program_id_eng_youth_programs')),
    sa.ForeignKeyConstraint(['place_id'], ['places.id'], name=op.f('fk_eng_youth_sessions_place_id_places')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_eng_youth_sessions_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_eng_youth_sessions'))
    )
    with op.batch_alter_table('eng_youth_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_eng_youth_sessions_agency_held', ['agency_id', 'held_on'], unique=False)
        batch_op.create_index('ix_eng_youth_sessions_program_held', ['program_id', 'held_on'], unique=False)
    _officers('eng_youth_session_officers', 'session_id', 'eng_youth_sessions')

    # A call's location may be a place in the registry (the column exists since 0003).
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_calls_place_id_places'), 'places', ['place_id'], ['id'])


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_calls_place_id_places'), type_='foreignkey')
    op.drop_table('eng_youth_session_officers')
    with op.batch_alter_table('eng_youth_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_eng_youth_sessions_program_held')
        batch_op.drop_index('ix_eng_youth_sessions_agency_held')
    op.drop_table('eng_youth_sessions')
    with op.batch_alter_table('eng_youth_programs', schema=None) as batch_op:
        batch_op.drop_index('ix_eng_youth_programs_agency')
    op.drop_table('eng_youth_programs')
    with op.batch_alter_table('eng_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_eng_posts_agency_posted')
    op.drop_table('eng_posts')
    op.drop_table('eng_partnership_agencies')
    with op.batch_alter_table('eng_partnerships', schema=None) as batch_op:
        batch_op.drop_index('ix_eng_partnerships_agency_started')
    op.drop_table('eng_partnerships')
    op.drop_table('eng_event_officers')
    with op.batch_alter_table('eng_events', schema=None) as batch_op:
        batch_op.drop_index('ix_eng_events_place_held')
        batch_op.drop_index('ix_eng_events_agency_held')
    op.drop_table('eng_events')
    op.drop_table('eng_visit_officers')
    with op.batch_alter_table('eng_visits', schema=None) as batch_op:
        batch_op.drop_index('ix_eng_visits_place_started')
        batch_op.drop_index('ix_eng_visits_agency_started')
    op.drop_table('eng_visits')
    with op.batch_alter_table('places', schema=None) as batch_op:
        batch_op.drop_index('ix_places_agency_address_key')
    op.drop_table('places')
