"""Finding the model file to serve: the configured path, else the newest ``mobilenetv2_*`` in a folder.

The configured path comes from the app's configuration (``EMOTUNE_MODEL_PATH``, read in
``emotune/config.py``); this module never reads the environment.
"""

import re
from pathlib import Path
from typing import Final

# Preferred first: LiteRT serves several times faster than the Keras fallback.
SUFFIXES: Final = (".tflite", ".h5")
_RUN_NUMBER = re.compile(r"_(\d+)$")


def _newness(path: Path) -> tuple[int, float, str]:
    """Order by the trailing run number of ``mobilenetv2_<dataset>_<n>``, then by modification time.

    The number comes first because a fresh clone gives every file the same modification time.
    """
    match = _RUN_NUMBER.search(path.stem)
    return (int(match.group(1)) if match else -1, path.stat().st_mtime, path.name)


def find_default_model(models_dir: Path | str) -> Path | None:
    """The newest ``mobilenetv2_*.tflite`` in ``models_dir``, else the newest ``.h5``, else None."""
    directory = Path(models_dir)
    if not directory.is_dir():
        return None
    for suffix in SUFFIXES:
        candidates = [p for p in directory.glob(f"mobilenetv2_*{suffix}") if p.is_file()]
        if candidates:
            return max(candidates, key=_newness)
    return None


def resolve_model_path(models_dir: Path | str, configured: str | Path | None = None) -> Path | None:
    """``configured`` if given, else :func:`find_default_model` of ``models_dir``."""
    if configured:
        return Path(configured)
    return find_default_model(models_dir)
