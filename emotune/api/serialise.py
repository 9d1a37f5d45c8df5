"""Turn analyses into the JSON shapes of docs/ARCHITECTURE.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from emotune.models import Analysis, Face, as_utc
from recognizer.group import group_reading
from recognizer.pipeline import NO_FACE_TIPS

TIMING_KEYS = ("queue", "decode", "detect", "classify", "recommend", "total")

# Wording the page shows next to a confidence; thresholds follow how peaked a 7-way softmax is.
CONFIDENCE_LABELS: tuple[tuple[float, str], ...] = (
    (0.8, "very sure"),
    (0.6, "fairly sure"),
    (0.4, "somewhat sure"),
    (0.0, "unsure"),
)



def confidence_label(confidence: float) -> str:
    """Plain words for a probability: 'very sure', 'fairly sure', 'somewhat sure' or 'unsure'."""
    for threshold, label in CONFIDENCE_LABELS:
        if confidence >= threshold:
            return label
    return "unsure"


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, or None."""
    return as_utc(moment).isoformat() if moment else None


def face_json(face: Face) -> dict[str, Any]:
    """One face: box, the seven probabilities, top emotion, confidence and whether it is primary."""
    return {
        "box": {"x": face.box_x, "y": face.box_y, "width": face.box_width, "height": face.box_height},
        "probabilities": face.probabilities,
        "emotion": face.emotion,
        "confidence": face.confidence,
        "confidence_label": confidence_label(face.confidence),
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


def group_json(analysis: Analysis) -> dict[str, Any] | None:
    """The group's reading (emotion, probabilities, faces read and agreeing, a sentence); None for 0-1 faces."""
    group = group_reading([(tuple(face.probabilities.values()), face.box_width) for face in analysis.faces])
    return group.to_dict() if group else None


def music_follows(analysis: Analysis) -> str | None:
    """"group" with two or more faces, "face" with one, None without a face (no music)."""
    if not analysis.faces:
        return None
    return "group" if len(analysis.faces) > 1 else "face"


def analysis_json(analysis: Analysis) -> dict[str, Any]:
    """The full analysis as ``GET /api/analyses/<id>`` returns it."""
    timings = analysis.timings_ms or {}
    recommendations = analysis.recommendations
    return {
        "id": str(analysis.id),
        "url": url_for("api.get_analysis", analysis_id=analysis.id),
        "status": analysis.status,
        "stage": analysis.stage,
        "created_at": iso(analysis.created_at),
        "updated_at": iso(analysis.updated_at),
        "strategy": analysis.effective_strategy,
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
        "group": group_json(analysis),
        "music_follows": music_follows(analysis),
        "ignored_faces": list(analysis.ignored_faces or []),
        "faces_left_out": analysis.faces_left_out or 0,
        "primary_emotion": analysis.primary_emotion,
        "confidence": analysis.confidence,
        "recommendations": recommendations,
    }


def summary_json(analysis: Analysis) -> dict[str, Any]:
    """A short line of history: when, status, the primary emotion and how sure."""
    return {
        "id": str(analysis.id),
        "url": url_for("api.get_analysis", analysis_id=analysis.id),
        "status": analysis.status,
        "created_at": iso(analysis.created_at),
        "strategy": analysis.effective_strategy,
        "primary_emotion": analysis.primary_emotion,
        "confidence": analysis.confidence,
        "confidence_label": confidence_label(analysis.confidence)
        if analysis.confidence is not None
        else None,
        "face_count": len(analysis.faces),
        "error": {"code": analysis.error_code, "message": analysis.error_message}
        if analysis.error_code
        else None,
    }
