"""Decoding and checking uploaded images, in memory only.

Every image is opened, checked (format, size, pixel count, completeness), turned upright from its
EXIF orientation and converted to 8-bit RGB whatever it started as (gray, CMYK, alpha, palette,
16-bit). Large JPEGs are decoded at reduced size with Pillow's ``draft()`` so pixels that would be
thrown away are never decoded.
"""

import io
import warnings
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from recognizer.errors import ImageRejected

# Formats a phone, camera or browser produces. Anything else Pillow can parse (EPS, PSD, ICO, ...)
# is refused: those are not selfies and some of their decoders are a needless attack surface.
SUPPORTED_FORMATS: Final[frozenset[str]] = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF"})
# FER2013 faces are 48 px; an image smaller than that cannot hold a face the model can read.
MIN_IMAGE_SIDE: Final = 48
MAX_SIDE: Final = 1024
# Uploads are re-encoded at up to this long side, and the recognizer decodes them whole: a face is
# judged by its size in the photo as taken (48 px, the model's input, is the floor), so a 48 px face
# in a 4000 px photo must keep its 48 px all the way to the crop. Larger photos (48 MP phones) are
# scaled down to it; their floor is then 48 px of the 4096 px copy.
UPLOAD_SIDE: Final = 4096
WORK_SIDE: Final = UPLOAD_SIDE
# Pillow's own decompression-bomb limit (about 89 megapixels) is the limit we enforce.
MAX_PIXELS: Final = Image.MAX_IMAGE_PIXELS or 89_478_485
JPEG_QUALITY: Final = 90

_FORMATS_TEXT: Final = "JPEG, PNG, WebP, GIF, BMP or TIFF"


@dataclass(frozen=True)
class DecodedImage:
    """An upright 8-bit RGB image plus the size of the full-resolution upright original."""

    pixels: np.ndarray  # (h, w, 3) uint8 RGB, possibly smaller than the original
    original_size: tuple[int, int]  # (width, height) of the upright original image

    @property
    def scale(self) -> float:
        """Factor from ``pixels`` coordinates to original image coordinates."""
        return self.scale_to(self.original_size[0])

    def scale_to(self, width: int) -> float:
        """Factor from ``pixels`` coordinates to those of a copy of the image ``width`` pixels wide."""
        return width / self.pixels.shape[1]


def open_image(data: bytes) -> Image.Image:
    """Identify ``data`` as a supported, not-too-large, not-too-small image (header only, no decode)."""
    if not data:
        raise ImageRejected("empty_file", "The file is empty. Choose a photo and try again.")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1x and 2x its pixel limit; we refuse from 1x.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large() from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(
            "not_an_image",
            f"This file is not an image we can read. Upload a photo ({_FORMATS_TEXT}).",
        ) from exc
    if image.format not in SUPPORTED_FORMATS:
        raise ImageRejected(
            "unsupported_format",
            f"{image.format or 'This'} images are not supported. Upload a {_FORMATS_TEXT} photo.",
        )
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_large()
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageRejected(
            "image_too_small",
            f"The image is only {width}x{height} pixels, too small to show a face. "
            f"Use a photo at least {MIN_IMAGE_SIDE} pixels on each side.",
        )
    return image


def decode_image(data: bytes, work_side: int = MAX_SIDE, min_side: int | None = None) -> DecodedImage:
    """Decode ``data`` upright as RGB pixels whose long side is at most ``work_side``.

    JPEGs larger than needed are decoded at 1/2, 1/4 or 1/8 scale (``draft``) while the long side
    stays at least ``min_side`` (default ``work_side``); any further reduction is a resize.
    """
    image = open_image(data)
    original_size = _upright_size(image)
    floor = min(min_side or work_side, work_side)
    if image.format in ("JPEG", "MPO"):
        width, height = image.size
        long_side = max(width, height)
        if long_side > floor:
            ratio = floor / long_side
            # draft keeps both sides at least the requested size, so the long side stays >= floor
            image.draft("RGB", (max(1, int(width * ratio)), max(1, int(height * ratio))))
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise _too_large() from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _unreadable(exc) from exc
    try:
        upright = ImageOps.exif_transpose(image) or image
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        upright = image  # a malformed EXIF block: show the pixels as stored rather than refuse the photo
    try:
        rgb = to_rgb(upright)
    except (OSError, ValueError) as exc:  # e.g. LAB or other colour modes Pillow cannot convert
        raise ImageRejected(
            "unsupported_format", f"This image's colour format ({upright.mode}) is not supported. "
            f"Save it as an ordinary RGB {_FORMATS_TEXT} photo and try again.",
        ) from exc
    if max(rgb.size) > work_side:
        rgb.thumbnail((work_side, work_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return DecodedImage(pixels=np.asarray(rgb), original_size=original_size)


@dataclass(frozen=True)
class NormalisedUpload:
    """A clean JPEG of an upload plus the (width, height) of the upright original it was made from."""

    jpeg: bytes
    original_size: tuple[int, int]


def normalise_upload(data: bytes, max_side: int = UPLOAD_SIDE) -> NormalisedUpload:
    """Validate an upload and make a clean JPEG: upright, RGB, long side <= ``max_side``, no metadata.

    The original's upright size comes along so that face boxes can be given in its coordinates.
    Raises ImageRejected (codes ``empty_file``, ``not_an_image``, ``unsupported_format``,
    ``truncated_image``, ``image_too_large``, ``image_too_small``) with a message saying what to do.
    """
    decoded = decode_image(data, work_side=max_side)
    out = io.BytesIO()
    # A fresh image from raw pixels: no EXIF, ICC, XMP or comments can survive the re-encode.
    Image.fromarray(decoded.pixels, "RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    return NormalisedUpload(out.getvalue(), decoded.original_size)


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode (gray, 16-bit, CMYK, palette, alpha) to 8-bit RGB.

    Transparent areas become white, the colour a transparent picture shows on a page.
    """
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = _to_8bit_gray(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def _to_8bit_gray(image: Image.Image) -> Image.Image:
    """Scale a 16-bit or 32-bit single-channel image to 8 bits (Pillow's convert would clip, not scale)."""
    values = np.asarray(image)
    if image.mode == "F":
        return Image.fromarray(np.clip(values, 0.0, 255.0).astype(np.uint8), "L")
    values = values.astype(np.int64)
    if image.mode == "I" and values.max(initial=0) <= 255:
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    return Image.fromarray((np.clip(values, 0, 65535) >> 8).astype(np.uint8), "L")


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """The (width, height) the image has once its EXIF orientation is applied."""
    width, height = image.size
    try:
        orientation = image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError):
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _too_large() -> ImageRejected:
    return ImageRejected(
        "image_too_large",
        f"The image has more than {MAX_PIXELS // 1_000_000} million pixels. "
        "Use a smaller photo (a phone photo or screenshot is fine).",
    )


def _unreadable(exc: BaseException) -> ImageRejected:
    if isinstance(exc, OSError):  # Pillow reports cut-off and corrupt image data as OSError
        return ImageRejected(
            "truncated_image",
            "The image file is incomplete or damaged (it may not have finished uploading). "
            "Try again or choose another photo.",
        )
    return ImageRejected("not_an_image", f"This file could not be decoded as an image. Upload a {_FORMATS_TEXT} photo.")


# Pillow must never paper over a cut-off file with grey pixels: a truncated upload is an error.
ImageFile.LOAD_TRUNCATED_IMAGES = False
