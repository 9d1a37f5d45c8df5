"""A new model against the one its folder serves, and making it the served one (``--serve``).

Training never changes what is served on its own: it prints how the new model compares with the
served one on validation (the split models are chosen on), and only ``flask train-model --serve``
rewrites the folder's ``SERVED`` pointer (``recognizer.models``).
"""

from pathlib import Path
from typing import Any

from recognizer.errors import ModelError
from recognizer.metadata import read_metadata
from recognizer.models import read_pointer, write_pointer

# What is compared, in this order: (metrics key, figure, how it is printed).
FIGURES = (("validation", "accuracy", "validation accuracy"), ("test", "accuracy", "test accuracy"),
           ("test", "macro_f1", "test macro-F1"), ("test", "ece", "test ECE"))


def _figure(meta: dict[str, Any], split: str, key: str) -> float | None:
    value = (meta.get("metrics") or {}).get(split, {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _split(meta: dict[str, Any]) -> tuple[Any, ...]:
    """What decides a model's validation split: its training data, seed and held-out share."""
    params = meta.get("hyperparameters") or {}
    return ((meta.get("dataset") or {}).get("fingerprint_train"), params.get("seed"), params.get("val_fraction"),
            params.get("limit_per_class"))


def compare_with_served(model_path: Path) -> list[str]:
    """Lines saying how ``model_path`` compares with the model its folder serves."""
    new = read_metadata(model_path)
    try:
        served_path = read_pointer(model_path.parent)
        served = read_metadata(served_path) if served_path is not None else None
    except (ModelError, ValueError) as exc:
        return [f"The served model could not be read ({exc}); nothing to compare {model_path.name} with."]
    if served_path is None or served is None:
        return [f"No model is served from {model_path.parent} yet (no SERVED pointer there)."]
    lines = [f"{model_path.stem} against the served {served_path.stem}:"]
    for split, key, words in FIGURES:
        mine, theirs = _figure(new, split, key), _figure(served, split, key)
        if mine is not None and theirs is not None:
            lines.append(f"  {words:<20} {mine:.4f} vs {theirs:.4f} ({mine - theirs:+.4f})")
    if _split(new) != _split(served):
        lines.append("  (their validation splits differ: other data, --seed or --val-fraction; compare with care)")
    return lines


def serve(model_path: Path) -> Path:
    """Make ``model_path`` the model its folder serves; returns the pointer written."""
    read_metadata(model_path)  # never point at a model whose metadata the recognizer would refuse
    return write_pointer(model_path)
