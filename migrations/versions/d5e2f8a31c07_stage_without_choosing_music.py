"""analyses.stage: the stages a run goes through are queued, analysing, done and failed

Revision ID: d5e2f8a31c07
Revises: c4d8e1f7a902
Create Date: 2026-12-06 17:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd5e2f8a31c07'
down_revision = 'c4d8e1f7a902'
branch_labels = None
depends_on = None

STAGES = "stage IN ('queued', 'analysing', 'done', 'failed')"
WITH_CHOOSING_MUSIC = "stage IN ('queued', 'analysing', 'choosing_music', 'done', 'failed')"


def upgrade():
    # No code writes the music stage; a row that somehow holds it is still analysing as far as anyone can tell.
    op.execute("UPDATE analyses SET stage = 'analysing' WHERE stage = 'choosing_music'")
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_analyses_stage'), type_='check')
        batch_op.create_check_constraint(op.f('ck_analyses_stage'), STAGES)


def downgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_analyses_stage'), type_='check')
        batch_op.create_check_constraint(op.f('ck_analyses_stage'), WITH_CHOOSING_MUSIC)
