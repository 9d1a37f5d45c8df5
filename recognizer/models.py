"""Which model file is served: the configured path, else the one a folder's ``SERVED`` pointer names.

``ml/models/SERVED`` is committed and holds one file name; changing what production serves is a
change to that file (``flask train-model --serve`` writes it). A folder without a pointer (a
folder of your own runs) serves its newest ``mobilenetv2_*``. The configured path comes from the
app's configuration (``EMOTUNE_MODEL_PATH``, read in ``emotune/config.py``); this module never
reads the environment.
"""

import re
from pathlib import Path
from typing import Final

# Preferred first: LiteRT serves several times faster than the Keras fallback.
SUFFIXES: Final = (".tflite", ".h5")
POINTER_NAME: Final = "SERVED"
_RUN_NUMBER = re.compile(r"_(\d+)$")


class PointerError(ValueError):
    """A ``SERVED`` pointer that does not hold one file name of its own folder."""


def _newness(path: Path) -> tuple[int, float, str]:
    """Order by the trailing run number of ``mobilenetv2_<dataset>_<n>``, then by modification time.

    The number comes first because a fresh clone gives every file the same modification time.
    """
    match = _RUN_NUMBER.search(path.stem)
    return (int(match.group(1)) if match else -1, path.stat().st_mtime, path.name)


def read_pointer(models_dir: Path | str) -> Path | None:
    """The model file ``models_dir/SERVED`` names (whether or not it exists), or None without a pointer."""
    pointer = Path(models_dir) / POINTER_NAME
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    if not name or Path(name).name != name:
        raise PointerError(f"{pointer} must hold one model file name from {pointer.parent}, not {name!r}")
    return pointer.parent / name


def write_pointer(model_path: Path | str) -> Path:
    """Make ``model_path`` the model its folder serves; returns the pointer's path."""
    model_path = Path(model_path)
    pointer = model_path.parent / POINTER_NAME
    pointer.write_text(model_path.name + "\n", encoding="utf-8")
    return pointer


def find_default_model(models_dir: Path | str) -> Path | None:
    """The model ``models_dir/SERVED`` names; without a pointer the newest ``mobilenetv2_*.tflite``,
    else the newest ``.h5``, else None."""
    directory = Path(models_dir)
    if not directory.is_dir():
        return None
    named = read_pointer(directory)
    if named is not None:
        return named
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
