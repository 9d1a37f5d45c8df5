"""Withdrawing a vote: ``DELETE /api/analyses/<id>/feedback`` takes this session's thumb back.

The vote is found the way ``POST .../feedback`` stored it (``voted_music``): the same playlist, the
emotion the music followed (a picked ``face``'s, or the analysis' music's) and the strategy shown.
"""

from __future__ import annotations

from flask import Response, jsonify

from emotune.api import bp
from emotune.api.access import voter_key
from emotune.api.analyses import _music_source, load_analysis, voted_music
from emotune.api.errors import ApiError
from emotune.api.validation import is_optional_text, is_text, json_object
from emotune.api.serialise import with_votes
from emotune.extensions import db
from recommender.feedback import withdraw_vote


@bp.delete("/analyses/<analysis_id>/feedback")
def delete_feedback(analysis_id: str) -> Response:
    """Remove this session's vote on a playlist; answers the card's live "liked by" either way."""
    analysis = load_analysis(analysis_id)
    _music_source(analysis)
    example = '{"playlist_id": "<spotify id>"} to withdraw your vote on that playlist.'
    body = json_object("invalid_feedback", example)
    if not is_text(body.get("playlist_id")) or not is_optional_text(body.get("strategy")):
        raise ApiError(400, "invalid_feedback", f"playlist_id must be a playlist's Spotify id (text) and strategy, "
                                                f"if sent, a strategy name. Send {example}")
    emotion, strategy = voted_music(analysis, body)
    withdrawn = withdraw_vote(db.session, body["playlist_id"], emotion, strategy, voter_key(analysis))
    card = with_votes([{"spotify_id": body["playlist_id"]}], emotion, strategy, voter_key(analysis))[0]
    return jsonify(playlist_id=body["playlist_id"], withdrawn=withdrawn, my_vote=card["my_vote"],
                   liked_by=card["liked_by"], emotion=emotion, strategy=strategy)
