"""case notes (append-only, encrypted, with addenda) and break-the-glass grants

Revision ID: 0008_case_notes
Revises: 0007_cases
Create Date: 2026-11-24 16:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0008_case_notes'
down_revision = '0007_cases'
branch_labels = None
depends_on = None

# Notes are append-only even for someone with SQL access to the app's role.
# The one UPDATE let through is key rotation's: nothing but body_enc changes,
# and the new token names a different key (its header: version byte, key id
# length, key id). Forging a body still needs the data key, as the token is
# authenticated and bound to the row.
APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION case_notes_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (to_jsonb(NEW) - 'body_enc') = (to_jsonb(OLD) - 'body_enc')
     AND substring(NEW.body_enc FROM 1 FOR 2 + get_byte(NEW.body_enc, 1))
         <> substring(OLD.body_enc FROM 1 FOR 2 + get_byte(OLD.body_enc, 1)) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'case_notes is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_notes_no_update_delete
  BEFORE UPDATE OR DELETE ON case_notes
  FOR EACH ROW EXECUTE FUNCTION case_notes_append_only();
CREATE TRIGGER case_notes_no_truncate
  BEFORE TRUNCATE ON case_notes
  FOR EACH STATEMENT EXECUTE FUNCTION case_notes_append_only();
"""


def upgrade():
    op.create_table('case_notes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('sensitivity', sa.String(length=8), nullable=False),
    sa.Column('addendum_to_id', sa.String(length=36), nullable=True),
    sa.Column('author_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('body_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_case_notes_agency_id_agencies')),
    sa.ForeignKeyConstraint(['addendum_to_id'], ['case_notes.id'], name=op.f('fk_case_notes_addendum_to_id_case_notes')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_case_notes_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index('ix_case_notes_case_created', ['case_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_notes_addendum_to_id'), ['addendum_to_id'], unique=False)

    op.create_table('break_glass_grants',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('reason_code', sa.String(length=24), nullable=False),
    sa.Column('reason_text_enc', sa.LargeBinary(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by_id', sa.String(length=36), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_outcome', sa.String(length=16), nullable=True),
    sa.Column('review_comment_enc', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_break_glass_grants_user_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_break_glass_grants_case_id_cases')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_break_glass_grants_person_id_persons')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_break_glass_grants_agency_id_agencies')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_break_glass_grants_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass_grants'))
    )
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.create_index('ix_break_glass_user_expires', ['user_id', 'expires_at'], unique=False)
        batch_op.create_index('ix_break_glass_agency_reviewed', ['agency_id', 'reviewed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_break_glass_grants_case_id'), ['case_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_SQL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_notes_no_update_delete ON case_notes")
        op.execute("DROP TRIGGER IF EXISTS case_notes_no_truncate ON case_notes")
        op.execute("DROP FUNCTION IF EXISTS case_notes_append_only()")
    with op.batch_alter_table('break_glass_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_break_glass_grants_case_id'))
        batch_op.drop_index('ix_break_glass_agency_reviewed')
        batch_op.drop_index('ix_break_glass_user_expires')
    op.drop_table('break_glass_grants')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_addendum_to_id'))
        batch_op.drop_index('ix_case_notes_case_created')
    op.drop_table('case_notes')
