"""analyses: said_emotion and said_at; field_corrections (read vs said per served model)

Revision ID: d5e9f2a3b716
Revises: d5e2f8a31c07
Create Date: 2026-12-06 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e9f2a3b716'
down_revision = 'd5e2f8a31c07'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('said_emotion', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('said_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'field_corrections',
        sa.Column('model_name', sa.String(length=120), nullable=False),
        sa.Column('model_version', sa.String(length=64), nullable=False),
        sa.Column('read_emotion', sa.String(length=16), nullable=False),
        sa.Column('said_emotion', sa.String(length=16), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('model_name', 'model_version', 'read_emotion', 'said_emotion',
                                name=op.f('pk_field_corrections')),
    )


def downgrade():
    op.drop_table('field_corrections')
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('said_at')
        batch_op.drop_column('said_emotion')
