"""referrals: service directory, consents, referrals, disclosures

Revision ID: 0010_referrals
Revises: 0009_followups
Create Date: 2026-11-24 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0010_referrals'
down_revision = '0009_followups'
branch_labels = None
depends_on = None

# The accounting of disclosures is append-only even for someone with SQL access
# to the app's role. The one UPDATE let through is key rotation's: only the
# encrypted columns change, and each one that changes is under another key (the
# token's header: version byte, key id length, key id). Forging a value still
# needs the data key, as each token is authenticated and bound to its row.
ENCRYPTED = ("recipient_name_enc", "recipient_affiliation_enc", "recipient_address_enc", "description_enc",
             "purpose_enc", "emergency_nature_enc", "consent_copy_enc")
_REKEYED = " AND ".join(
    f"(NEW.{c} IS NOT DISTINCT FROM OLD.{c} OR (NEW.{c} IS NOT NULL AND OLD.{c} IS NOT NULL AND "
    f"substring(NEW.{c} FROM 1 FOR 2 + get_byte(NEW.{c}, 1)) <> substring(OLD.{c} FROM 1 FOR 2 + get_byte(OLD.{c}, 1))))"
    for c in ENCRYPTED)
APPEND_ONLY_SQL = f"""
CREATE OR REPLACE FUNCTION disclosures_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND (to_jsonb(NEW) - ARRAY[{", ".join(f"'{c}'" for c in ENCRYPTED)}])
         = (to_jsonb(OLD) - ARRAY[{", ".join(f"'{c}'" for c in ENCRYPTED)}])
     AND {_REKEYED} THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'disclosures is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER disclosures_no_update_delete
  BEFORE UPDATE OR DELETE ON disclosures
  FOR EACH ROW EXECUTE FUNCTION disclosures_append_only();
CREATE TRIGGER disclosures_no_truncate
  BEFORE TRUNCATE ON disclosures
  FOR EACH STATEMENT EXECUTE FUNCTION disclosures_append_only();
"""


def upgrade():
    op.create_table('service_directory',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('website', sa.String(length=200), nullable=False),
    sa.Column('hours', sa.String(length=200), nullable=False),
    sa.Column('serves_all_towns', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_service_directory_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_directory'))
    )
    with op.batch_alter_table('service_directory', schema=None) as batch_op:
        batch_op.create_index('ix_service_directory_active_name', ['active', 'name'], unique=False)

    op.create_table('service_towns',
    sa.Column('service_id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service_directory.id'], name=op.f('fk_service_towns_service_id_service_directory'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_service_towns_agency_id_agencies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'agency_id', name=op.f('pk_service_towns'))
    )

    op.create_table('consents',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('recipient_kind', sa.String(length=12), nullable=False),
    sa.Column('recipient_agency_id', sa.String(length=36), nullable=True),
    sa.Column('recipient_service_id', sa.String(length=36), nullable=True),
    sa.Column('recipient_class', sa.String(length=40), nullable=True),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('purpose_enc', sa.LargeBinary(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('expiry_event_enc', sa.LargeBinary(), nullable=True),
    sa.Column('expiry_event_on', sa.Date(), nullable=True),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('signed_method', sa.String(length=20), nullable=False),
    sa.Column('signed_by', sa.String(length=20), nullable=False),
    sa.Column('representative_name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('witness_name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoked_by', sa.String(length=20), nullable=True),
    sa.Column('revocation_recorded_by_id', sa.String(length=36), nullable=True),
    sa.Column('revocation_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_consents_agency_id_agencies')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_consents_person_id_persons')),
    sa.ForeignKeyConstraint(['recipient_agency_id'], ['agencies.id'], name=op.f('fk_consents_recipient_agency_id_agencies')),
    sa.ForeignKeyConstraint(['recipient_service_id'], ['service_directory.id'], name=op.f('fk_consents_recipient_service_id_service_directory')),
    sa.ForeignKeyConstraint(['revocation_recorded_by_id'], ['users.id'], name=op.f('fk_consents_revocation_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index('ix_consents_person_signed', ['person_id', 'signed_on'], unique=False)

    op.create_table('referrals',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_agency_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('to_agency_id', sa.String(length=36), nullable=True),
    sa.Column('service_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('shares_information', sa.Boolean(), nullable=False),
    sa.Column('includes_part2', sa.Boolean(), nullable=False),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('basis', sa.String(length=24), nullable=True),
    sa.Column('consent_id', sa.String(length=36), nullable=True),
    sa.Column('person_first_name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('person_last_name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('person_date_of_birth_enc', sa.LargeBinary(), nullable=True),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('risk_level', sa.String(length=12), nullable=True),
    sa.Column('cautions', sa.String(length=60), nullable=False),
    sa.Column('caution_notes_enc', sa.LargeBinary(), nullable=True),
    sa.Column('requested_action', sa.String(length=20), nullable=True),
    sa.Column('summary_text_enc', sa.LargeBinary(), nullable=True),
    sa.Column('emergency_nature_enc', sa.LargeBinary(), nullable=True),
    sa.Column('emergency_recipient_enc', sa.LargeBinary(), nullable=True),
    sa.Column('sent_by_id', sa.String(length=36), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.String(length=36), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason_enc', sa.LargeBinary(), nullable=True),
    sa.Column('received_case_id', sa.String(length=36), nullable=True),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hold_reason', sa.String(length=24), nullable=True),
    sa.Column('status_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status_updated_by_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['from_agency_id'], ['agencies.id'], name=op.f('fk_referrals_from_agency_id_agencies')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_referrals_case_id_cases')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_referrals_person_id_persons')),
    sa.ForeignKeyConstraint(['to_agency_id'], ['agencies.id'], name=op.f('fk_referrals_to_agency_id_agencies')),
    sa.ForeignKeyConstraint(['service_id'], ['service_directory.id'], name=op.f('fk_referrals_service_id_service_directory')),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_referrals_consent_id_consents')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_referrals_sent_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_referrals_decided_by_id_users')),
    sa.ForeignKeyConstraint(['received_case_id'], ['cases.id'], name=op.f('fk_referrals_received_case_id_cases')),
    sa.ForeignKeyConstraint(['status_updated_by_id'], ['users.id'], name=op.f('fk_referrals_status_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index('ix_referrals_from_status_sent', ['from_agency_id', 'status', 'sent_at'], unique=False)
        batch_op.create_index('ix_referrals_to_status_sent', ['to_agency_id', 'status', 'sent_at'], unique=False)
        batch_op.create_index('ix_referrals_case', ['case_id'], unique=False)
        batch_op.create_index('ix_referrals_consent_status', ['consent_id', 'status'], unique=False)

    op.create_table('disclosures',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=True),
    sa.Column('referral_id', sa.String(length=36), nullable=True),
    sa.Column('consent_id', sa.String(length=36), nullable=True),
    sa.Column('basis', sa.String(length=24), nullable=False),
    sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disclosed_by_id', sa.String(length=36), nullable=False),
    sa.Column('recipient_kind', sa.String(length=12), nullable=False),
    sa.Column('recipient_agency_id', sa.String(length=36), nullable=True),
    sa.Column('recipient_service_id', sa.String(length=36), nullable=True),
    sa.Column('recipient_name_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recipient_affiliation_enc', sa.LargeBinary(), nullable=True),
    sa.Column('recipient_address_enc', sa.LargeBinary(), nullable=True),
    sa.Column('categories', sa.String(length=200), nullable=False),
    sa.Column('includes_part2', sa.Boolean(), nullable=False),
    sa.Column('description_enc', sa.LargeBinary(), nullable=True),
    sa.Column('purpose_enc', sa.LargeBinary(), nullable=True),
    sa.Column('emergency_nature_enc', sa.LargeBinary(), nullable=True),
    sa.Column('notice_attached', sa.Boolean(), nullable=False),
    sa.Column('consent_copy_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_disclosures_agency_id_agencies')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_disclosures_person_id_persons')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_disclosures_case_id_cases')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_disclosures_referral_id_referrals')),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_disclosures_consent_id_consents')),
    sa.ForeignKeyConstraint(['disclosed_by_id'], ['users.id'], name=op.f('fk_disclosures_disclosed_by_id_users')),
    sa.ForeignKeyConstraint(['recipient_agency_id'], ['agencies.id'], name=op.f('fk_disclosures_recipient_agency_id_agencies')),
    sa.ForeignKeyConstraint(['recipient_service_id'], ['service_directory.id'], name=op.f('fk_disclosures_recipient_service_id_service_directory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index('ix_disclosures_person_at', ['person_id', 'disclosed_at'], unique=False)
        batch_op.create_index('ix_disclosures_agency_at', ['agency_id', 'disclosed_at'], unique=False)
        batch_op.create_index('ix_disclosures_referral', ['referral_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_SQL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS disclosures_no_update_delete ON disclosures")
        op.execute("DROP TRIGGER IF EXISTS disclosures_no_truncate ON disclosures")
        op.execute("DROP FUNCTION IF EXISTS disclosures_append_only()")
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosures_referral')
        batch_op.drop_index('ix_disclosures_agency_at')
        batch_op.drop_index('ix_disclosures_person_at')
    op.drop_table('disclosures')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_consent_status')
        batch_op.drop_index('ix_referrals_case')
        batch_op.drop_index('ix_referrals_to_status_sent')
        batch_op.drop_index('ix_referrals_from_status_sent')
    op.drop_table('referrals')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index('ix_consents_person_signed')
    op.drop_table('consents')
    op.drop_table('service_towns')
    with op.batch_alter_table('service_directory', schema=None) as batch_op:
        batch_op.drop_index('ix_service_directory_active_name')
    op.drop_table('service_directory')
