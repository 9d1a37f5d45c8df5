"""Mutated image files against the upload check (web) and the decoder (worker): only ImageRejected.

Hypothesis mutates small real files of each supported format (bytes flipped, overwritten with
boundary values, inserted, deleted, duplicated, the file cut short) and hands them to
``check_upload`` and to ``decode_image`` as the worker calls it. Whatever the bytes, each call
returns or raises ``ImageRejected`` (a 4xx or a failed analysis saying what to do), within a time
bound and a peak-memory bound (the resident-set peak is reset before each call through
/proc/self/clear_refs and read back from VmHWM). A format is one entry in ``SEEDS``.
``EMOTUNE_FUZZ_EXAMPLES`` scales the examples (``make fuzz`` runs many more, with fresh randomness).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import recognizer.images  # noqa: F401  (registers the HEIF opener and saver with Pillow)
from recognizer.errors import ImageRejected
from recognizer.images import WORK_SIDE, check_upload, decode_image
from tests.prerequisites import missing
from tests.recognizer.photos import encode, photo

EXAMPLES = int(os.environ.get("EMOTUNE_FUZZ_EXAMPLES", "25")) * 8
# The default run is the same every time (CI); a longer run set through the environment explores.
DERANDOMIZE = "EMOTUNE_FUZZ_EXAMPLES" not in os.environ
# Seconds one call may take on a loaded CI machine, and MB its peak may rise above the resident set.
# The seeds are small; a header that claims a large image is refused before its pixels exist.
SECONDS = {"check_upload": 2.0, "decode_image": 5.0}
PEAK_MB = {"check_upload": 64, "decode_image": 300}
# Byte values that break length and size fields.
BOUNDARY_BYTES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff", b"\x00\x00", b"\x7f\xff\xff\xff", b"\xff\xd9",
                  b"IEND", b"\x00\x00\x00\x00"]


def base_photo(mode: str = "RGB") -> Image.Image:
    """A 96x72 textured photo (no face needed: the decoder, not the model, is under test)."""
    return photo([], size=(96, 72)).convert(mode)


def exif_rotated() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    return exif


# One entry per format: how to make a small, valid file of it.
SEEDS: dict[str, Callable[[], bytes]] = {
    "JPEG": lambda: encode(base_photo(), "JPEG", quality=85, exif=exif_rotated()),
    "JPEG progressive": lambda: encode(base_photo(), "JPEG", quality=70, progressive=True),
    "PNG": lambda: encode(base_photo("RGBA"), "PNG"),
    "PNG palette": lambda: encode(base_photo().convert("P"), "PNG"),
    "WEBP": lambda: encode(base_photo(), "WEBP", quality=80),
    "WEBP lossless": lambda: encode(base_photo("RGBA"), "WEBP", lossless=True),
    "TIFF": lambda: encode(base_photo(), "TIFF", compression="tiff_lzw"),
    "TIFF 16-bit gray": lambda: encode(base_photo("L").convert("I;16"), "TIFF"),
    "GIF": lambda: encode(base_photo().convert("P"), "GIF"),
    "HEIF": lambda: encode(base_photo(), "HEIF", quality=80),
    "AVIF": lambda: encode(base_photo(), "AVIF", quality=70),
}


def mutations(size: int) -> st.SearchStrategy[list[tuple[str, int, Any]]]:
    """Lists of (kind, position, argument) edits for a file of ``size`` bytes."""
    # Half the edits land in the first 64 bytes, where the headers hold sizes, lengths and offsets.
    position = st.integers(0, min(size - 1, 63)) | st.integers(0, max(size - 1, 0))
    edit = st.one_of(
        st.tuples(st.just("flip"), position, st.integers(1, 255)),
        st.tuples(st.just("overwrite"), position, st.sampled_from(BOUNDARY_BYTES) | st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=64)),
        st.tuples(st.just("delete"), position, st.integers(1, 64)),
        st.tuples(st.just("duplicate"), position, st.integers(1, 256)),
        st.tuples(st.just("truncate"), position, st.none()),
    )
    return st.lists(edit, min_size=1, max_size=6)


def mutate(data: bytes, edits: list[tuple[str, int, Any]]) -> bytes:
    """Apply the edits in order (positions wrap around the current length)."""
    out = bytearray(data)
    for kind, where, argument in edits:
        at = where % max(len(out), 1)
        if kind == "flip" and out:
            out[at] ^= argument
        elif kind == "overwrite":
            out[at:at + len(argument)] = argument
        elif kind == "insert":
            out[at:at] = argument
        elif kind == "delete":
            del out[at:at + argument]
        elif kind == "duplicate":
            out[at:at] = out[at:at + argument]
        elif kind == "truncate":
            del out[at:]
    return bytes(out)


def status_mb(key: str) -> float:
    """A /proc/self/status figure (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


CALLS: dict[str, Callable[[bytes], object]] = {
    "check_upload": check_upload,
    "decode_image": lambda data: decode_image(data, work_side=WORK_SIDE),
}


def bounded_call(name: str, data: bytes) -> None:
    """Call ``name`` on ``data``: returns or raises ImageRejected, within its time and peak-memory bounds."""
    Path("/proc/self/clear_refs").write_text("5")  # peak resident set := current
    start_mb, started = status_mb("VmRSS"), time.perf_counter()
    try:
        CALLS[name](data)
    except ImageRejected:
        pass
    elapsed, peak = time.perf_counter() - started, status_mb("VmHWM") - start_mb
    assert elapsed < SECONDS[name], f"{name} took {elapsed:.2f} s on {len(data)} bytes"
    assert peak < PEAK_MB[name], f"{name} peaked {peak:.0f} MB above its start on {len(data)} bytes"


@pytest.fixture(scope="module", autouse=True)
def peak_memory_readable() -> None:
    if not Path("/proc/self/clear_refs").exists():
        missing("Linux /proc/self/clear_refs (to bound a decode's peak memory)")


# Pillow warns about the corrupt metadata the mutations make; what it does next is under test.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_mutated_files_are_only_ever_rejected(seed: str, name: str) -> None:
    original = SEEDS[seed]()
    # The seed itself is accepted: the mutations start from a file that works.
    CALLS[name](original)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
              suppress_health_check=[HealthCheck.too_slow])
    @given(edits=mutations(len(original)))
    def run(edits: list[tuple[str, int, Any]]) -> None:
        bounded_call(name, mutate(original, edits))

    run()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_every_cut_of_a_file_is_only_ever_rejected(seed: str) -> None:
    # Every short prefix (where headers are read) and a spread of longer ones: an upload cut off anywhere.
    original = SEEDS[seed]()
    for length in sorted({*range(0, min(len(original), 96)), *range(96, len(original), 97)}):
        for name in CALLS:
            bounded_call(name, original[:length])


def test_every_seed_is_the_format_it_names() -> None:
    for name, make in SEEDS.items():
        assert Image.open(io.BytesIO(make())).format == name.split()[0], name
