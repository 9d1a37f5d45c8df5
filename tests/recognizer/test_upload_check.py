"""The web's upload check reads headers and markers only: no pixel is decoded whatever the format,
a cut-off file is still refused, and the largest accepted image costs the web almost no CPU."""

from __future__ import annotations

import contextlib
import io
import time
import zlib
from collections.abc import Callable, Iterator

import pytest
from PIL import Image, ImageFile

from recognizer.errors import ImageRejected
from recognizer.file_structure import is_complete
from recognizer.images import MAX_PIXELS, MAX_PIXELS_BY_FORMAT, check_upload
from tests.recognizer.photos import one_face_photo

# CPU seconds the web may spend checking the largest accepted upload (a decode takes 0.3-1 s).
CHECK_CPU_BOUND_S = 0.05


@contextlib.contextmanager
def no_decoding() -> Iterator[None]:
    """Any pixel decode inside this block fails the test (plugins with a load of their own included)."""

    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError(f"the upload check decoded a {self.format} image")

    Image.init()
    with pytest.MonkeyPatch.context() as patch:
        for factory, _ in Image.OPEN.values():
            if isinstance(factory, type) and "load" in vars(factory):
                patch.setattr(factory, "load", refuse)
        patch.setattr(ImageFile.ImageFile, "load", refuse)
        yield


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def rotated_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side: upright it is 480x640
    return exif.tobytes()


def png_with_exif_after_the_pixels() -> bytes:
    """A PNG whose eXIf chunk follows IDAT (allowed; Pillow then decodes the image to find it)."""
    data = encode(one_face_photo(), "PNG")
    body = rotated_exif()
    chunk = len(body).to_bytes(4, "big") + b"eXIf" + body + zlib.crc32(b"eXIf" + body).to_bytes(4, "big")
    return data[:-12] + chunk + data[-12:]


PHOTOS: dict[str, Callable[[], bytes]] = {
    "JPEG": lambda: encode(one_face_photo(), "JPEG", exif=rotated_exif()),
    "PNG": png_with_exif_after_the_pixels,
    "WEBP": lambda: encode(one_face_photo(), "WEBP", exif=rotated_exif()),
    "TIFF": lambda: encode(one_face_photo(), "TIFF", compression="tiff_deflate", exif=rotated_exif()),
    "HEIF": lambda: encode(one_face_photo(), "HEIF", exif=rotated_exif(), quality=80),
    "AVIF": lambda: encode(one_face_photo(), "AVIF", exif=rotated_exif(), quality=80),
    "GIF": lambda: encode(one_face_photo().convert("P"), "GIF"),
    "BMP": lambda: encode(one_face_photo(), "BMP"),
}
ROTATED = {"JPEG", "PNG", "WEBP", "TIFF", "HEIF", "AVIF"}


@pytest.mark.parametrize("fmt", list(PHOTOS))
def test_every_format_is_checked_without_decoding(fmt: str) -> None:
    data = PHOTOS[fmt]()
    assert Image.open(io.BytesIO(data)).format == fmt
    with no_decoding():
        checked = check_upload(data)
    assert checked.data is data
    assert checked.upright_size == ((480, 640) if fmt in ROTATED else (640, 480))


@pytest.mark.parametrize("fmt", list(PHOTOS))
@pytest.mark.parametrize("kept", [0.5, 0.9])
def test_a_cut_off_file_is_refused_from_its_markers(fmt: str, kept: float) -> None:
    data = PHOTOS[fmt]()
    with no_decoding(), pytest.raises(ImageRejected) as info:
        check_upload(data[: int(len(data) * kept)])
    assert info.value.code == "truncated_image"


def test_a_png_with_data_after_iend_is_whole() -> None:
    data = encode(one_face_photo(), "PNG") + b"trailing bytes a tool appended"
    assert is_complete(Image.open(io.BytesIO(data)), data) is True


def largest(fmt: str) -> bytes:
    """The largest image of ``fmt`` the check accepts, flat (so it is small on the wire)."""
    limit = MAX_PIXELS_BY_FORMAT.get(fmt, MAX_PIXELS)
    size = {64_000_000: (8000, 8000), 36_000_000: (6000, 6000), 24_000_000: (6000, 4000),
            12_000_000: (4000, 3000)}[limit]
    params = {"TIFF": {"compression": "tiff_deflate"}, "WEBP": {"lossless": True},
              "HEIF": {"enc_params": {"preset": "ultrafast"}}, "AVIF": {"speed": 10}}.get(fmt, {})
    image = Image.new("RGBA", size, (200, 170, 150, 255))
    return encode(image.convert("RGB") if fmt in ("TIFF", "HEIF") else image, fmt, **params)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP", "HEIF", "AVIF"])
def test_the_largest_accepted_image_costs_the_web_almost_no_cpu(fmt: str) -> None:
    data = largest(fmt)
    with no_decoding():
        started = time.process_time()
        checked = check_upload(data)
        spent = time.process_time() - started
    print(f"{fmt} {checked.upright_size} {len(data)} bytes: {spent * 1000:.1f} ms CPU")
    assert spent < CHECK_CPU_BOUND_S
    cut = data[: len(data) - 20]
    started = time.process_time()
    with no_decoding(), pytest.raises(ImageRejected):
        check_upload(cut)
    assert time.process_time() - started < CHECK_CPU_BOUND_S
