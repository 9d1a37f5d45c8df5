"""Tests for recognizer.images: every image kind is decoded upright as RGB; bad uploads are refused."""

import io
import struct
import warnings

import numpy as np
import pytest
from PIL import Image

from recognizer.errors import ImageRejected
from recognizer.images import UPLOAD_SIDE, decode_image, normalise_upload

from tests.recognizer.photos import encode, one_face_photo


def _decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(normalise_upload(data).jpeg))


def test_normalise_keeps_the_photos_own_resolution_up_to_the_max_side() -> None:
    # Faces are judged in the photo's own pixels (48 px floor), so a 2000 px photo keeps all of them.
    data = encode(one_face_photo((2000, 1500), side=800), "JPEG", quality=92)
    normalised = normalise_upload(data)
    out = Image.open(io.BytesIO(normalised.jpeg))
    assert out.format == "JPEG" and out.mode == "RGB"
    assert out.size == (2000, 1500)
    assert normalised.original_size == (2000, 1500)
    small = normalise_upload(data, max_side=640)
    assert Image.open(io.BytesIO(small.jpeg)).size == (640, 480) and small.original_size == (2000, 1500)
    assert UPLOAD_SIDE == 4096


def test_normalise_drops_all_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    data = encode(one_face_photo(), "JPEG", exif=exif.tobytes(), comment=b"private note")
    out = normalise_upload(data).jpeg
    assert b"SecretCam" not in out and b"private note" not in out
    assert not Image.open(io.BytesIO(out)).getexif()


def test_exif_rotation_is_applied_and_size_is_upright() -> None:
    upright = one_face_photo((640, 480))
    # Stored rotated 90 degrees; orientation 6 tells viewers to rotate it back clockwise.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored, "JPEG", exif=exif.tobytes(), quality=95)
    decoded = decode_image(data)
    assert decoded.original_size == (640, 480)
    assert decoded.pixels.shape == (480, 640, 3)
    diff = np.abs(decoded.pixels.astype(int) - np.asarray(upright).astype(int)).mean()
    assert diff < 6, f"image not turned upright (mean abs diff {diff:.1f})"


def test_grayscale_becomes_rgb() -> None:
    data = encode(one_face_photo().convert("L"), "PNG")
    decoded = decode_image(data)
    assert decoded.pixels.shape == (480, 640, 3)
    assert np.array_equal(decoded.pixels[..., 0], decoded.pixels[..., 2])


def test_cmyk_jpeg_becomes_rgb() -> None:
    original = one_face_photo()
    data = encode(original.convert("CMYK"), "JPEG", quality=95)
    decoded = decode_image(data)
    assert decoded.pixels.shape == (480, 640, 3)
    assert np.abs(decoded.pixels.astype(int) - np.asarray(original).astype(int)).mean() < 8


def test_alpha_is_composited_on_white() -> None:
    rgba = one_face_photo().convert("RGBA")
    alpha = np.full((480, 640), 255, dtype=np.uint8)
    alpha[:, :100] = 0  # left strip fully transparent
    rgba.putalpha(Image.fromarray(alpha))
    decoded = decode_image(encode(rgba, "PNG"))
    assert decoded.pixels.shape == (480, 640, 3)
    assert (decoded.pixels[:, :100] == 255).all()


def test_palette_with_transparency() -> None:
    image = one_face_photo().convert("P", palette=Image.Palette.ADAPTIVE)
    data = encode(image, "GIF", transparency=0)
    assert decode_image(data).pixels.shape == (480, 640, 3)


def test_16_bit_grayscale_is_scaled_not_clipped() -> None:
    gray8 = np.asarray(one_face_photo().convert("L"), dtype=np.uint16)
    image16 = Image.fromarray((gray8 * 257).astype(np.uint16))
    assert image16.mode == "I;16"
    data = encode(image16, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")
    decoded = decode_image(data)
    # Pillow's plain convert would clip every value above 255 to white.
    assert np.abs(decoded.pixels[..., 0].astype(int) - gray8.astype(int)).max() <= 1


def test_large_jpeg_is_decoded_at_reduced_size_with_draft() -> None:
    data = encode(one_face_photo((2560, 1920), side=1000), "JPEG", quality=90)
    decoded = decode_image(data, work_side=640)
    assert decoded.original_size == (2560, 1920)
    assert decoded.pixels.shape == (480, 640, 3)
    assert decoded.scale == pytest.approx(4.0)


def test_draft_may_go_below_work_side_down_to_min_side() -> None:
    data = encode(one_face_photo((1280, 960), side=480), "JPEG", quality=90)
    assert decode_image(data, work_side=512).pixels.shape == (384, 512, 3)  # 1/2 decode, then resized
    assert decode_image(data, work_side=512, min_side=320).pixels.shape == (240, 320, 3)  # 1/4 decode
    png = encode(one_face_photo((1280, 960), side=480), "PNG")
    assert decode_image(png, work_side=512, min_side=320).pixels.shape == (384, 512, 3)  # no draft for PNG


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"just some text, renamed to selfie.jpg\n" * 10, "not_an_image"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "not_an_image"),
    ],
)
def test_rejects_non_images(data: bytes, code: str) -> None:
    with pytest.raises(ImageRejected) as info:
        normalise_upload(data)
    assert info.value.code == code
    assert "photo" in info.value.message.lower()


def test_rejects_unsupported_format() -> None:
    data = encode(one_face_photo().resize((128, 128)), "ICO")
    with pytest.raises(ImageRejected) as info:
        normalise_upload(data)
    assert info.value.code == "unsupported_format"
    assert "JPEG" in info.value.message


def test_rejects_truncated_jpeg() -> None:
    data = encode(one_face_photo(), "JPEG")
    with pytest.raises(ImageRejected) as info:
        normalise_upload(data[: len(data) // 2])
    assert info.value.code == "truncated_image"


def test_rejects_too_small() -> None:
    with pytest.raises(ImageRejected) as info:
        normalise_upload(encode(Image.new("RGB", (40, 300)), "PNG"))
    assert info.value.code == "image_too_small"
    assert "40x300" in info.value.message


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's calling card)."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [10_000, 20_000])  # 100 MP (Pillow only warns) and 400 MP (Pillow errors)
def test_rejects_decompression_bomb(side: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning leaks out either
        with pytest.raises(ImageRejected) as info:
            normalise_upload(_png_header_only(side, side))
    assert info.value.code == "image_too_large"


def test_truncated_png_is_refused_not_grey_filled() -> None:
    # A PNG cut inside its image data must be refused, not padded out with grey.
    data = encode(one_face_photo(), "PNG")
    with pytest.raises(ImageRejected) as info:
        decode_image(data[: int(len(data) * 0.8)])
    assert info.value.code == "truncated_image"
