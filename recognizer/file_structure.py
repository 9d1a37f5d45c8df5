"""Whether an image file is whole, read from its container's markers alone (no pixel is decoded).

Each format says where it ends: a JPEG's first scan reaches its end-of-image marker, a PNG's chunks
reach IEND, a WebP's RIFF chunks fill the size its header gives, a GIF's first frame's data blocks
reach their terminator, a TIFF's strips or tiles lie inside the file, an uncompressed BMP holds its
rows, and a HEIF or AVIF file's top-level boxes fit in it. Walking these is a few thousand steps at
most, so checking an upload costs the web process almost nothing, whatever the image's size.
A walk that needs more than ``MAX_STEPS`` steps (a file built of tiny blocks) answers "cannot
tell", and the worker, which decodes the photo, decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PIL import Image

MAX_STEPS: Final = 100_000
# TIFF tags of where the image data lies: strips or tiles, and their byte counts.
_STRIP_OFFSETS, _STRIP_BYTES, _TILE_OFFSETS, _TILE_BYTES = 273, 279, 324, 325


def is_complete(image: Image.Image, data: bytes) -> bool | None:
    """True when ``data`` (opened as ``image``) reaches its end, False when it is cut short, None when
    its structure cannot tell (a compressed BMP, a file of too many blocks)."""
    check = _CHECKS.get(image.format or "")
    return check(image, data) if check else None


def cut_short(data: bytes) -> bool:
    """Whether ``data`` starts as a supported format does but stops before its structure ends
    (what a cut-off upload Pillow cannot even open looks like)."""
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        first_directory = int.from_bytes(data[4:8], "little" if data[:2] == b"II" else "big")
        return first_directory + 2 > len(data)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) < 13:
        return True
    for offset, signature, check in _SIGNATURES:
        if data[offset : offset + len(signature)] == signature:
            return check(None, data) is False
    return False


def png_exif(data: bytes) -> bytes | None:
    """The PNG's eXIf chunk (Pillow loads the whole image to find one after the pixel data)."""
    for kind, start, end in _png_chunks(data):
        if kind == b"eXIf":
            return data[start:end]
    return None


def _jpeg(image: Image.Image | None, data: bytes) -> bool | None:
    # Segments are walked to the first scan (skipping the EXIF thumbnail, a whole JPEG inside APP1);
    # entropy-coded data never holds 0xFFD9, so the first one after that scan ends the image.
    # Data after it (a motion photo's video, an MPO's second image) does not matter.
    position = 2
    for _ in range(MAX_STEPS):
        if position + 4 > len(data) or data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if marker == 0xDA:  # start of scan
            return data.find(b"\xff\xd9", position + 2 + length) != -1
        position += 2 + length
    return None


def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, data start, data end) of each chunk up to IEND; a last entry of type b"" marks a cut."""
    chunks: list[tuple[bytes, int, int]] = []
    position = 8
    for _ in range(MAX_STEPS):
        length = int.from_bytes(data[position : position + 4], "big")
        kind, end = data[position + 4 : position + 8], position + 12 + length
        if end > len(data):
            return [*chunks, (b"", 0, 0)]
        chunks.append((kind, position + 8, position + 8 + length))
        if kind == b"IEND":
            return chunks
        position = end
    return chunks


def _png(image: Image.Image | None, data: bytes) -> bool | None:
    chunks = _png_chunks(data)
    if chunks and chunks[-1][0] == b"IEND":
        return True
    return False if chunks and chunks[-1][0] == b"" else None


def _webp(image: Image.Image | None, data: bytes) -> bool | None:
    end = 8 + int.from_bytes(data[4:8], "little")
    if end > len(data):
        return False
    position = 12
    for _ in range(MAX_STEPS):
        if position + 8 > end:
            return True
        position += 8 + int.from_bytes(data[position + 4 : position + 8], "little")
        position += position % 2  # chunks are padded to an even size
        if position > end:
            return False
    return None


def _gif(image: Image.Image | None, data: bytes) -> bool | None:
    if len(data) < 13:  # shorter than the header and the logical screen descriptor
        return False
    position = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    for _ in range(MAX_STEPS):
        if position >= len(data):
            return False
        block = data[position]
        if block == 0x21:  # extension: label, then data sub-blocks
            position += 2
        elif block == 0x2C:  # image descriptor (+ local colour table), LZW code size, data sub-blocks
            flags = data[position + 9] if position + 9 < len(data) else 0
            position += 11 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        else:
            return False  # the trailer or garbage before the first image's data
        while position < len(data) and data[position]:  # sub-blocks until the zero-length one
            position += 1 + data[position]
        if position >= len(data):
            return False
        if block == 0x2C:
            return True
        position += 1
    return None


def _tiff(image: Image.Image | None, data: bytes) -> bool | None:
    tags = getattr(image, "tag_v2", None) or {}
    for offsets_tag, counts_tag in ((_STRIP_OFFSETS, _STRIP_BYTES), (_TILE_OFFSETS, _TILE_BYTES)):
        offsets, counts = tags.get(offsets_tag), tags.get(counts_tag)
        if offsets is not None and counts is not None:
            offsets = offsets if isinstance(offsets, tuple) else (offsets,)
            counts = counts if isinstance(counts, tuple) else (counts,)
            return max(o + c for o, c in zip(offsets, counts)) <= len(data)
    return None


def _bmp(image: Image.Image | None, data: bytes) -> bool | None:
    tile = image.tile[0] if image is not None and len(image.tile) == 1 else None
    if tile is None or tile.codec_name != "raw":
        return None  # run-length compressed: only decoding finds its end
    stride = tile.args[1] if isinstance(tile.args, tuple) and len(tile.args) > 1 else 0
    if not stride:
        return None
    return tile.offset + stride * image.size[1] <= len(data)


def _isobmff(image: Image.Image | None, data: bytes) -> bool | None:
    # HEIF and AVIF: a sequence of boxes (ftyp, meta, mdat...), each giving its own size.
    position = 0
    for _ in range(MAX_STEPS):
        if position == len(data):
            return True
        if position + 8 > len(data):
            return False
        size = int.from_bytes(data[position : position + 4], "big")
        if size == 1:
            size = int.from_bytes(data[position + 8 : position + 16], "big")
        elif size == 0:  # the last box runs to the end of the file
            return True
        if size < 8:
            return False
        position += size
        if position > len(data):
            return False
    return None


_Check = Callable[[Image.Image | None, bytes], "bool | None"]
# Where each container's signature lies, for files Pillow cannot open at all.
_SIGNATURES: Final[tuple[tuple[int, bytes, _Check], ...]] = (
    (0, b"\xff\xd8", _jpeg), (0, b"\x89PNG\r\n\x1a\n", _png), (8, b"WEBP", _webp), (0, b"GIF8", _gif),
    (4, b"ftyp", _isobmff),
)
_CHECKS: Final[dict[str, _Check]] = {
    "JPEG": _jpeg, "MPO": _jpeg, "PNG": _png, "WEBP": _webp, "GIF": _gif, "TIFF": _tiff, "BMP": _bmp,
    "HEIF": _isobmff, "AVIF": _isobmff,
}
