"""What the tests need from outside the repository, and one rule for when it is missing.

Locally a missing prerequisite skips the tests that need it, naming it; under CI (``CI=true``)
it fails them instead, so a broken CI machine can never look green. The paths can be moved with
``EMOTUNE_TEST_DATA_DIR`` and ``EMOTUNE_CHROMIUM`` (the test of this rule uses that).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("EMOTUNE_TEST_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
FER2013 = SHARED_DATA / "fer2013"
IMAGENET_WEIGHTS = SHARED_DATA / "imagenet" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
CHROMIUM = Path(os.environ.get("EMOTUNE_CHROMIUM", "/usr/bin/chromium"))


def under_ci() -> bool:
    """Whether this run is CI's (``CI=true``), where nothing may be skipped for a missing piece."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def missing(what: str) -> NoReturn:
    """Skip (locally) or fail (under CI) the current test because ``what`` is missing."""
    message = f"missing prerequisite: {what}"
    if under_ci():
        pytest.fail(message + " (CI=true: tests fail rather than skip)", pytrace=False)
    pytest.skip(message)


def require_path(path: Path, what: str) -> Path:
    """``path`` if it exists, else ``missing`` naming it and what provides it."""
    if not path.exists():
        missing(f"{what} at {path}")
    return path


def require_fer2013() -> Path:
    """The shared FER2013 folder (train/ and test/, a folder per class)."""
    return require_path(FER2013 / "test" / "happy", "FER2013 in ../shared/data (see README)").parents[1]
