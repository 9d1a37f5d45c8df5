"""HEIC/HEIF (iPhones' default) and AVIF are read like any photo: upright, RGB, and within the same
pixel and memory limits, checked from their headers. The files are made by the real encoders."""

from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest
from PIL import Image

from recognizer.errors import ImageRejected
from recognizer.images import MAX_PIXELS_BY_FORMAT, check_upload, decode_image
from tests.recognizer.photos import one_face_photo

FORMATS = ["HEIF", "AVIF"]


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, quality=90, **params)
    return out.getvalue()


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_phone_photo_decodes_upright_and_close_to_what_was_encoded(fmt: str) -> None:
    source = one_face_photo()  # 640x480, a FER2013 face on a background
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned: upright is the source turned back
    stored = source.transpose(Image.Transpose.ROTATE_270)
    data = encode(stored, fmt, exif=exif.tobytes())
    assert check_upload(data).upright_size == (640, 480)
    decoded = decode_image(data)
    assert decoded.upright_size == (640, 480) and decoded.pixels.shape == (480, 640, 3)
    error = np.abs(decoded.pixels.astype(int) - np.asarray(source.convert("RGB")).astype(int)).mean()
    assert error < 6, f"{fmt}: mean error {error:.1f}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_alpha_and_grey_phone_images_become_rgb(fmt: str) -> None:
    for image in (one_face_photo().convert("RGBA"), one_face_photo().convert("L")):
        assert decode_image(encode(image, fmt)).pixels.shape == (480, 640, 3)


def claim_size(data: bytes, width: int, height: int) -> bytes:
    """The file with its 'ispe' box (the image's size in the header) edited to claim another size."""
    at = data.index(b"ispe") + 8  # after the box type, version and flags
    return data[:at] + struct.pack(">II", width, height) + data[at + 8 :]


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_pixel_more_each_way_than_the_cap_is_refused_from_the_header(fmt: str) -> None:
    limit = MAX_PIXELS_BY_FORMAT[fmt]
    side = math.isqrt(limit)
    data = claim_size(encode(one_face_photo(), fmt), side + 1, side + 1)
    with pytest.raises(ImageRejected) as info:
        check_upload(data)
    assert info.value.code == "image_too_large"
    assert f"{limit // 1_000_000} million" in info.value.message
