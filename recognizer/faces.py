"""Face detection: where a photo's faces are, with five landmarks each.

The detector is YuNet-n (``recognizer.detector``). One pass runs over a copy downscaled so that
the smallest face read (``min_face``, the upload's pixels) gets a box of ``DETECTOR_MIN_BOX``
detector pixels; a coarser pass runs first only when a face filling the photo would be larger than
the boxes the network finds reliably. Boxes the fine pass finds small are unsure (the network sees
a few pixels of them), so each gets a closer look: the region around it, cut from the full-size
image and enlarged, is detected again, and the face stays only if it shows up there. If the upright
passes find nothing, copies rotated by +-30 degrees are tried (tilted faces).
"""

from dataclasses import replace
from typing import Final

import cv2
import numpy as np

from recognizer.crops import FRAME_BOX_WIDTH, Box, DetectedFace, same_face
from recognizer.detector import YuNet, face_detector

# The smallest readable face: a square crop (the FER2013 frame around the face) of 48 px in the
# uploaded photo's own pixels, the size of the faces the model learnt from.
MIN_FACE_SIZE: Final = 48
# Measured with the detector and quality gate on ``benchmarks.composites`` (40 canvases, 264 faces
# of 48 px or more on textured backgrounds; 40 tilted by 30 degrees) and ``no_face_images``.
# The box a ``min_face`` face gets on the fine pass (detector pixels). FER2013 faces pasted on a
# textured canvas score >= 0.5 at boxes of 26 px 82% of the time, 33 px 88%, 39 px 95%: a 20 px box
# leaves the smallest faces to the closer looks. On the composites a 16 px box read 87.5% of the
# faces, 20 px 93.9%, 24 px 92.8% at about 1.5x the CPU of 20 px.
DETECTOR_MIN_BOX: Final = 20
# The largest box YuNet finds reliably: FER2013 faces pasted whole on a textured canvas (40 faces a
# size) were found with score >= 0.3 at boxes of 460 and 575 px 100% of the time, at 740 px 95%.
DETECTOR_MAX_BOX: Final = 575
# No pass runs on fewer pixels than this long side (a 320x240 pass costs about 2 ms): a small photo
# is searched whole, so faces under ``min_face`` are still seen and reported as too small.
MIN_PASS_SIDE: Final = 320
# Detections below this score are dropped: composite faces score p1 0.39, median 0.90, and raising
# the floor to 0.5 lost 6 of 264 of them (phantoms are the quality gate's to refuse).
MIN_SCORE: Final = 0.3
# Fine-pass boxes under this many detector pixels (2x the smallest) are unsure either way: at a 20 px
# box FER2013 faces on texture score >= 0.05 88% of the time, >= 0.3 58%. They are candidates from
# CANDIDATE_SCORE and kept only if a closer look finds them; 0.02 with 32 looks found 2 more of the
# 264 composite faces for 2 more phantoms and about 20% more CPU.
LOOK_BELOW_BOX: Final = 2 * DETECTOR_MIN_BOX
CANDIDATE_SCORE: Final = 0.05
# At most this many closer looks per photo (surest candidates first): bounds the cost of textures.
MAX_LOOKS: Final = 24
# A closer look: the face's box with this much context around it, at this side (detector pixels),
# so the face's box is LOOK_SIDE / LOOK_CONTEXT: 64 px, where YuNet finds 95-100% of these faces.
LOOK_SIDE: Final = 128
LOOK_CONTEXT: Final = 2.0
# With a span, once a coarse pass has found faces the fine pass looks only for faces down to
# 1/span of the largest one found. The default looks for every face: on 40 composites (faces of
# 48-600 px together) a span of 3 lost 17 of 264 faces, and the fine pass it saves is the one pass
# of most photos anyway.
GROUP_SPAN: Final[float | None] = None
# Tilts tried when the upright passes are unsure: on the 40 faces tilted by 30 degrees the upright
# pass alone read 37, with the retries 38 to 40 (YuNet finds most tilted faces upright).
ROTATIONS: Final = (30.0, -30.0)
# Rotated retries run only when no face scored this much upright, so a photo with a clear face
# never pays for them: the upright pass scored a face tilted 45 degrees 0.35 and one tilted 60
# degrees 0.43 (with upright landmarks), composite faces median 0.90.
ROTATE_BELOW: Final = 0.5
# Rotated retries run on copies no larger than this (long side): two ~8 ms passes, so a photo
# without faces costs about what a selfie does; tilted faces are looked for down to about 4% of
# the photo's long side (not tuned for recall: the tilted set's faces are 96-400 px).
ROTATED_MAX_SIDE: Final = 640

def detection_scales(width: int, height: int, min_face: float = MIN_FACE_SIZE) -> list[float]:
    """Scales of the passes, coarse to fine, for a ``width`` x ``height`` image.

    The fine pass is where a face whose FER2013-framed crop is ``min_face`` pixels gets a box of
    ``DETECTOR_MIN_BOX`` (never enlarging the image); a coarser pass comes first only where a face
    as large as the photo's short side would be over ``DETECTOR_MAX_BOX`` on the fine pass.
    """
    finest = min(1.0, max(DETECTOR_MIN_BOX / (min_face * FRAME_BOX_WIDTH), MIN_PASS_SIDE / max(width, height)))
    coarse = min(finest, DETECTOR_MAX_BOX / min(width, height))
    scales = [finest]
    while scales[0] > coarse * 1.001:
        scales.insert(0, max(coarse, scales[0] * DETECTOR_MIN_BOX / DETECTOR_MAX_BOX))
    return scales


def detect_faces(rgb: np.ndarray, min_face: float = MIN_FACE_SIZE, min_score: float = MIN_SCORE,
                 rotations: tuple[float, ...] = ROTATIONS, group_span: float | None = GROUP_SPAN,
                 detector: YuNet | None = None) -> list[DetectedFace]:
    """Find faces in an (h, w, 3) uint8 RGB image; boxes in that image's pixels, largest first.

    ``min_face`` (this image's pixels) is the smallest FER2013-framed face side looked for; smaller
    faces may still be returned (the caller judges their size). When the upright passes find
    nothing, copies rotated by each of ``rotations`` are tried. With ``group_span``, the fine pass
    stops at faces 1/group_span the size of the largest face a coarser pass found. ``detector``
    defaults to this process's one-thread detector.
    """
    detector = detector or face_detector()
    scales = detection_scales(rgb.shape[1], rgb.shape[0], min_face)
    faces = _passes(rgb, scales, min_score, group_span, detector)
    if rotations and all(face.score < ROTATE_BELOW for face in faces):
        # Every tilt is tried and, where two find the same face, the surer one stays: the first tilt
        # to find something can be the wrong way round (a 45 degree face turned to 75 degrees), and
        # an upright pass can half-find a tilted face with upright landmarks.
        turned = [face for angle in rotations for face in _rotated(rgb, angle, min_face, min_score, detector)]
        faces = _suppress(faces + turned)
    return sorted(faces, key=lambda face: face.box.area, reverse=True)


def _passes(rgb: np.ndarray, scales: list[float], min_score: float, group_span: float | None,
            detector: YuNet) -> list[DetectedFace]:
    height, width = rgb.shape[:2]
    found: list[DetectedFace] = []
    unsure: list[DetectedFace] = []
    copies: list[tuple[float, np.ndarray]] = []
    for number, scale in enumerate(scales):
        if found and group_span:
            # The scale at which a face 1/group_span the width of the largest found gets the
            # detector's smallest box; finer than that looks only for faces we skip.
            enough = DETECTOR_MIN_BOX * group_span / max(face.box.w for face in found)
            if enough <= scales[number - 1] * 1.01:
                largest = max(face.box.w for face in found)
                unsure = [face for face in unsure if face.box.w * group_span >= largest]
                break
            scale = min(scale, enough)
        image = rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = shrink(rgb, size)
            copies.append((image.shape[1] / width, image))
        # The network was trained on OpenCV's BGR order; swapping after the resize copies only the
        # pass's pixels.
        rows = detector.detect(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), CANDIDATE_SCORE)
        sx, sy = width / image.shape[1], height / image.shape[0]
        for row in rows:
            face = _face(row, sx, sy)
            if number and row[3] > DETECTOR_MAX_BOX * 1.25:
                continue  # a coarser pass answers for faces this large (here its box is distorted)
            if face.score >= min_score and (row[3] >= LOOK_BELOW_BOX or scale >= 1.0):
                found.append(face)
            elif row[3] >= LOOK_BELOW_BOX or number == len(scales) - 1:
                unsure.append(face)  # small boxes of a coarser pass are the finer pass's to find
    # Every face is framed by a closer look, where it has the same size whatever the photo's: the
    # network's box moves by up to ~9% of a face between scales, and the crop follows the box.
    framed = []
    for face in _suppress(found):
        seen = look_again(rgb, face, detector, (face.angle,), smaller=tuple(copies))
        framed.append(replace(seen, score=max(seen.score, face.score)) if seen is not None else face)
    for face in sorted(unsure, key=lambda f: f.score, reverse=True)[:MAX_LOOKS]:
        if not any(same_face(face.box, other.box) for other in framed):
            # The look frames the face; its score and the pass's are two readings of one face.
            seen = look_again(rgb, face, detector, (face.angle,), min_score, tuple(copies))
            if seen is not None and max(seen.score, face.score) >= min_score:
                framed.append(replace(seen, score=max(seen.score, face.score)))
    return _suppress(framed)


def shrink(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``rgb`` reduced to ``size`` (width, height): averaged by the largest whole factor that stays
    above it, then bilinear the rest of the way (under 2x). OpenCV's area filter costs 5.3 ms at
    0.54x of a 1280x960 photo, 0.4 ms at 0.5x; bilinear 0.7 ms."""
    factor = int(rgb.shape[1] / size[0])
    if factor >= 2:
        rgb = cv2.resize(rgb, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    if (rgb.shape[1], rgb.shape[0]) == size:
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)


def _face(row: np.ndarray, sx: float = 1.0, sy: float = 1.0) -> DetectedFace:
    """A detection row (score, x, y, w, h, ten landmark coordinates) scaled by (sx, sy)."""
    x0, y0 = round(row[1] * sx), round(row[2] * sy)
    box = Box(x0, y0, round((row[1] + row[3]) * sx) - x0, round((row[2] + row[4]) * sy) - y0)
    points = tuple((float(row[5 + 2 * i]) * sx, float(row[6 + 2 * i]) * sy) for i in range(5))
    return DetectedFace(box, float(row[0]), points)


def _suppress(faces: list[DetectedFace]) -> list[DetectedFace]:
    """One detection per face: of boxes that mostly overlap (two passes, or a pass and a closer
    look, finding the same face), the surer one stays."""
    kept: list[DetectedFace] = []
    for face in sorted(faces, key=lambda f: (f.score, f.box.area), reverse=True):
        if not any(same_face(face.box, other.box) for other in kept):
            kept.append(face)
    return kept


def look_again(rgb: np.ndarray, face: DetectedFace, detector: YuNet, angles: tuple[float, ...],
               enough: float = 1.0, smaller: tuple[tuple[float, np.ndarray], ...] = ()) -> DetectedFace | None:
    """The same face detected again alone: the region around it (``LOOK_CONTEXT`` times its box)
    at ``LOOK_SIDE`` pixels, turned by each of ``angles`` in turn until a face in its middle scores
    ``enough``; the best such face in ``rgb``'s pixels, or None when none shows up there.

    ``smaller`` holds (scale, copy) of ``rgb`` already made (the passes' images): a large face is
    looked at from the smallest copy that still has twice the look's pixels.
    """
    box = face.box
    side = max(box.w, box.h) * LOOK_CONTEXT
    centre = np.array([box.x + box.w / 2, box.y + box.h / 2])
    zoom = LOOK_SIDE / side
    base, base_scale = rgb, 1.0
    for scale, image in sorted(smaller, key=lambda pair: pair[0]):
        if zoom * 2 <= scale < 1.0:
            base, base_scale = image, scale
            break
    best: DetectedFace | None = None
    for angle in angles:
        # One affine warp (scale about the face's centre, then turn) from the photo to the look.
        forward = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, zoom)
        forward[:, 2] += LOOK_SIDE / 2 - centre
        inverse = cv2.invertAffineTransform(forward)
        forward[:, :2] /= base_scale  # from the copy's pixels
        # Only the region the look shows (its half-diagonal around the centre) is read.
        reach = side * 0.75 * base_scale
        x0, y0 = (max(0, int(v * base_scale - reach)) for v in centre)
        x1 = min(base.shape[1], int(centre[0] * base_scale + reach) + 1)
        y1 = min(base.shape[0], int(centre[1] * base_scale + reach) + 1)
        source = base[y0:y1, x0:x1]
        forward[:, 2] += forward[:, :2] @ np.array([x0, y0])
        if not source.size:
            break  # the face lies wholly outside the image
        if zoom / base_scale < 0.35:
            # Shrink first (the warp samples, it does not average), by a whole factor: OpenCV's
            # area filter is several times faster there.
            factor = round(0.5 * base_scale / zoom)
            source = cv2.resize(source, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
            forward[:, :2] *= factor
        crop = cv2.warpAffine(source, forward, (LOOK_SIDE, LOOK_SIDE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        for row in detector.detect(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), CANDIDATE_SCORE):
            cx, cy = row[1] + row[3] / 2, row[2] + row[4] / 2
            if abs(cx - LOOK_SIDE / 2) > LOOK_SIDE * 0.15 or abs(cy - LOOK_SIDE / 2) > LOOK_SIDE * 0.2:
                continue
            if best is None or row[0] > best.score:
                best = _mapped(row, inverse, zoom, face.angle)
        if best is not None and best.score >= enough:
            break
    return best


def _mapped(row: np.ndarray, inverse: np.ndarray, zoom: float, angle: float) -> DetectedFace:
    """A detection row of a look mapped back through ``inverse`` to the photo's pixels."""
    cx, cy = inverse @ np.array([row[1] + row[3] / 2, row[2] + row[4] / 2, 1.0])
    w, h = row[3] / zoom, row[4] / zoom
    points = tuple(tuple(float(v) for v in inverse @ np.array([row[5 + 2 * i], row[6 + 2 * i], 1.0])) for i in range(5))
    box = Box(round(cx - w / 2), round(cy - h / 2), round(w), round(h))
    return DetectedFace(box, float(row[0]), points, angle)  # type: ignore[arg-type]


def _rotated(rgb: np.ndarray, angle: float, min_face: float, min_score: float, detector: YuNet) -> list[DetectedFace]:
    """Faces found in a copy rotated by ``angle`` degrees, mapped back to ``rgb``'s pixels."""
    height, width = rgb.shape[:2]
    factor = min(1.0, ROTATED_MAX_SIDE / max(height, width))
    small = rgb
    if factor < 1.0:
        small = shrink(rgb, (max(1, round(width * factor)), max(1, round(height * factor))))
    sh, sw = small.shape[:2]
    matrix = cv2.getRotationMatrix2D((sw / 2, sh / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    out_w, out_h = int(sh * sin + sw * cos) + 1, int(sh * cos + sw * sin) + 1
    matrix[0, 2] += out_w / 2 - sw / 2
    matrix[1, 2] += out_h / 2 - sh / 2
    turned = cv2.warpAffine(small, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inverse = cv2.invertAffineTransform(matrix)
    faces = []
    for face in _passes(turned, detection_scales(out_w, out_h, min_face * factor), min_score, None, detector):
        box = face.box
        cx, cy = inverse @ np.array([box.x + box.w / 2, box.y + box.h / 2, 1.0])
        points = tuple(tuple(float(v) / factor for v in inverse @ np.array([x, y, 1.0])) for x, y in face.landmarks)
        w, h = box.w / factor, box.h / factor
        upright = Box(round(cx / factor - w / 2), round(cy / factor - h / 2), round(w), round(h))
        faces.append(replace(face, box=upright, landmarks=points, angle=angle))  # type: ignore[arg-type]
    return faces


