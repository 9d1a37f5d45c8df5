"""Face boxes and FER2013-style square crops, levelled on the eyes.

Crops are square and framed like FER2013's faces: the FRAME_* constants come from
``python -m benchmarks.face_framing``, which compares the detector's box with FER2013 images.
"""

import math
from dataclasses import dataclass, replace
from typing import Final

import cv2
import numpy as np

# How FER2013 frames a face, measured as the detector's box relative to the FER2013 image
# (``python -m benchmarks.face_framing`` with YuNet-n: 280 of 280 test faces found): median box
# width 0.775 of the image side (p10 0.65, p90 0.95), box centre at (0.512, 0.538).
FRAME_BOX_WIDTH: Final = 0.775
FRAME_CENTRE_X: Final = 0.51
FRAME_CENTRE_Y: Final = 0.54
# A crop is levelled on the eye line only when the eyes tilt more than this: below it, landmark
# noise on small faces would rotate upright faces for nothing.
ALIGN_MIN_DEGREES: Final = 12.0


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixel coordinates: top-left corner, width and height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        """Pixel area, used to order faces (largest first)."""
        return self.w * self.h

    def scaled(self, factor: float) -> "Box":
        """This box with every coordinate multiplied by ``factor``."""
        x0, y0 = round(self.x * factor), round(self.y * factor)
        return Box(x0, y0, round((self.x + self.w) * factor) - x0, round((self.y + self.h) * factor) - y0)

    def clipped(self, width: int, height: int) -> "Box":
        """The part of this box inside a ``width`` x ``height`` image."""
        x0, y0 = min(max(self.x, 0), width), min(max(self.y, 0), height)
        x1, y1 = min(max(self.x + self.w, 0), width), min(max(self.y + self.h, 0), height)
        return Box(x0, y0, x1 - x0, y1 - y0)


Landmarks = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class DetectedFace:
    """A face the detector found.

    ``score`` is the detector's 0..1 confidence; ``box`` may reach past the image edge;
    ``landmarks`` are the five points (right eye, left eye, nose tip, right and left mouth corners;
    the person's right) in the same pixels; ``angle`` is the tilt in degrees (counter-clockwise)
    of the rotated copy it was found on, 0 if found upright.
    """

    box: Box
    score: float
    landmarks: Landmarks = ()
    angle: float = 0.0

    def scaled(self, factor: float) -> "DetectedFace":
        """This face with its box and landmarks multiplied by ``factor``."""
        points = tuple((x * factor, y * factor) for x, y in self.landmarks)
        return replace(self, box=self.box.scaled(factor), landmarks=points)


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box: a face found twice overlaps itself almost fully."""
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / max(1, min(a.area, b.area))


def same_face(a: Box, b: Box) -> bool:
    """Whether two boxes are one face found twice: mostly overlapping and of similar width (a small
    face inside a large unsure box, such as a textured background read as a face, is its own)."""
    return overlap(a, b) >= 0.5 and min(a.w, b.w) >= 0.5 * max(a.w, b.w)


def eye_angle(face: DetectedFace) -> float:
    """The tilt (degrees, counter-clockwise) that levels the eye line; 0 without landmarks."""
    if len(face.landmarks) < 2:
        return 0.0
    (rx, ry), (lx, ly) = face.landmarks[0], face.landmarks[1]
    return math.degrees(math.atan2(ly - ry, lx - rx))


def crop_angle(face: DetectedFace) -> float:
    """The rotation that makes the crop upright: a clear eye-line tilt, else the retry's angle."""
    tilt = eye_angle(face)  # landmarks are in the photo's pixels, so this is the tilt in the photo
    if face.angle:
        # Found on a rotated copy: trust the eyes unless they disagree wildly (noisy landmarks).
        return tilt if abs(tilt - face.angle) <= 20 else face.angle
    return tilt if abs(tilt) >= ALIGN_MIN_DEGREES else 0.0


def crop_square(image: np.ndarray, box: Box, angle: float = 0.0) -> np.ndarray:
    """Cut a square crop around ``box`` framed like a FER2013 image, padding past the image edges.

    Padding repeats the edge pixels: a face cut by the photo's border keeps plausible surroundings
    instead of a black band the model never saw in training. A non-zero ``angle`` (degrees,
    counter-clockwise) rotates the crop about the face's centre so a tilted face comes out upright.
    """
    side = max(1, round(box.w / FRAME_BOX_WIDTH))
    centre_x = box.x + box.w / 2 - (FRAME_CENTRE_X - 0.5) * side
    centre_y = box.y + box.h / 2 - (FRAME_CENTRE_Y - 0.5) * side
    if angle:
        matrix = cv2.getRotationMatrix2D((centre_x, centre_y), angle, 1.0)
        matrix[0, 2] += side / 2 - centre_x
        matrix[1, 2] += side / 2 - centre_y
        return cv2.warpAffine(image, matrix, (side, side), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
    x0 = round(centre_x - side / 2)
    y0 = round(centre_y - side / 2)
    height, width = image.shape[:2]
    pad_left, pad_top = max(0, -x0), max(0, -y0)
    pad_right, pad_bottom = max(0, x0 + side - width), max(0, y0 + side - height)
    crop = image[max(0, y0) : min(height, y0 + side), max(0, x0) : min(width, x0 + side)]
    if pad_left or pad_top or pad_right or pad_bottom:
        crop = cv2.copyMakeBorder(crop, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE)
    return crop
