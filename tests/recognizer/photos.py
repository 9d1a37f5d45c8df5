"""Realistic test photos made in memory from FER2013 faces upscaled and pasted on a background."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

from tests.prerequisites import FER2013 as DATA
CLASSES = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def fer_face(index: int = 0, emotion: str = "happy", split: str = "test") -> Image.Image:
    """The ``index``-th (sorted) FER2013 face of a class, as a 48x48 grayscale image."""
    files = sorted((DATA / split / emotion).glob("*.jpg"))
    return Image.open(files[index]).convert("L")


def photo(
    faces: list[tuple[Image.Image, tuple[int, int], int]],
    size: tuple[int, int] = (640, 480),
    background: tuple[int, int, int] = (150, 140, 130),
) -> Image.Image:
    """An RGB photo with each (face, (left, top), side) upscaled to ``side`` and pasted at (left, top)."""
    canvas = Image.new("RGB", size, background)
    # Mild texture so the background is not a flat colour, as in a real room.
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 6, (size[1], size[0], 3))
    canvas = Image.fromarray(np.clip(np.asarray(canvas, dtype=np.float64) + noise, 0, 255).astype(np.uint8))
    for face, position, side in faces:
        canvas.paste(face.convert("RGB").resize((side, side), Image.Resampling.BICUBIC), position)
    return canvas


def one_face_photo(size: tuple[int, int] = (640, 480), side: int = 256, index: int = 0) -> Image.Image:
    """A photo with one centred face."""
    return photo([(fer_face(index), ((size[0] - side) // 2, (size[1] - side) // 2), side)], size=size)


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """Encode ``image`` in memory."""
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()
