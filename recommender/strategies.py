"""The three ways music can answer a mood, and which one each emotion starts with."""

from __future__ import annotations

from typing import Final

from recognizer.emotions import EMOTIONS

STRATEGIES: Final[tuple[str, ...]] = ("match", "lift", "calm")

DESCRIPTIONS: Final[dict[str, str]] = {
    "match": "music that mirrors the mood",
    "lift": "music that moves toward a better mood",
    "calm": "music that settles an angry or fearful mood",
}

# Anger and fear are eased rather than mirrored; low moods are lifted; the rest are matched.
_DEFAULTS: Final[dict[str, str]] = {
    "Angry": "calm",
    "Disgust": "lift",
    "Fear": "calm",
    "Happy": "match",
    "Neutral": "match",
    "Sad": "lift",
    "Surprise": "match",
}


class UnknownStrategy(ValueError):
    """Raised for a strategy name outside ``STRATEGIES``."""


class UnknownEmotion(ValueError):
    """Raised for an emotion name outside ``recognizer.emotions.EMOTIONS``."""


def default_strategy(emotion: str) -> str:
    """Return the strategy an emotion gets when the user chose none."""
    return _DEFAULTS[check_emotion(emotion)]


def check_strategy(strategy: str) -> str:
    """Return ``strategy`` if it is known, else raise ``UnknownStrategy`` naming the choices.

    The one check of a strategy name: the API asks it too (``emotune.api.analyses.asked_strategy``),
    after reading an absent or empty value as "the emotion's default".
    """
    if strategy not in STRATEGIES:
        raise UnknownStrategy(
            f"Unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}."
        )
    return strategy


def check_emotion(emotion: str) -> str:
    """Return ``emotion`` if it is one of the seven classes, else raise ``UnknownEmotion``."""
    if emotion not in EMOTIONS:
        raise UnknownEmotion(f"Unknown emotion {emotion!r}: choose one of {', '.join(EMOTIONS)}.")
    return emotion


# How a person's own choice reads in a reason ("because you asked to ...").
ASKED: Final[dict[str, str]] = {
    "match": "match your mood",
    "lift": "lift your mood",
    "calm": "calm down",
}
