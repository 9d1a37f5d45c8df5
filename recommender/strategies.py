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
    """Return ``strategy`` if it is known, else raise ``UnknownStrategy`` naming the choices."""
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


# Why each emotion gets its default strategy, in words for the page.
_DEFAULT_WHY: Final[dict[str, str]] = {
    "Angry": "Anger is eased rather than mirrored, so we chose music to calm down.",
    "Disgust": "A sour mood is lifted rather than mirrored, so we chose music to lift it.",
    "Fear": "Fear is eased rather than mirrored, so we chose music to calm down.",
    "Happy": "A happy mood is worth keeping, so we chose music that matches it.",
    "Neutral": "An even mood is met as it is, so we chose music that matches it.",
    "Sad": "A low mood is lifted rather than mirrored, so we chose music to lift it.",
    "Surprise": "Surprise is met with its own energy, so we chose music that matches it.",
}

# How a person's own choice reads in a reason ("because you asked to ...").
ASKED: Final[dict[str, str]] = {
    "match": "match your mood",
    "lift": "lift your mood",
    "calm": "calm down",
}


def strategy_choice(emotion: str, asked: str | None) -> dict[str, str]:
    """Which strategy the music follows, who chose it ("you" or "us") and one sentence why."""
    if asked:
        strategy = check_strategy(asked)
        return {"strategy": strategy, "chosen_by": "you",
                "why": f"You asked to {ASKED[strategy]}: {DESCRIPTIONS[strategy]}."}
    strategy = default_strategy(emotion)
    return {"strategy": strategy, "chosen_by": "us", "why": _DEFAULT_WHY[emotion]}
