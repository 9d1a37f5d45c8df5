""""Not how you feel?": ``PUT /api/analyses/<id>/correction`` with ``{"emotion": "Sad"}``.

The said emotion is stored on the analysis (never the photo, which is long gone), the music is chosen
again for it through the same ``choose_music`` as the worker and re-ranking (a ``MusicSource`` that
follows what was "said", stored as ``analysis.music``), and from then on votes count for it. ``null`` (or
the emotion that was read) takes the correction back: "keep yours". Each change moves the analysis's
one count in the field-accuracy table (``emotune.field_accuracy``).
"""

from __future__ import annotations

from flask import Response, jsonify

from emotune.api import bp
from emotune import lifecycle
from emotune.api.analyses import _music_source, analysis_state, asked_strategy, load_analysis
from emotune.api.errors import ApiError
from emotune.api.validation import is_optional_text, json_object, shown
from emotune.extensions import db
from emotune.field_accuracy import move_count
from emotune.models import utcnow
from recognizer.emotions import EMOTIONS
from recommender.choice import MusicSource, choose_music


EXAMPLE = (f'{{"emotion": "Sad"}} (one of {", ".join(EMOTIONS)}), or {{"emotion": null}} '
           "to keep the emotion EmoTune read.")


def _said(body: dict) -> tuple[str | None, str | None]:
    """(said emotion or None for "keep yours", asked strategy or None) from the JSON body, or a 400."""
    if "emotion" not in body or not is_optional_text(body["emotion"]) or not is_optional_text(body.get("strategy")):
        raise ApiError(400, "invalid_correction",
                       f'Send JSON like {EXAMPLE} "strategy", if sent, is a strategy name.')
    said = body["emotion"]
    if said is not None:
        said = next((name for name in EMOTIONS if name.lower() == said.strip().lower()), "")
        if not said:
            raise ApiError(400, "unknown_emotion",
                           f"Unknown emotion {shown(body['emotion'])}: choose one of {', '.join(EMOTIONS)}.")
    return said, asked_strategy(body.get("strategy"))


@bp.put("/analyses/<analysis_id>/correction")
def put_correction(analysis_id: str) -> Response:
    """Store (or take back) how the person says they feel, choose the music again, answer the analysis."""
    analysis = load_analysis(analysis_id)
    _music_source(analysis)  # a finished analysis with a face, else its 409
    stored = analysis.choice
    said, asked = _said(json_object("invalid_correction", EXAMPLE))
    read = analysis.read_emotion
    if said == read:
        said = None  # saying what was read is keeping it
    move_count(db.session, analysis.model_name, analysis.model_version, read, analysis.said_emotion, said)
    analysis.said_emotion = said
    analysis.said_at = utcnow() if said else None
    # "Keep yours" goes back to the reading the worker followed (the group's or the face's).
    source = MusicSource.of_said(said) if said else analysis.reading_source()
    lifecycle.store_music(analysis, choose_music(source, asked or stored.asked))
    db.session.commit()
    return jsonify(analysis_state(analysis))
