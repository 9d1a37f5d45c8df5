"""analyses: ignored_faces and faces_left_out (the faces issue's group reading)

Revision ID: c4d8e1f7a902
Revises: c3d7a1f2e8b4
Create Date: 2026-12-01 03:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e1f7a902'
down_revision = 'c3d7a1f2e8b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ignored_faces', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('faces_left_out', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('faces_left_out')
        batch_op.drop_column('ignored_faces')
