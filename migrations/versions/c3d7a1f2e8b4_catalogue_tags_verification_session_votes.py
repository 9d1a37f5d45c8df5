"""catalogue: tags, provenance, verification and retirement, quota pause; feedback: one vote per session

Revision ID: c3d7a1f2e8b4
Revises: b7c2e9d41f05
Create Date: 2026-12-01 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d7a1f2e8b4'
down_revision = 'b7c2e9d41f05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quota_paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('quota_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_state'))
    )
    with op.batch_alter_table('playlists', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tags', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('provenance', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('verified_by', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retired_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_key', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            'one_vote_per_session', ['session_key', 'playlist_id', 'emotion', 'strategy']
        )


def downgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint('one_vote_per_session', type_='unique')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('session_key')
    with op.batch_alter_table('playlists', schema=None) as batch_op:
        batch_op.drop_column('retired_reason')
        batch_op.drop_column('retired_at')
        batch_op.drop_column('verified_by')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('provenance')
        batch_op.drop_column('tags')
    op.drop_table('catalogue_state')
