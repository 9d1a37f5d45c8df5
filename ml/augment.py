"""Training augmentation on 48x48 faces: mirror images and small random affine changes.

Augmented copies ("views") are made before the frozen part of the network, so their features can
be computed once and cached. View 0 is the face as it is, view 1 its mirror image, further views a
random rotation (+-10 degrees), scale (0.9-1.1) and shift (+-3 px), mirrored half of the time.
"""

import cv2
import numpy as np

MAX_ROTATION_DEG = 10.0
SCALE_RANGE = (0.9, 1.1)
MAX_SHIFT_PX = 3.0


def mirror(images: np.ndarray) -> np.ndarray:
    """Left-right mirror of a (N, H, W) batch."""
    return images[:, :, ::-1].copy()


def random_affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One randomly rotated, scaled, shifted and possibly mirrored copy of a (H, W) face."""
    height, width = image.shape
    angle = rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)
    scale = rng.uniform(*SCALE_RANGE)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-MAX_SHIFT_PX, MAX_SHIFT_PX, size=2)
    out = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return out[:, ::-1] if rng.random() < 0.5 else out


def make_views(images: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """``count`` augmented copies of a (N, H, W) batch: original, mirror, then random affine views."""
    views = [images, mirror(images)][:count]
    rng = np.random.default_rng(seed)
    while len(views) < count:
        views.append(np.stack([random_affine(image, rng) for image in images]))
    return views
