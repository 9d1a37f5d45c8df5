"""The recognizer: image bytes in, faces with their 7 emotion probabilities out.

Decode (upright, RGB, reduced size) -> detect faces -> square FER2013-style crops -> one batched
model call for all faces. Each stage is timed. When no usable face is found the result says why and
what to try; it never guesses an emotion.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from recognizer.emotions import EMOTIONS
from recognizer.faces import DETECT_SIDE, MIN_FACE_SIZE, crop_square, detect_faces
from recognizer.images import decode_image
from recognizer.recipe import ServingRecipe, model_version, read_metadata
from recognizer.runtime import Classifier, load_classifier

# Decoding beyond this long side buys nothing: detection runs at 320 px, and the smallest face it
# finds there (box ~52 px) still makes a crop of ~63 px, above the 48 px the model reads. So JPEGs
# decode at the smallest 1/2, 1/4 or 1/8 scale that keeps 320 px (draft), and anything larger than
# 512 px is resized down: a normalised 1024 px upload decodes at 1/2 scale (4.6 ms instead of
# 14.9 ms in full), a 1280 px photo at 1/4.
WORK_SIDE: Final = 512
# One photo, one person's friends at most; bounds the batch (and the time) of a single call.
MAX_FACES: Final = 8

NO_FACE_MESSAGE: Final = "We couldn't find a face in this photo, so we can't tell the emotion."
TOO_SMALL_REASON: Final = (
    "This face is too small in the photo to read its expression. Move closer or use a larger photo."
)
NO_FACE_TIPS: Final[tuple[str, ...]] = (
    "Face the camera with your whole face in the frame.",
    "Use even, bright light; avoid a bright window behind you.",
    "Take off sunglasses or a mask, and move hair away from your eyes.",
    "Hold the camera closer so your face fills about a third of the photo.",
)


@dataclass(frozen=True)
class FaceResult:
    """One classified face: box (x, y, w, h) in image pixels and probabilities in EMOTIONS order."""

    box: tuple[int, int, int, int]
    probabilities: tuple[float, ...]
    emotion: str
    confidence: float


@dataclass(frozen=True)
class IgnoredFace:
    """A face the detector found but that was not classified, and why."""

    box: tuple[int, int, int, int]
    reason: str


@dataclass(frozen=True)
class RecognitionResult:
    """What the recognizer saw in one image; ``faces`` is largest first (the first is primary)."""

    faces: list[FaceResult]
    image_size: tuple[int, int]
    timings_ms: dict[str, float]
    no_face_reason: str | None = None
    no_face_tips: tuple[str, ...] = ()
    ignored_faces: list[IgnoredFace] = field(default_factory=list)

    @property
    def primary(self) -> FaceResult | None:
        """The largest face, whose emotion drives the music; None when no face was classified."""
        return self.faces[0] if self.faces else None


class Recognizer:
    """A loaded emotion model plus the face pipeline around it; build once per process."""

    def __init__(self, classifier: Classifier, model_name: str, model_version: str,
                 recipe: ServingRecipe | None = None) -> None:
        self.classifier = classifier
        self.model_name = model_name
        self.model_version = model_version
        self.recipe = recipe or ServingRecipe()

    @classmethod
    def from_path(cls, path: Path | str, num_threads: int) -> "Recognizer":
        """Load, check and warm up the model at ``path`` (.tflite with LiteRT, .h5 with Keras).

        Faces are classified by the model's :class:`~recognizer.recipe.ServingRecipe` (mirror
        averaging, class prior, temperature, from its metadata), the one ``flask evaluate-model``
        uses, so served readings match the reported figures.
        """
        path = Path(path)
        classifier = load_classifier(path, num_threads)
        return cls(classifier, model_name=path.stem, model_version=model_version(path),
                   recipe=ServingRecipe.from_metadata(read_metadata(path)))

    def analyse(self, data: bytes, original_size: tuple[int, int] | None = None) -> RecognitionResult:
        """Find and classify every face in an image; raises ImageRejected for unusable images.

        Boxes are in the coordinates of ``data``'s upright image, or of ``original_size`` (width,
        height) when ``data`` is a resized copy of a larger original, as a normalised upload is.
        """
        started = time.perf_counter()
        decoded = decode_image(data, work_side=WORK_SIDE, min_side=DETECT_SIDE)
        decoded_at = time.perf_counter()

        width, height = original_size or decoded.original_size
        scale = decoded.scale_to(width)
        kept, ignored = [], []
        for face in detect_faces(decoded.pixels):
            shown = face.box.scaled(scale).clipped(width, height)
            box = (shown.x, shown.y, shown.w, shown.h)
            # Judged where the crop is cut (the decoded pixels): that is the detail the model gets.
            if face.box.w < MIN_FACE_SIZE:
                ignored.append(IgnoredFace(box, TOO_SMALL_REASON))
            elif len(kept) >= MAX_FACES:
                ignored.append(IgnoredFace(box, f"Only the {MAX_FACES} largest faces in a photo are analysed."))
            else:
                kept.append((box, face.box))
        detected_at = time.perf_counter()

        faces: list[FaceResult] = []
        if kept:
            crops = [crop_square(decoded.pixels, work_box) for _, work_box in kept]
            probabilities = self.classify(crops)
            faces = [_face_result(box, probs) for (box, _), probs in zip(kept, probabilities)]
        finished = time.perf_counter()

        timings = {
            "decode": (decoded_at - started) * 1000,
            "detect": (detected_at - decoded_at) * 1000,
            "classify": (finished - detected_at) * 1000,
        }
        if faces:
            return RecognitionResult(faces, (width, height), timings, ignored_faces=ignored)
        reason = NO_FACE_MESSAGE
        if ignored:
            reason = "We found a face, but it is too small in the photo to read its expression, so we can't tell the emotion."
        return RecognitionResult([], (width, height), timings, reason, NO_FACE_TIPS, ignored)

    def classify(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, 7) served probabilities for N face crops, all views in one model call."""
        return self.recipe.predict(self.classifier.predict, crops)


def _face_result(box: tuple[int, int, int, int], probabilities: np.ndarray) -> FaceResult:
    top = int(np.argmax(probabilities))
    return FaceResult(
        box=box,
        probabilities=tuple(float(p) for p in probabilities),
        emotion=EMOTIONS[top],
        confidence=float(probabilities[top]),
    )
