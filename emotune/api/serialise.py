"""Turn analyses into the JSON shapes of docs/ARCHITECTURE.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, url_for

from emotune.api.access import voter_key
from emotune.extensions import db
from emotune.models import Analysis, Face, as_utc
from emotune.served_model import confidence_bands
from recognizer.confidence import Band, reading
from recognizer.emotions import EMOTIONS
from recognizer.advice import NO_FACE_TIPS
from recommender.covers import safe_cover_url
from recommender.feedback import card_votes
from recommender.choice import MusicChoice

TIMING_KEYS = ("queue", "decode", "detect", "classify", "recommend", "total")
# Said when the served model has no bands measured on validation: no word is better than an untrue one.
UNMEASURED_LABEL = "uncalibrated"


def confidence_band(confidence: float) -> Band | None:
    """The served model's band for a confidence (measured on validation), or None when it has none."""
    bands = confidence_bands(current_app.config)
    return bands.band(confidence) if bands is not None else None


def confidence_label(confidence: float) -> str:
    """The band's words for a confidence ("sure", "leaning this way", "not sure")."""
    band = confidence_band(confidence)
    return band.label if band is not None else UNMEASURED_LABEL


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    return as_utc(moment).isoformat() if moment else None


def face_json(face: Face) -> dict[str, Any]:
    """One face: box, the seven probabilities, top emotion, confidence, its band and reading, largest or not."""
    band = confidence_band(face.confidence)
    probabilities = face.probabilities
    return {
        "box": {"x": face.box_x, "y": face.box_y, "width": face.box_width, "height": face.box_height},
        "probabilities": probabilities,
        "emotion": face.emotion,
        "confidence": face.confidence,
        "confidence_label": band.label if band is not None else UNMEASURED_LABEL,
        "band": band.to_json() if band is not None else None,
        "reading": reading([probabilities[name] for name in EMOTIONS], band),
        "primary": face.is_primary,
    }


def notice_json(analysis: Analysis) -> dict[str, Any] | None:
    """The notice (no face, still waiting for a worker, ...) or None."""
    if not analysis.notice_code:
        return None
    notice: dict[str, Any] = {"code": analysis.notice_code, "message": analysis.notice_message}
    if analysis.notice_code == "no_face":
        notice["tips"] = list(NO_FACE_TIPS)
    return notice


def with_votes(cards: list[dict[str, Any]], emotion: str, strategy: str, voter: str | None) -> list[dict[str, Any]]:
    """Cards with the contract's fields filled: cover_url, owner, track_count, liked_by, my_vote.

    Votes are read live (the cards themselves are a snapshot from when the analysis ran).
    """
    votes = card_votes(db.session, [c["spotify_id"] for c in cards], emotion, strategy, voter)
    out = []
    for card in cards:
        liked_by, my_vote = votes.get(card["spotify_id"], (0, None))
        cover = safe_cover_url(card.get("cover_url"))
        # A stored card may also carry the same address as image_url; the contract names it once.
        fields = {key: value for key, value in card.items() if key != "image_url"}
        out.append({**fields, "cover_url": cover, "owner": card.get("owner") or None,
                    "track_count": card.get("track_count"), "liked_by": liked_by, "my_vote": my_vote})
    return out


def choice_fields(choice: MusicChoice | None, asked: str | None = None) -> dict[str, Any]:
    """``music``, the one statement of the music decision, and the fields that repeat it for one release.

    Deprecated, kept one release for clients that read them: ``strategy`` (the strategy used, or the one
    asked for while none is known), ``strategy_choice`` (strategy, chosen_by, why) and
    ``music_follows`` ("group", "face" or "said"). Each is ``music``'s own value.
    """
    return {
        "music": choice.to_json() if choice else None,
        "strategy": choice.strategy if choice else asked,
        "strategy_choice": {"strategy": choice.strategy, "chosen_by": choice.chosen_by, "why": choice.why}
        if choice else None,
        "music_follows": choice.follows if choice else None,
    }


def recommendations_json(analysis: Analysis) -> dict[str, Any] | None:
    """The stored playlists with live vote counts and this requester's own votes.

    ``strategy`` and ``chosen_by`` here repeat ``music`` for one release (deprecated).
    """
    recs, choice = analysis.recommendations, analysis.choice
    if not recs or choice is None:
        return recs
    cards = with_votes(recs.get("playlists") or [], choice.emotion, choice.strategy, voter_key(analysis))
    return {"strategy": choice.strategy, "chosen_by": choice.chosen_by, "playlists": cards}


def analysis_json(analysis: Analysis) -> dict[str, Any]:
    """The full analysis as ``GET /api/analyses/<id>`` returns it."""
    timings = analysis.timings_ms or {}
    recommendations = recommendations_json(analysis)
    return {
        "id": str(analysis.id),
        "url": url_for("api.get_analysis", analysis_id=analysis.id),
        "status": analysis.status,
        "stage": analysis.stage,
        "created_at": iso(analysis.created_at),
        "updated_at": iso(analysis.updated_at),
        **choice_fields(analysis.choice, analysis.strategy),
        "error": {"code": analysis.error_code, "message": analysis.error_message}
        if analysis.error_code
        else None,
        "notice": notice_json(analysis),
        "model": {"name": analysis.model_name, "version": analysis.model_version}
        if analysis.model_name
        else None,
        "timings_ms": {key: timings[key] for key in TIMING_KEYS if key in timings} or None,
        "image": {"width": analysis.image_width, "height": analysis.image_height}
        if analysis.image_width
        else None,
        "faces": [face_json(face) for face in analysis.faces],
        "group": analysis.group_reading,
        "ignored_faces": list(analysis.ignored_faces or []),
        "faces_left_out": analysis.faces_left_out or 0,
        # The emotion read; music.emotion differs from it when the person said they feel otherwise.
        "primary_emotion": analysis.read_emotion,
        "said_emotion": analysis.said_emotion,
        "confidence": analysis.confidence,
        "recommendations": recommendations,
    }


def summary_json(analysis: Analysis) -> dict[str, Any]:
    """A short line of history: when, status, the emotion read and how sure, and the one the person said."""
    return {
        "id": str(analysis.id),
        "url": url_for("api.get_analysis", analysis_id=analysis.id),
        "status": analysis.status,
        "created_at": iso(analysis.created_at),
        "strategy": analysis.choice.strategy if analysis.choice else analysis.strategy,
        "primary_emotion": analysis.read_emotion,
        "said_emotion": analysis.said_emotion,
        "confidence": analysis.confidence,
        "confidence_label": confidence_label(analysis.confidence)
        if analysis.confidence is not None
        else None,
        "face_count": len(analysis.faces),
        "error": {"code": analysis.error_code, "message": analysis.error_message}
        if analysis.error_code
        else None,
    }
