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
import pillow_heif
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from recognizer.errors import ImageRejected
from recognizer.file_structure import cut_short, is_complete, png_exif
from recognizer.memory import release_memory

# Formats a phone, camera or browser produces. Anything else Pillow can parse (EPS, PSD, ICO, ...)
# is refused: those are not selfies and some of their decoders are a needless attack surface.
SUPPORTED_FORMATS: Final[frozenset[str]] = frozenset(
    {"JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF", "GIF", "BMP", "TIFF"}
)
# FER2013 faces are 48 px; an image smaller than that cannot hold a face the model can read.
MIN_IMAGE_SIDE: Final = 48
# The worker decodes an upload (as received) at up to this long side: a face is judged by its size
# in the photo as taken (48 px, the model's input, is the floor), so a 48 px face in a 4000 px photo
# must keep its 48 px all the way to the crop. Larger photos (48 MP phones) are scaled down to it;
# their floor is then 48 px of the 4096 px copy.
WORK_SIDE: Final = 4096
# Most pixels an upload may have: above every phone's front camera (50 MP at most) and most rear
# main cameras' full-resolution modes, and low enough that decoding the largest accepted image
# stays under 300 MB of peak memory whatever its format (4 bytes a pixel at most once loaded, see
# tests/recognizer/test_image_limits.py). Pillow's own bomb limit (89 MP) would allow ~630 MB.
MAX_PIXELS: Final = 64_000_000
# Pillow's WebP decoder holds three full copies of the frame (libwebp's canvas, the bytes handed
# over, the image), about 15 bytes a pixel, so WebP gets a lower cap; phones do not shoot WebP.
# libheif and libavif hold the decoded YCbCr planes and an RGB(A) copy beside Pillow's image, so
# HEIC and AVIF get lower caps too (a 36 MP RGBA HEIC peaks at 285 MB, a 24 MP RGBA AVIF at 271 MB).
MAX_PIXELS_BY_FORMAT: Final[dict[str, int]] = {"WEBP": 12_000_000, "HEIF": 36_000_000, "AVIF": 24_000_000}
# Longest side over shortest side: a 48x60000 strip holds no face, and at WORK_SIDE its short side
# would vanish. Panoramas beyond 4:1 are refused with their size (crop the face out instead).
MAX_ASPECT_RATIO: Final = 4.0
# A complete JPEG codes every 8x8 block's DC value in at least one bit, so it needs at least this
# many bytes per pixel; a header claiming more pixels than its data can hold is a cut-off file.
# (Arithmetic-coded JPEGs could in principle be smaller; no phone or browser writes them.)
JPEG_MIN_BYTES_PER_PIXEL: Final = 1 / 512
# After decoding an image this large, hand freed memory back to the system (glibc keeps it).
TRIM_AFTER_PIXELS: Final = 4_000_000
# Above this many pixels an image is reduced to the work side by a whole factor, strip by strip, and
# above HALF_SIDE_PIXELS to half of it, so that the decoded original plus its reduced copy stay under
# 300 MB even as RGBA (4 bytes a pixel): a 12 MP phone photo keeps every pixel.
REDUCE_HARD_PIXELS: Final = 16_000_000
HALF_SIDE_PIXELS: Final = 40_000_000
# Pixels of one strip when a large image is shrunk before conversion (see _reduce).
STRIP_PIXELS: Final = 2_000_000

_FORMATS_TEXT: Final = "JPEG, HEIC, AVIF, PNG, WebP, GIF, BMP or TIFF"


@dataclass(frozen=True)
class DecodedImage:
    """An upright 8-bit RGB image plus the size of the full-resolution upright original."""

    pixels: np.ndarray  # (h, w, 3) uint8 RGB, possibly smaller than the original
    upright_size: tuple[int, int]  # (width, height) of the upright original image
    detail: float = 1.0  # long side over that of a full decode at the same work side (draft: < 1)

    @property
    def scale(self) -> float:
        """Factor from ``pixels`` coordinates to original image coordinates."""
        return self.scale_to(self.upright_size[0])

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
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, RuntimeError) as exc:
        # RuntimeError: Pillow's AVIF plugin reports a damaged file that way (libavif's errors).
        if cut_short(data):
            raise _unreadable(OSError("cut short")) from exc
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
    limit = MAX_PIXELS_BY_FORMAT.get(image.format or "", MAX_PIXELS)
    if width * height > limit:
        raise _too_large(limit, image.format)
    if min(width, height) < MIN_IMAGE_SIDE:
        raise ImageRejected(
            "image_too_small",
            f"The image is only {width}x{height} pixels, too small to show a face. "
            f"Use a photo at least {MIN_IMAGE_SIDE} pixels on each side.",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise ImageRejected(
            "image_too_narrow",
            f"The image is {width}x{height} pixels, a strip more than {MAX_ASPECT_RATIO:g} times longer than it "
            "is wide, where a face cannot be read. Crop it around the face and try again.",
        )
    if image.format in ("JPEG", "MPO") and len(data) < width * height * JPEG_MIN_BYTES_PER_PIXEL:
        raise ImageRejected(
            "truncated_image",
            f"The image says it is {width}x{height} pixels but holds only {len(data)} bytes, too few for "
            "that size: the file is incomplete or damaged. Try again or choose another photo.",
        )
    return image


def decode_image(data: bytes, work_side: int = WORK_SIDE, min_side: int | None = None,
                 detail: float = 1.0) -> DecodedImage:
    """Decode ``data`` upright as RGB pixels whose long side is at most ``work_side``.

    JPEGs larger than needed are decoded at 1/2, 1/4 or 1/8 scale (``draft``) while the long side
    stays at least ``min_side`` (default ``work_side``) and at least ``detail`` times the long side
    a full decode (capped at ``work_side``) would have; any further reduction is a resize.
    """
    image = open_image(data)
    upright_size = _upright_size(image)
    full_side = min(max(image.size), work_side)
    floor = min(min_side or work_side, work_side, max(1, int(full_side * detail + 0.999)))
    pixels = image.size[0] * image.size[1]
    if pixels > HALF_SIDE_PIXELS:
        # As _reduce does for other formats; and a progressive JPEG decoded whole would hold every
        # DCT coefficient of the full image (430 MB for 64 MP).
        floor = min(floor, work_side // 2)
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
    except (OSError, SyntaxError, ValueError, RuntimeError) as exc:  # RuntimeError: a damaged AVIF's frame
        raise _unreadable(exc) from exc
    loaded_pixels = image.size[0] * image.size[1]
    # Shrink a large image in its own mode first, so the copies made below (orientation, colour
    # conversion) are small ones: peak memory stays near one copy of the decoded pixels.
    image = _reduce(image, work_side)
    try:
        # In place: a copy would cost as much as the JPEG decode's own allocation (24 ms of CPU for
        # 12 MP) even for a photo that is upright already.
        ImageOps.exif_transpose(image, in_place=True)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        pass  # a malformed EXIF block: show the pixels as stored rather than refuse the photo
    upright = image
    try:
        rgb = to_rgb(upright)
    except (OSError, ValueError) as exc:  # e.g. LAB or other colour modes Pillow cannot convert
        raise ImageRejected(
            "unsupported_format", f"This image's colour format ({upright.mode}) is not supported. "
            f"Save it as an ordinary RGB {_FORMATS_TEXT} photo and try again.",
        ) from exc
    del image, upright
    if max(rgb.size) > work_side:
        rgb.thumbnail((work_side, work_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(rgb)
    del rgb  # freed before the trim below, or its pixels may stay with the process
    if loaded_pixels >= TRIM_AFTER_PIXELS:
        release_memory()
    return DecodedImage(pixels=pixels, upright_size=upright_size, detail=max(pixels.shape[:2]) / full_side)


def _reduce(image: Image.Image, work_side: int) -> Image.Image:
    """``image`` shrunk by a whole factor while its long side stays >= 2x ``work_side``, strip by strip.

    Box filter in the image's own mode (16-bit gray goes to 32-bit "I", which ``to_rgb`` scales);
    palette and 1-bit images by nearest neighbour (averaging palette indices is meaningless).
    Working in strips of a few megapixels keeps the extra memory small: Pillow's own ``reduce``
    copies a whole RGBA image to premultiplied alpha first, doubling the peak.
    """
    factor = max(image.size) // (2 * work_side)
    pixels = image.size[0] * image.size[1]
    if pixels > REDUCE_HARD_PIXELS:
        # A very large image goes straight to <= work_side (half of it above HALF_SIDE_PIXELS) by a
        # whole factor: converting or resizing it whole first would hold several full-size copies
        # (an 8000x8000 RGBA PNG peaked at 1.5 GB that way with a 4096 px work side).
        target = work_side // 2 if pixels > HALF_SIDE_PIXELS else work_side
        factor = max(factor, -(-max(image.size) // target))
    if factor < 2:
        return image
    width, height = image.size
    nearest = image.mode in ("P", "PA", "1")
    out_mode = "I" if image.mode.startswith("I;16") else image.mode
    out = Image.new(out_mode, (-(-width // factor), -(-height // factor)))
    if image.mode in ("P", "PA") and image.palette is not None:
        out.putpalette(image.getpalette(rawmode=image.palette.mode) or [], rawmode=image.palette.mode)
    rows = factor * max(1, STRIP_PIXELS // (width * factor))
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(top + rows, height)))
        if out_mode != strip.mode:
            strip = strip.convert(out_mode)
        size = (-(-strip.size[0] // factor), -(-strip.size[1] // factor))
        small = strip.resize(size, Image.Resampling.NEAREST) if nearest else strip.reduce(factor)
        out.paste(small, (0, top // factor))
    out.info = dict(image.info)  # transparency, and EXIF for the orientation applied next
    if "exif" not in out.info:
        exif = image.getexif()  # TIFF keeps its orientation in its own tags, not in info
        if exif:
            out.info["exif"] = exif.tobytes()
    return out


@dataclass(frozen=True)
class CheckedUpload:
    """An upload as it was received, its header checked, plus the (width, height) of its upright image."""

    data: bytes
    upright_size: tuple[int, int]


def check_upload(data: bytes) -> CheckedUpload:
    """Refuse what is not a usable photo before it is queued, without decoding a pixel.

    The header is checked (format, size, shape, bytes for the size: ``open_image``), and the file
    must reach the end its format's markers say it has (``recognizer.file_structure``); the
    orientation comes from the EXIF block. Where the markers cannot tell (a run-length BMP), the
    worker's decode decides. The photo is decoded once, by the worker (``decode_image``). Raises
    ImageRejected (codes ``empty_file``, ``not_an_image``, ``unsupported_format``,
    ``truncated_image``, ``image_too_large``, ``image_too_small``, ``image_too_narrow``) with a message
    saying what to do.
    """
    image = open_image(data)
    if is_complete(image, data) is False:
        raise _unreadable(OSError("cut short"))
    exif = (png_exif(data) or b"") if image.format == "PNG" and "exif" not in image.info else None
    return CheckedUpload(data, _upright_size(image, exif))


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode (gray, 16-bit, CMYK, palette, alpha) to 8-bit RGB.

    Transparent areas become white, the colour a transparent picture shows on a page.
    """
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        image = _to_8bit_gray(image)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        # Pasted through its alpha onto white: one RGB copy and the alpha channel, where an
        # RGBA composite would hold three 4-byte copies of a photo that may be 16 MP.
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        return background
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


def _upright_size(image: Image.Image, exif: bytes | None = None) -> tuple[int, int]:
    """The (width, height) the image has once its EXIF orientation is applied.

    ``exif``: a PNG's eXIf chunk (b"" for none) read from its chunks, where ``getexif`` would decode it.
    """
    width, height = image.size
    if image.format == "TIFF":
        return width, height  # Pillow reports a TIFF's size upright already (and turns it when loading)
    try:
        if exif is not None:
            parsed = Image.Exif()
            if exif:
                parsed.load(exif)
            orientation = parsed.get(0x0112, 1)
        else:
            orientation = image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError):
        orientation = 1
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _too_large(limit: int = MAX_PIXELS, image_format: str | None = None) -> ImageRejected:
    kind = f"{image_format} image" if limit != MAX_PIXELS and image_format else "image"
    return ImageRejected(
        "image_too_large",
        f"The {kind} has more than {limit // 1_000_000} million pixels. "
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


# HEIC/HEIF, what iPhones save by default (Pillow reads AVIF itself). Only the primary image:
# thumbnails, depth maps and auxiliary images are never read.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)

# Pillow must never paper over a cut-off file with grey pixels: a truncated upload is an error.
ImageFile.LOAD_TRUNCATED_IMAGES = False
