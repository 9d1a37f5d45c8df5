"""The recognizer: image bytes in, faces with their 7 emotion probabilities out.

Decode (upright, RGB) -> detect faces (coarse-to-fine pyramid, rotated retries) -> size and
quality gate -> square FER2013-style crops, levelled on the eyes -> one batched model call for all
faces -> the group's reading when there are several. Each stage is timed. A face is judged by its
size in the uploaded photo's own pixels: 48 px, the size of the faces the model learnt from, is the
floor. When no usable face is found the result says why and
what to try; it never guesses an emotion.
"""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from recognizer.advice import FACE_TOO_SMALL_MESSAGE, NO_FACE_MESSAGE, NO_FACE_TIPS, TOO_SMALL_REASON
from recognizer.emotions import EMOTIONS
from recognizer.crops import FRAME_BOX_WIDTH, crop_angle, crop_square
from recognizer.detector import YuNet, face_detector
from recognizer.face_gate import face_quality
from recognizer.faces import GROUP_SPAN, MIN_FACE_SIZE, detect_faces
from recognizer.group import GroupReading, group_reading
from recognizer.images import WORK_SIDE, decode_image
from recognizer.metadata import INPUT_SHAPE, read_metadata
from recognizer.recipe import ServingRecipe, model_version
from recognizer.runtime import Classifier, load_classifier

# Up to this many faces are classified (largest first); the result counts the others left out.
MAX_FACES: Final = 16
# A detector box a little under the 48 px frame still holds about 48 px of face: the box-to-frame
# ratio varies by about 5% between faces (benchmarks/face_framing.py), so the size gate allows it.
SIZE_TOLERANCE: Final = 0.92


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
    faces_left_out: int = 0  # readable faces beyond MAX_FACES, not classified

    @property
    def primary(self) -> FaceResult | None:
        """The largest face; None when no face was classified."""
        return self.faces[0] if self.faces else None

    @property
    def group(self) -> GroupReading | None:
        """The group's reading for two or more faces (the music follows it), else None."""
        return group_reading([(face.probabilities, face.box[2]) for face in self.faces])


class Recognizer:
    """A loaded emotion model plus the face pipeline around it; build once per process."""

    def __init__(self, classifier: Classifier, model_name: str, model_version: str,
                 recipe: ServingRecipe | None = None, min_face: int = MIN_FACE_SIZE,
                 group_span: float | None = GROUP_SPAN, detector: YuNet | None = None) -> None:
        self.classifier = classifier
        # The face detector (one per process and thread count; one thread unless given).
        self.detector = detector or face_detector()
        # The smallest face read (its FER2013 frame, photo pixels). Detection cost grows as the
        # square of 1/min_face: 48 reaches every face the model can read; 96 costs about 1/4.
        self.min_face = max(MIN_FACE_SIZE, min_face)
        # Faces smaller than 1/group_span of the largest found are not looked for (None: all are).
        self.group_span = group_span
        self.model_name = model_name
        self.model_version = model_version
        self.recipe = recipe or ServingRecipe()

    @classmethod
    def from_path(cls, path: Path | str, num_threads: int, min_face: int = MIN_FACE_SIZE,
                  group_span: float | None = GROUP_SPAN) -> "Recognizer":
        """Load, check and warm up the model at ``path`` (.tflite with LiteRT, .h5 with Keras).

        The face detector runs on ``num_threads`` threads too. Faces are classified by the model's
        :class:`~recognizer.recipe.ServingRecipe` (mirror averaging, class prior, temperature, from
        its metadata), the one ``flask evaluate-model`` uses, so served readings match the reported
        figures.
        """
        path = Path(path)
        classifier = load_classifier(path, num_threads)
        return cls(classifier, model_name=path.stem, model_version=model_version(path),
                   recipe=ServingRecipe.from_metadata(read_metadata(path)), min_face=min_face,
                   group_span=group_span, detector=face_detector(num_threads))

    def analyse(self, data: bytes) -> RecognitionResult:
        """Find and classify every face in an image; raises ImageRejected for unusable images.

        Boxes are in the coordinates of ``data``'s upright image.
        """
        started = time.perf_counter()
        # A JPEG is decoded at the largest draft scale (1/2, 1/4, 1/8) that keeps the smallest face
        # read at 48 px or more: in full at the default 48 px floor, at 1/2 for 96 px. Detecting on a
        # half-scale decode at the 48 px floor was measured: 243 of 264 composite faces read against
        # 248 in full and 1 phantom on the no-face set against 0, for ~0.6x the detection CPU.
        decoded = decode_image(data, work_side=WORK_SIDE, detail=MIN_FACE_SIZE / self.min_face)
        decoded_at = time.perf_counter()

        width, height = decoded.upright_size
        scale = decoded.scale_to(width)  # decoded pixels -> the uploaded photo's pixels
        kept, ignored, left_out = [], [], 0
        # A full decode's pixels are the upload's own (photos up to 4096 px keep every pixel; larger
        # ones are decoded at 4096 px), so the 48 px floor is judged in them: a face whose FER2013
        # frame is narrower holds less detail than the faces the model learnt from. A JPEG may be
        # decoded reduced (``decoded.detail``) for detection; sizes are judged at full detail.
        min_face = self.min_face * decoded.detail
        for face in detect_faces(decoded.pixels, min_face=min_face, group_span=self.group_span,
                                 detector=self.detector):
            shown = face.box.scaled(scale).clipped(width, height)
            box = (shown.x, shown.y, shown.w, shown.h)
            frame = face.box.w / FRAME_BOX_WIDTH
            if frame < min_face * SIZE_TOLERANCE:
                ignored.append(IgnoredFace(box, TOO_SMALL_REASON))
            elif problem := face_quality(decoded.pixels, face, self.detector):
                ignored.append(IgnoredFace(box, problem))
            elif len(kept) >= MAX_FACES:
                left_out += 1
            else:
                kept.append((box, face))
        detected_at = time.perf_counter()

        faces: list[FaceResult] = []
        if kept:
            pixels, factor = decoded.pixels, 1.0
            if decoded.detail < 1 and min(face.box.w for _, face in kept) / FRAME_BOX_WIDTH < INPUT_SHAPE[0]:
                # Faces are cut from a full decode unless the reduced one holds at least the model's
                # input side for each: upscaling a crop blurs it (one face read from a 138 px and a
                # 276 px source differed by 0.063 in a probability), and under 48 px detail is lost.
                pixels = decode_image(data, work_side=WORK_SIDE).pixels
                factor = pixels.shape[1] / decoded.pixels.shape[1]
            crops = [crop_square(pixels, face.scaled(factor).box, crop_angle(face)) for _, face in kept]
            probabilities = self.classify(crops)
            faces = [_face_result(box, probs) for (box, _), probs in zip(kept, probabilities)]
        finished = time.perf_counter()

        timings = {
            "decode": (decoded_at - started) * 1000,
            "detect": (detected_at - decoded_at) * 1000,
            "classify": (finished - detected_at) * 1000,
        }
        if faces:
            return RecognitionResult(faces, (width, height), timings, ignored_faces=ignored, faces_left_out=left_out)
        reason = NO_FACE_MESSAGE
        if any(face.reason == TOO_SMALL_REASON for face in ignored):
            reason = FACE_TOO_SMALL_MESSAGE
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
