"""Why a composite face was not classified: ``python -m benchmarks.faces --why``.

Each missed face of 48 px or more is traced through the recognizer's stages on the same decode the
pipeline uses: not detected at all (no candidate of 0.01 or more on any pass), a candidate scoring
under ``CANDIDATE_SCORE``, a candidate the closer look (or the score floor) dropped, a detection
refused by the size gate, by the landmark layout or by the second look, or a detection whose box
lies off the pasted face (framing).
"""

from collections import Counter
from dataclasses import replace

import cv2

from benchmarks.composites import Composite, TruthFace
from recognizer.crops import FRAME_BOX_WIDTH, DetectedFace
from recognizer.face_gate import face_quality, second_look
from recognizer.faces import CANDIDATE_SCORE, _face, detect_faces, detection_scales, shrink
from recognizer.images import WORK_SIDE, decode_image
from recognizer.pipeline import SIZE_TOLERANCE, Recognizer


def _near(face_box: tuple[float, float, float, float], truth: TruthFace, reach: float = 0.35) -> bool:
    x, y, w, h = face_box
    tx, ty = truth.centre
    return abs(x + w / 2 - tx) < reach * truth.side and abs(y + h / 2 - ty) < reach * truth.side


def why_missed(recognizer: Recognizer, photo: Composite, missed: list[TruthFace]) -> list[str]:
    """For each face of ``missed`` (pasted faces the recognizer did not classify), the stage that lost it."""
    decoded = decode_image(photo.jpeg, work_side=WORK_SIDE, detail=48 / recognizer.min_face)
    pixels = decoded.pixels
    scale = decoded.scale_to(decoded.upright_size[0])
    min_face = recognizer.min_face * decoded.detail
    detections = detect_faces(pixels, min_face=min_face, detector=recognizer.detector)
    candidates: list[tuple[DetectedFace, float]] = []
    height, width = pixels.shape[:2]
    for factor in detection_scales(width, height, min_face):
        image = pixels if factor >= 1.0 else shrink(pixels, (round(width * factor), round(height * factor)))
        rows = recognizer.detector.detect(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), 0.01)
        sx = width / image.shape[1]
        candidates += [(_face(row, sx, height / image.shape[0]), float(row[3])) for row in rows]
    reasons = []
    for truth in missed:
        def shown(face: DetectedFace) -> tuple[float, float, float, float]:
            return (face.box.x * scale, face.box.y * scale, face.box.w * scale, face.box.h * scale)

        hits = [face for face in detections if _near(shown(face), truth)]
        if hits:
            face = hits[0]
            if face.box.w / FRAME_BOX_WIDTH < min_face * SIZE_TOLERANCE:
                reasons.append("size gate")
            elif face_quality(pixels, replace(face, score=1.0, angle=0.0), recognizer.detector):
                reasons.append(f"landmark layout (score {face.score:.2f})")
            elif face_quality(pixels, face, recognizer.detector):
                look = second_look(pixels, face, 1.0, recognizer.detector)
                reasons.append(f"second look (score {face.score:.2f}, look {look:.2f}, {face.box.w / FRAME_BOX_WIDTH:.0f} px frame)")
            else:
                reasons.append("detected and passed (matched elsewhere)")
            continue
        if any(_near(shown(face), truth, 0.7) for face in detections):
            reasons.append("framing (box off centre)")
            continue
        near = [(face.score, box) for face, box in candidates if _near(shown(face), truth)]
        if not near:
            reasons.append("not detected (no candidate >= 0.01)")
        else:
            score, box = max(near)
            where = "below CANDIDATE_SCORE" if score < CANDIDATE_SCORE else "closer look or score"
            reasons.append(f"{where} (best {score:.2f} at {box:.0f} px box)")
    return reasons


def summary(reasons: list[str]) -> str:
    """The reasons counted by their kind (the text before any parenthesis)."""
    counts = Counter(reason.split(" (")[0] for reason in reasons)
    return ", ".join(f"{kind}: {count}" for kind, count in counts.most_common())
