"""Routes for analyses: upload a selfie, poll the result, re-rank playlists, vote, delete."""

from __future__ import annotations

import uuid

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import select

from emotune.api import bp
from emotune.api.access import may_access, new_token, voter_key
from emotune.api.browser_session import history_key
from emotune.api.errors import ApiError
from emotune.api.validation import index_in_range, is_text, json_object, shown
from emotune import lifecycle, messages, recovery
from emotune.api.serialise import analysis_json, with_votes
from emotune.extensions import db, limiter
from emotune.models import Analysis, Stage, Status
from emotune.tasks import analyse_selfie
from recognizer.errors import ImageRejected
from recognizer.images import check_upload
from recommender.feedback import UnknownPlaylist, record_vote
from recommender.models import Playlist
from recommender.service import recommend, showable_ids
from recommender.strategies import STRATEGIES, strategy_choice

# HTTP status per ImageRejected code: what kind of mistake each one is.
REJECTION_STATUS: dict[str, int] = {
    "empty_file": 400,
    "not_an_image": 400,
    "unsupported_format": 415,
    "truncated_image": 400,
    "image_too_large": 413,
    "image_too_small": 422,
    "image_too_narrow": 422,
}


def _rate_limit() -> str:
    return current_app.config["EMOTUNE_ANALYSES_RATE_LIMIT"]


def check_strategy(value: str | None) -> str | None:
    """None/empty means "the emotion's default"; anything else must be a known strategy."""
    if value is None or value == "":
        return None
    if value not in STRATEGIES:
        raise ApiError(
            400,
            "unknown_strategy",
            f"Unknown strategy {shown(value)}: choose one of {', '.join(STRATEGIES)}, or leave it out.",
        )
    return value


def load_analysis(analysis_id: str) -> Analysis:
    """This requester's analysis with this id, or a 404 ApiError (malformed, unknown or not theirs)."""
    try:
        key = uuid.UUID(analysis_id)
    except ValueError:
        key = None
    analysis = db.session.get(Analysis, key) if key else None
    if analysis is None or not may_access(analysis):
        raise ApiError(
            404,
            "analysis_not_found",
            "No analysis has this id: it may have been deleted. Take or upload a new photo.",
        )
    return analysis


@bp.post("/analyses")
@limiter.limit(_rate_limit)
def create_analysis() -> tuple[Response, int, dict[str, str]]:
    """Check the upload in memory (its header and its end: the worker decodes it), store a queued
    analysis, enqueue the task with the photo as received."""
    upload = request.files.get("image")
    if upload is None:
        raise ApiError(
            400,
            "no_file",
            "No photo received: send it as multipart/form-data in the field named 'image'.",
        )
    strategy = check_strategy(request.form.get("strategy"))
    try:
        checked = check_upload(upload.read())
    except ImageRejected as exc:
        raise ApiError(REJECTION_STATUS.get(exc.code, 400), exc.code, exc.message) from None
    token, token_hash = new_token()
    analysis = lifecycle.create(strategy, history_key(create=True), token_hash)
    try:
        lifecycle.enqueue(analysis, checked, analyse_selfie)
    except lifecycle.QueueUnavailable:
        raise ApiError(503, "queue_unavailable", messages.QUEUE_UNAVAILABLE) from None
    location = url_for("api.get_analysis", analysis_id=analysis.id)
    # The token is shown this once: API clients without cookies send it as a Bearer token.
    body = jsonify(id=str(analysis.id), status=analysis.status, url=location, token=token)
    return body, 202, {"Location": location}


@bp.get("/analyses/<analysis_id>")
def get_analysis(analysis_id: str) -> Response:
    """The analysis' status and, when done, faces, emotion, model, timings and playlists."""
    return jsonify(analysis_state(load_analysis(analysis_id)))


def analysis_state(analysis: Analysis) -> dict:
    """The analysis as a poll (or an event stream) shows it: a run that outlived its worker shows the
    failure the sweep will record, and a long wait says why. Reading it writes nothing."""
    body = analysis_json(analysis)
    stuck = recovery.stuck_error(analysis)
    if stuck is not None:
        body.update(status=Status.FAILED, stage=Stage.FAILED, error=stuck)
    if body["notice"] is None:
        body["notice"] = recovery.waiting_notice(analysis)
    return body


def _picked_face(analysis: Analysis, value: object, from_query: bool = False) -> int | None:
    """The face index the person picked to drive the music (``face``), or None for the default.

    A whole number only: ``true``, ``0.5`` or ``1e400`` name no face.
    """
    if value is None or value == "":
        return None
    index = index_in_range(value, len(analysis.faces), from_query)
    if index is None:
        raise ApiError(
            400, "unknown_face",
            f"There is no face {shown(value)} in this analysis: pick a face number (a whole number) from 0 to "
            f"{len(analysis.faces) - 1}, or leave it out to follow the group.",
        )
    return index


def _finished_emotion(analysis: Analysis, face: int | None = None) -> str:
    if analysis.status == Status.FAILED:
        raise ApiError(
            409, "analysis_failed",
            f"This analysis failed, so it has no emotion to choose music for: "
            f"{analysis.error_message or 'take or upload a new photo.'}",
        )
    if analysis.status != Status.DONE:
        raise ApiError(
            409, "not_ready", "This analysis has not finished yet: wait until its status is 'done'."
        )
    if not analysis.primary_emotion:
        raise ApiError(
            409,
            "no_emotion",
            "No face was found in this photo, so there is no emotion to choose music for. "
            "Take a new photo facing the camera.",
        )
    if face is not None:
        return analysis.faces[face].emotion
    return analysis.music_emotion


def choose_music(analysis: Analysis, emotion: str, asked: str | None) -> tuple[dict[str, str], list[dict]]:
    """The strategy choice and the playlists (as stored) for ``emotion``, without a new photo."""
    # Without an asked strategy the analysis's own choice stands, and so does who made it.
    choice = strategy_choice(emotion, asked or analysis.strategy)
    recs = recommend(db.session, emotion=emotion, strategy=choice["strategy"], chosen_by=choice["chosen_by"],
                     limit=current_app.config["EMOTUNE_PLAYLIST_COUNT"])
    return choice, [rec.to_dict() for rec in recs]


@bp.get("/analyses/<analysis_id>/recommendations")
def get_recommendations(analysis_id: str) -> Response:
    """Playlists for the analysis' emotion under another strategy, without a new photo.

    ``face=N`` makes one face (0 = the largest) drive the music instead of the group's reading.
    """
    analysis = load_analysis(analysis_id)
    face = _picked_face(analysis, request.args.get("face"), from_query=True)
    emotion = _finished_emotion(analysis, face)
    asked = check_strategy(request.args.get("strategy"))
    choice, playlists = choose_music(analysis, emotion, asked)
    cards = with_votes(playlists, emotion, choice["strategy"], voter_key(analysis))
    follows = "face" if face is not None or len(analysis.faces) < 2 else "group"
    return jsonify(strategy=choice["strategy"], strategy_choice=choice, emotion=emotion, music_follows=follows,
                   face=face, playlists=cards)


@bp.post("/analyses/<analysis_id>/feedback")
def post_feedback(analysis_id: str) -> tuple[Response, int]:
    """Store this session's thumbs up/down on a playlist for the analysis' emotion and strategy.

    One vote per session, playlist, emotion and strategy: voting again changes it (200), the first
    vote creates it (201). Another session's analysis answers 404 like an unknown one.
    """
    analysis = load_analysis(analysis_id)
    _finished_emotion(analysis)
    example = '{"playlist_id": "<spotify id>", "vote": "up"} (vote "up" or "down").'
    body = json_object("invalid_feedback", example)
    if not is_text(body.get("playlist_id")):
        raise ApiError(400, "invalid_feedback", f"playlist_id must be a playlist's Spotify id (text). Send {example}")
    # A vote on music that a picked face drove counts for that face's emotion.
    emotion = _finished_emotion(analysis, _picked_face(analysis, body.get("face")))
    strategy = check_strategy(body.get("strategy")) or analysis.effective_strategy
    _check_shown(analysis, body["playlist_id"], emotion, strategy)
    try:
        result = record_vote(db.session, body["playlist_id"], emotion, strategy, body.get("vote"),
                             voter=voter_key(analysis))
    except UnknownPlaylist as exc:
        raise ApiError(404, "unknown_playlist", str(exc)) from None
    except ValueError as exc:
        raise ApiError(400, "invalid_vote", str(exc)) from None
    liked_by, my_vote = with_votes([{"spotify_id": body["playlist_id"]}], emotion, strategy,
                                   voter_key(analysis))[0]["liked_by"], result.feedback.vote
    return jsonify(playlist_id=body["playlist_id"], vote=body.get("vote"), my_vote=my_vote, liked_by=liked_by,
                   changed=not result.created, emotion=emotion, strategy=strategy), 201 if result.created else 200


def _check_shown(analysis: Analysis, playlist_id: str, emotion: str, strategy: str) -> None:
    """A vote counts only for a playlist shown under this emotion and strategy: one of the analysis'
    own cards, or one that the re-ranking (``recommend``) can show for the pair."""
    own = analysis.recommendations or {}
    if own.get("strategy") == strategy and emotion == analysis.primary_emotion and any(
            card.get("spotify_id") == playlist_id for card in own.get("playlists", [])):
        return
    if playlist_id in showable_ids(db.session, emotion, strategy, current_app.config["EMOTUNE_PLAYLIST_COUNT"]):
        return
    if db.session.scalar(select(Playlist.id).where(Playlist.spotify_id == playlist_id)) is None:
        return  # not in the catalogue at all: record_vote answers that (404)
    raise ApiError(
        409, "playlist_not_shown",
        f"Playlist {shown(playlist_id)} is not among the playlists shown for {emotion} under the '{strategy}' "
        "strategy: vote on one of the cards shown for this analysis (and send the strategy they were shown under).",
    )


@bp.delete("/analyses/<analysis_id>")
def delete_analysis(analysis_id: str) -> tuple[str, int]:
    """Remove one analysis of this browser's history from the database."""
    analysis = load_analysis(analysis_id)
    db.session.delete(analysis)
    db.session.commit()
    return "", 204
