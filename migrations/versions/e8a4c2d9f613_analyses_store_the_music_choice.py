"""analyses: the music choice and the group reading stored with the result; primary_emotion folded into music

Revision ID: e8a4c2d9f613
Revises: d5e9f2a3b716
Create Date: 2026-12-06 17:40:00

"""
from alembic import op
import sqlalchemy as sa

from recognizer.emotions import EMOTIONS
from recognizer.group import group_reading
from recommender.choice import MusicSource, choose_music


# revision identifiers, used by Alembic.
revision = 'e8a4c2d9f613'
down_revision = 'd5e9f2a3b716'
branch_labels = None
depends_on = None

analyses = sa.table('analyses', sa.column('id', sa.Uuid), sa.column('strategy', sa.String),
                    sa.column('primary_emotion', sa.String), sa.column('music', sa.JSON),
                    sa.column('group_reading', sa.JSON), sa.column('said_emotion', sa.String),
                    sa.column('recommendations', sa.JSON))
faces = sa.table('faces', sa.column('analysis_id', sa.Uuid), sa.column('position', sa.Integer),
                 sa.column('box_width', sa.Integer), sa.column('emotion', sa.String),
                 *(sa.column(f'p_{name.lower()}', sa.Float) for name in EMOTIONS))


def upgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('music', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('group_reading', sa.JSON(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(analyses.c.id, analyses.c.strategy, analyses.c.primary_emotion,
                                  analyses.c.said_emotion, analyses.c.recommendations)
                        .where(analyses.c.primary_emotion.is_not(None))).all()
    for analysis_id, strategy, emotion, said, recs in rows:
        read = conn.execute(sa.select(faces).where(faces.c.analysis_id == analysis_id)
                            .order_by(faces.c.position)).mappings().all()
        group = group_reading([(tuple(row[f'p_{name.lower()}'] for name in EMOTIONS), row['box_width'])
                               for row in read])
        if said:
            # A correction's music followed the said emotion, under the strategy the person asked for then.
            recs = recs or {}
            asked = recs.get('strategy') if recs.get('chosen_by') == 'you' else strategy
            choice = choose_music(MusicSource.of_said(said), asked)
        else:
            choice = choose_music(MusicSource.of_photo(emotion, len(read)), strategy)
        conn.execute(analyses.update().where(analyses.c.id == analysis_id)
                     .values(music=choice.to_json(), group_reading=group.to_dict() if group else None))
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('primary_emotion')


def downgrade():
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('primary_emotion', sa.String(length=16), nullable=True))
    conn = op.get_bind()
    for analysis_id, music, group in conn.execute(sa.select(analyses.c.id, analyses.c.music, analyses.c.group_reading)
                                                  .where(analyses.c.music.is_not(None))).all():
        emotion = music['emotion']
        if music['follows'] == 'said':  # the reading, not the said emotion: the group's, else the largest face's
            first = conn.execute(sa.select(faces).where(faces.c.analysis_id == analysis_id)
                                 .order_by(faces.c.position).limit(1)).mappings().first()
            emotion = group['emotion'] if group else first['emotion']
        conn.execute(analyses.update().where(analyses.c.id == analysis_id).values(primary_emotion=emotion))
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('group_reading')
        batch_op.drop_column('music')
