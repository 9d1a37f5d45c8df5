"""Test photos made in memory from real FER2013 faces, and a Y4M clip for Chromium's fake camera.

A FER2013 image is a 48x48 face crop; upscaled and pasted on a larger plain background it makes a
realistic selfie that the face detector finds.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.prerequisites import FER2013

REPO_ROOT = Path(__file__).resolve().parents[2]
FER2013_TEST = FER2013 / "test"
PHOTO_SIZE = (640, 480)
FACE_SIDE = 256
BACKGROUND = (200, 190, 175)


# This test face's detector box sits inside the pasted face, which makes a clear screenshot.
DEFAULT_FACE_INDEX = 2


def fer_face(emotion: str = "happy", index: int = DEFAULT_FACE_INDEX) -> Image.Image:
    """Return one FER2013 test face (sorted by file name, so the choice is stable)."""
    folder = FER2013_TEST / emotion
    files = sorted(folder.glob("*.jpg"))
    if not files:
        raise FileNotFoundError(f"No FER2013 test images in {folder}; the shared data set is missing.")
    return Image.open(files[index]).convert("RGB")


def face_photo(emotion: str = "happy", index: int = DEFAULT_FACE_INDEX) -> Image.Image:
    """A 640x480 'selfie': a real FER2013 face upscaled to 256x256 on a neutral background."""
    face = fer_face(emotion, index).resize((FACE_SIDE, FACE_SIDE), Image.Resampling.BICUBIC)
    photo = Image.new("RGB", PHOTO_SIZE, BACKGROUND)
    photo.paste(face, ((PHOTO_SIZE[0] - FACE_SIDE) // 2, (PHOTO_SIZE[1] - FACE_SIDE) // 2))
    return photo


def face_box_in_photo() -> tuple[int, int, int, int]:
    """Where face_photo() pasted the face: (x, y, width, height) in photo pixels."""
    return ((PHOTO_SIZE[0] - FACE_SIDE) // 2, (PHOTO_SIZE[1] - FACE_SIDE) // 2, FACE_SIDE, FACE_SIDE)


def two_faces_photo() -> Image.Image:
    """An 800x480 photo with two real faces: a larger one on the left (the primary) and one on the right."""
    photo = Image.new("RGB", (800, 480), BACKGROUND)
    photo.paste(fer_face("happy").resize((240, 240), Image.Resampling.BICUBIC), (60, 100))
    photo.paste(fer_face("surprise", 0).resize((200, 200), Image.Resampling.BICUBIC), (480, 120))
    return photo


def landscape_photo() -> Image.Image:
    """A 640x480 photo with no face in it: sky, hills and a sun."""
    width, height = PHOTO_SIZE
    sky = np.linspace((110, 160, 230), (200, 225, 250), height // 2).astype(np.uint8)
    ground = np.linspace((70, 140, 60), (40, 90, 35), height - height // 2).astype(np.uint8)
    rows = np.concatenate([sky, ground])[:, None, :]
    photo = Image.fromarray(np.repeat(rows, width, axis=1), "RGB")
    draw = ImageDraw.Draw(photo)
    draw.ellipse((480, 50, 560, 130), fill=(250, 220, 90))
    draw.polygon([(0, 300), (180, 190), (360, 300)], fill=(60, 110, 55))
    return photo


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    """Encode ``image`` as JPEG in memory."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def write_y4m(image: Image.Image, path: Path, frames: int = 2) -> Path:
    """Write ``image`` as a YUV4MPEG2 (I420, full-range JPEG YCbCr) clip Chromium can use as a camera."""
    width, height = image.size
    if width % 2 or height % 2:
        raise ValueError("Y4M 4:2:0 needs even dimensions")
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (
        np.asarray(y, dtype=np.uint8).tobytes()
        + np.asarray(cb.resize(half, Image.Resampling.BOX), dtype=np.uint8).tobytes()
        + np.asarray(cr.resize(half, Image.Resampling.BOX), dtype=np.uint8).tobytes()
    )
    header = f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode("ascii")
    path.write_bytes(header + b"".join(b"FRAME\n" + planes for _ in range(frames)))
    return path
