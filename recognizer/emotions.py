"""The seven emotion classes, in the fixed order every model, table and page uses."""

from typing import Final

EMOTIONS: Final[tuple[str, ...]] = ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise")
