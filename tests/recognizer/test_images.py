"""Tests for recognizer.images: every image kind is decoded upright as RGB; bad uploads are refused."""

import io
import struct
import warnings

import numpy as np
import pytest
from PIL import Image

from recognizer.errors import ImageRejected
from recognizer.images import WORK_SIDE, check_upload, decode_image

from tests.recognizer.photos import encode, one_face_photo


def test_an_upload_is_checked_and_passed_on_as_received_with_its_upright_size() -> None:
    # Faces are judged in the photo's own pixels (48 px floor), and the worker decodes the upload
    # once, at up to WORK_SIDE: the web neither decodes nor re-encodes it.
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: upright it is 1500x2000
    data = encode(one_face_photo((2000, 1500), side=800), "JPEG", quality=92, exif=exif.tobytes())
    checked = check_upload(data)
    assert checked.data is data and checked.upright_size == (1500, 2000)
    assert decode_image(data, work_side=WORK_SIDE).pixels.shape == (2000, 1500, 3)
    assert WORK_SIDE == 4096


@pytest.mark.parametrize("trailer", [b"", b"\x00\x00ftypmp42 a motion photo's video" * 50])
def test_a_whole_jpeg_is_accepted_from_its_markers_without_decoding(trailer: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    import recognizer.images as images

    def no_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("a JPEG that reaches its end-of-image marker is not decoded in the web")

    monkeypatch.setattr(images, "decode_image", no_decode)
    exif = Image.Exif()
    exif[0x010F] = "Cam"
    # The EXIF thumbnail is a whole JPEG (with its own end marker) before the photo's first scan.
    data = encode(one_face_photo(), "JPEG", exif=exif.tobytes()) + trailer
    assert check_upload(data).upright_size == (640, 480)
    assert check_upload(encode(one_face_photo(), "PNG")).upright_size == (640, 480)


def test_a_jpeg_cut_after_its_header_is_refused_even_with_an_exif_thumbnail() -> None:
    thumbnail = encode(Image.new("RGB", (160, 120), (90, 100, 110)), "JPEG")
    head = encode(one_face_photo((1280, 960)), "JPEG", quality=95)
    # An APP1 segment holding a complete JPEG (ending in FFD9) right after SOI, as cameras write.
    app1 = b"\xff\xe1" + (len(thumbnail) + 8).to_bytes(2, "big") + b"Exif\x00\x00" + thumbnail
    data = head[:2] + app1 + head[2:]
    assert check_upload(data).upright_size == (1280, 960)
    with pytest.raises(ImageRejected) as info:
        check_upload(data[: len(data) * 3 // 4])
    assert info.value.code == "truncated_image"


def test_exif_rotation_is_applied_and_size_is_upright() -> None:
    upright = one_face_photo((640, 480))
    # Stored rotated 90 degrees; orientation 6 tells viewers to rotate it back clockwise.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored, "JPEG", exif=exif.tobytes(), quality=95)
    decoded = decode_image(data)
    assert decoded.upright_size == (640, 480)
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
    assert decoded.upright_size == (2560, 1920)
    assert decoded.pixels.shape == (480, 640, 3)
    assert decoded.scale == pytest.approx(4.0)


def test_draft_may_go_below_work_side_down_to_min_side() -> None:
    data = encode(one_face_photo((1280, 960), side=480), "JPEG", quality=90)
    assert decode_image(data, work_side=512).pixels.shape == (384, 512, 3)  # 1/2 decode, then resized
    assert decode_image(data, work_side=512, min_side=320).pixels.shape == (240, 320, 3)  # 1/4 decode
    png = encode(one_face_photo((1280, 960), side=480), "PNG")
    assert decode_image(png, work_side=512, min_side=320).pixels.shape == (384, 512, 3)  # no draft for PNG


def test_detail_decodes_a_jpeg_at_the_largest_draft_scale_that_keeps_it() -> None:
    data = encode(one_face_photo((1280, 960), side=480), "JPEG", quality=90)
    full = decode_image(data, work_side=4096)
    assert full.pixels.shape == (960, 1280, 3) and full.detail == 1.0
    half = decode_image(data, work_side=4096, detail=0.5)
    assert half.pixels.shape == (480, 640, 3) and half.detail == 0.5 and half.scale == pytest.approx(2.0)
    # Half the resolution decoded by the JPEG decoder itself: the same picture, at most JPEG noise apart.
    reference = np.asarray(Image.fromarray(full.pixels).reduce(2), dtype=int)
    assert np.abs(half.pixels.astype(int) - reference).mean() < 3
    # 0.6 of the resolution: 1/2 would be too little, so the JPEG is decoded whole.
    assert decode_image(data, work_side=4096, detail=0.6).detail == 1.0
    # Beyond the work side, detail is a share of the work side's pixels: a 4096-px cap decodes a
    # 1280-px photo at 1/4 for detail 0.25, 320 px long.
    assert decode_image(data, work_side=4096, detail=0.25).pixels.shape == (240, 320, 3)
    png = encode(one_face_photo((1280, 960), side=480), "PNG")
    assert decode_image(png, work_side=4096, detail=0.5).detail == 1.0  # no draft for PNG


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
        check_upload(data)
    assert info.value.code == code
    assert "photo" in info.value.message.lower()


def test_rejects_unsupported_format() -> None:
    data = encode(one_face_photo().resize((128, 128)), "ICO")
    with pytest.raises(ImageRejected) as info:
        check_upload(data)
    assert info.value.code == "unsupported_format"
    assert "JPEG" in info.value.message


def test_rejects_truncated_jpeg() -> None:
    data = encode(one_face_photo(), "JPEG")
    with pytest.raises(ImageRejected) as info:
        check_upload(data[: len(data) // 2])
    assert info.value.code == "truncated_image"


def test_rejects_too_small() -> None:
    with pytest.raises(ImageRejected) as info:
        check_upload(encode(Image.new("RGB", (40, 300)), "PNG"))
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
            check_upload(_png_header_only(side, side))
    assert info.value.code == "image_too_large"


def test_truncated_png_is_refused_not_grey_filled() -> None:
    # A PNG cut inside its image data must be refused, not padded out with grey.
    data = encode(one_face_photo(), "PNG")
    with pytest.raises(ImageRejected) as info:
        decode_image(data[: int(len(data) * 0.8)])
    assert info.value.code == "truncated_image"
