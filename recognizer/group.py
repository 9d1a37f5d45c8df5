"""The group's reading: one emotion for a photo of several faces, and a sentence that says so.

Each face's seven probabilities count with a weight: its confidence (the top probability, so a
face the model is unsure of pulls less) times its readable size (the FER2013 frame's side up to
96 px, twice the model's 48 px input; beyond that a larger face holds no more detail for the model,
and the back row is not drowned by the person nearest the camera).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from recognizer.emotions import EMOTIONS

# Frame side (photo pixels) at which a face counts fully; smaller faces count in proportion.
FULL_WEIGHT_SIDE: Final = 96
# Box width to FER2013 frame side (recognizer.crops.FRAME_BOX_WIDTH, repeated to keep this pure).
_FRAME_BOX_WIDTH: Final = 0.775
# "3 of 4 faces look ..." needs an adjective per class.
LOOK: Final[dict[str, str]] = {
    "Angry": "angry", "Disgust": "disgusted", "Fear": "fearful", "Happy": "happy",
    "Neutral": "neutral", "Sad": "sad", "Surprise": "surprised",
}


@dataclass(frozen=True)
class GroupReading:
    """The combined reading of two or more faces."""

    emotion: str
    probabilities: tuple[float, ...]  # EMOTIONS order, sums to 1
    faces_read: int
    faces_agreeing: int  # faces whose own top emotion is the group's
    sentence: str

    def to_dict(self) -> dict[str, object]:
        """The API's ``group`` object."""
        return {
            "emotion": self.emotion,
            "probabilities": dict(zip(EMOTIONS, self.probabilities)),
            "faces_read": self.faces_read,
            "faces_agreeing": self.faces_agreeing,
            "sentence": self.sentence,
        }


def face_weight(probabilities: Sequence[float], box_width: float) -> float:
    """How much one face counts: its confidence times its readable size (0..1)."""
    side = box_width / _FRAME_BOX_WIDTH
    return float(max(probabilities)) * min(1.0, side / FULL_WEIGHT_SIDE)


def group_reading(faces: Sequence[tuple[Sequence[float], float]]) -> GroupReading | None:
    """Combine faces given as (probabilities in EMOTIONS order, box width in photo pixels).

    None for fewer than two faces: one face is its own reading.
    """
    if len(faces) < 2:
        return None
    probs = np.array([list(p) for p, _ in faces], dtype=np.float64)
    weights = np.array([face_weight(p, width) for p, width in faces], dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones(len(faces))
    combined = (probs * weights[:, None]).sum(axis=0) / weights.sum()
    combined = combined / combined.sum()
    top = int(np.argmax(combined))
    agreeing = int((probs.argmax(axis=1) == top).sum())
    emotion = EMOTIONS[top]
    sentence = f"{agreeing} of {len(faces)} faces look {LOOK[emotion]}"
    if agreeing == 0:  # the blend of mixed faces: say it rather than "0 of 3 look ..."
        sentence = f"Taken together, the {len(faces)} faces look {LOOK[emotion]}"
    return GroupReading(emotion, tuple(float(v) for v in combined), len(faces), agreeing, sentence)
