"""Face crops to model input: the one preprocessing shared by training and serving.

Training (``ml/``) and the worker both call :func:`faces_to_input`, so a face is framed, scaled and
normalised the same way in both. Faces are seen as grayscale because FER2013, the training data, is
grayscale: a colour crop is converted to luminance first, then copied into the three channels
MobileNetV2 expects.
"""

from collections.abc import Sequence
from typing import Final

import numpy as np

# OpenCV is imported by the functions that use it: the web reads INPUT_SIZE and PREPROCESSING (through
# the serving recipe, for a model's confidence bands) and must not load OpenCV for that.

# FER2013's native face size: crops are brought to it first so serving sees faces at the same
# (low) level of detail as training did, then upscaled to the network's input like training.
FER_SIZE: Final = 48
INPUT_SIZE: Final = 224
PREPROCESSING: Final = "mobilenet_v2"  # x / 127.5 - 1, as keras.applications.mobilenet_v2.preprocess_input


def to_gray(image: np.ndarray) -> np.ndarray:
    """Return a 2-D uint8 luminance image from a gray, RGB or RGBA uint8 array."""
    import cv2

    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    if image.shape[2] == 1:
        return image[:, :, 0]
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def face_to_input(face: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Turn one face crop (any size, gray or RGB uint8) into a (224, 224, 3) float32 array in [-1, 1]."""
    import cv2

    gray = to_gray(face)
    if gray.shape != (FER_SIZE, FER_SIZE):
        gray = cv2.resize(gray, (FER_SIZE, FER_SIZE), interpolation=cv2.INTER_AREA)
    up = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    scaled = up.astype(np.float32) * np.float32(1 / 127.5) - np.float32(1.0)
    if out is None:
        out = np.empty((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
    out[...] = scaled[:, :, None]
    return out


def faces_to_input(faces: Sequence[np.ndarray]) -> np.ndarray:
    """Turn face crops into one (N, 224, 224, 3) float32 batch for a single model call."""
    batch = np.empty((len(faces), INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
    for i, face in enumerate(faces):
        face_to_input(face, out=batch[i])
    return batch
