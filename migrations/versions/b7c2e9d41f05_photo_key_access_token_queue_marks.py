"""analyses: photo_key and access_token_hash; queue_marks for the sweep

Revision ID: b7c2e9d41f05
Revises: aa3456ab404f
Create Date: 2026-12-01 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c2e9d41f05'
down_revision = 'aa3456ab404f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('access_token_hash', sa.String(length=64), nullable=True))
    op.create_table('queue_marks',
    sa.Column('queue', sa.String(length=200), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('swept_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('queue', name=op.f('pk_queue_marks'))
    )


def downgrade():
    op.drop_table('queue_marks')
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('access_token_hash')
        batch_op.drop_column('photo_key')
