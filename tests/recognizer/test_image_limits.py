"""Bounded cost per upload: the pixel cap keeps one decode under 300 MB, odd shapes and cut-off data are refused.

The memory figures are measured in a fresh subprocess per image (Linux: the peak resident size is
reset with /proc/self/clear_refs after imports, then read from VmHWM), on the largest image each
worst-case format may have. ``python -m tests.recognizer.test_image_limits`` prints them.
"""

from __future__ import annotations

import io
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from recognizer.errors import ImageRejected
from recognizer.images import (
    MAX_ASPECT_RATIO,
    MAX_PIXELS,
    MAX_PIXELS_BY_FORMAT,
    REDUCE_HARD_PIXELS,
    check_upload,
    decode_image,
    release_memory,
)
from tests.prerequisites import REPO_ROOT, missing

PEAK_BOUND_MB = 300

MEASURE = r"""
import sys
from recognizer.images import WORK_SIDE, decode_image

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")  # peak RSS := current RSS
start = status("VmRSS")
decoded = decode_image(data, work_side=WORK_SIDE)  # what the worker does with an upload
size = decoded.upright_size
del decoded
print(f"{status('VmHWM') - start:.0f} {status('VmRSS') - start:.0f} {size[0]}x{size[1]}")
"""


def largest(fmt: str, mode: str, pixels: int | None = None, **params: object) -> bytes:
    """A flat image of ``mode`` with as many pixels as ``fmt`` may have (the cap is what matters)."""
    side = math.isqrt(pixels or MAX_PIXELS_BY_FORMAT.get(fmt, MAX_PIXELS))
    fill = {"RGBA": (120, 130, 140, 128), "RGB": (120, 130, 140)}[mode]
    out = io.BytesIO()
    Image.new(mode, (side, side), fill).save(out, fmt, **params)
    return out.getvalue()


def measure(data: bytes, tmp_path: Path) -> tuple[float, float, str]:
    """(peak MB above the start, MB still held after, size) of the worker's decode in a fresh process."""
    if not Path("/proc/self/clear_refs").exists():
        missing("Linux /proc/self/clear_refs (to measure a decode's peak memory)")
    path = tmp_path / "image"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    peak, held, size = done.stdout.split()
    return float(peak), float(held), size


# The worst cases: RGBA PNG (4 bytes a pixel once loaded), progressive JPEG (libjpeg keeps every
# coefficient of the whole image), WebP (three copies of the frame), HEIC and AVIF.
WORST_CASES = {
    "png_rgba": ("PNG", "RGBA", {}),
    "jpeg_progressive": ("JPEG", "RGB", {"quality": 80, "progressive": True}),
    "webp_rgba": ("WEBP", "RGBA", {"lossless": True}),
    # The phone formats: libheif and libavif keep their own planes and copies of the frame.
    "heif_rgba": ("HEIF", "RGBA", {"enc_params": {"preset": "ultrafast"}}),
    "avif_rgba": ("AVIF", "RGBA", {"speed": 10}),
    # Just under the size above which images are reduced by a whole factor: converted whole.
    "png_rgba_16mp": ("PNG", "RGBA", {"pixels": REDUCE_HARD_PIXELS}),
}


@pytest.mark.parametrize("case", list(WORST_CASES))
def test_largest_accepted_image_decodes_under_300_mb_and_gives_it_back(case: str, tmp_path: Path) -> None:
    fmt, mode, params = WORST_CASES[case]
    peak, held, size = measure(largest(fmt, mode, **params), tmp_path)
    print(f"{case} {size}: peak {peak:.0f} MB, held after {held:.0f} MB")
    assert peak <= PEAK_BOUND_MB, f"{case}: peak {peak:.0f} MB"
    # malloc_trim hands the decode's memory back: the process does not stay large.
    assert held <= 40, f"{case}: still holds {held:.0f} MB"


def test_one_pixel_over_the_cap_is_refused_from_the_header() -> None:
    side = math.isqrt(MAX_PIXELS) + 1
    out = io.BytesIO()
    Image.new("L", (side, side)).save(out, "PNG")
    with pytest.raises(ImageRejected) as info:
        check_upload(out.getvalue())
    assert info.value.code == "image_too_large" and "64 million" in info.value.message


@pytest.mark.parametrize("size", [(48, 60000), (3000, 700)])
def test_strips_are_refused_with_their_real_size(size: tuple[int, int]) -> None:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 90, 90)).save(out, "PNG")
    with pytest.raises(ImageRejected) as info:
        check_upload(out.getvalue())
    assert info.value.code == "image_too_narrow"
    assert f"{size[0]}x{size[1]}" in info.value.message
    assert max(size) / min(size) > MAX_ASPECT_RATIO


def test_a_jpeg_header_claiming_more_pixels_than_its_data_holds_is_truncated() -> None:
    # A real small JPEG whose frame header is edited to claim 9000x9000: it ends properly (EOI) and
    # libjpeg would fill the rest with grey; its 1.5 KB cannot hold 81 million pixels.
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 48, 3), dtype=np.uint8)).save(out, "JPEG")
    data = bytearray(out.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 7000, 7000)
    with pytest.raises(ImageRejected) as info:
        check_upload(bytes(data))
    assert info.value.code == "truncated_image" and "7000x7000" in info.value.message


def test_a_large_rotated_image_keeps_its_orientation_through_the_early_shrink() -> None:
    # 4000x1200 stored, EXIF orientation 6 (rotate 90): upright it is 1200x4000, portrait.
    image = Image.new("RGB", (4000, 1200), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 400, 1200))  # a blue band on the stored left edge
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "PNG", exif=exif.tobytes())
    decoded = decode_image(out.getvalue(), work_side=640)
    assert decoded.upright_size == (1200, 4000)
    height, width, _ = decoded.pixels.shape
    assert height > width and max(height, width) <= 640
    # Rotated 90 degrees clockwise: the stored left edge is now the top.
    assert decoded.pixels[2, width // 2, 2] > 150 and decoded.pixels[-3, width // 2, 0] > 150


def test_release_memory_is_available_on_glibc() -> None:
    assert release_memory() in (True, False)
    if sys.platform.startswith("linux"):
        assert release_memory() is True


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, (fmt, mode, params) in WORST_CASES.items():
            peak_mb, held_mb, pixels = measure(largest(fmt, mode, **params), Path(tmp))
            print(f"{name:<18} {pixels:>11}: peak {peak_mb:4.0f} MB above the process's start, {held_mb:3.0f} MB held after")
