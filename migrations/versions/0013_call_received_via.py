"""calls: how the call came in (911, business line, walk-in, ...), for the diversion program's extract

Revision ID: 0013_call_received_via
Revises: 0012_scale_indexes
Create Date: 2026-11-24 08:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_call_received_via'
down_revision = '0012_scale_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls') as batch_op:
        batch_op.add_column(sa.Column('received_via', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('calls') as batch_op:
        batch_op.drop_column('received_via')
