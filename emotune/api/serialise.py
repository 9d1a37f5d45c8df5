"""Turn analyses into the JSON shapes of docs/ARCHITECTURE.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, url_for

from emotune.models import Analysis, Face, as_utc
from emotune.served_model import confidence_bands
from recognizer.confidence import Band, reading
from recognizer.emotions import EMOTIONS
from recognizer.pipeline import NO_FACE_TIPS

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
    """One face: box, the seven probabilities, top emotion, confidence, its band and reading, primary or not."""
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
