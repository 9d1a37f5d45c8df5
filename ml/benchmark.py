"""Seconds per training epoch: plain ``model.fit`` of the whole model vs training on cached features.

Both paths train the same freshly built plan model on the same images; the figures are extrapolated
to one epoch of FER2013's training share (90% of 28,709 images).
"""

import time
from dataclasses import dataclass

import keras
import numpy as np
from rich.console import Console
from rich.table import Table

from recognizer.emotions import EMOTIONS
from recognizer.preprocess import faces_to_input

from ml.augment import mirror
from ml.features import FrozenFeatures
from ml.fused_batchnorm import fused_batchnorm
from ml.model import build_model, compile_model
from ml.train import CachedViews

FER2013_EPOCH_IMAGES = int(28709 * 0.9)


@dataclass
class BenchmarkResult:
    """Per-image milliseconds of each path and their extrapolation to a FER2013 epoch."""

    images: int
    plain_ms: float
    cache_ms_per_view: float
    fast_ms: float

    def epoch_seconds(self, ms: float) -> float:
        """Seconds for one FER2013 epoch at ``ms`` per image."""
        return ms * FER2013_EPOCH_IMAGES / 1000


class _PlainBatches(keras.utils.PyDataset):
    """Whole-model batches made on the fly (preprocessing and random mirroring), as plain training does."""

    def __init__(self, faces: np.ndarray, targets: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.faces, self.targets, self.batch_size = faces, targets, batch_size
        self.rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return int(np.ceil(len(self.faces) / self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        faces = self.faces[part]
        flip = self.rng.random(len(faces)) < 0.5
        faces = np.where(flip[:, None, None], mirror(faces), faces)
        return faces_to_input(faces), self.targets[part]


def _timed_fit(model: keras.Model, data: keras.utils.PyDataset) -> float:
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - started


def run(faces: np.ndarray, labels: np.ndarray, weights: str | None, batch_size: int = 32) -> BenchmarkResult:
    """Time one epoch of each path on ``faces`` after a warm-up epoch on a few batches."""
    targets = keras.utils.to_categorical(labels, len(EMOTIONS))
    warm = slice(0, 2 * batch_size)

    plain = build_model(weights)
    _timed_fit(plain.model, _PlainBatches(faces[warm], targets[warm], batch_size))
    plain_seconds = _timed_fit(plain.model, _PlainBatches(faces, targets, batch_size))

    fast = build_model(weights)
    frozen = FrozenFeatures(fast.frozen_part())
    started = time.perf_counter()
    cached = frozen.compute(faces)[None]
    cache_seconds = time.perf_counter() - started
    frozen.close()
    top = fast.trainable_part()
    compile_model(top)
    with fused_batchnorm(top):
        _timed_fit(top, CachedViews(cached[:, warm], targets[warm], batch_size, 0))
        fast_seconds = _timed_fit(top, CachedViews(cached, targets, batch_size, 0))
    count = len(faces)
    return BenchmarkResult(count, plain_seconds / count * 1000, cache_seconds / count * 1000, fast_seconds / count * 1000)


def print_result(result: BenchmarkResult, views: int, epochs: int, console: Console | None = None) -> None:
    """Print both paths side by side, per image and per FER2013 epoch, and a whole-run estimate."""
    console = console or Console()
    table = Table(title=f"training speed on {result.images} FER2013 images (same run, same images)")
    for column in ("path", "ms / image", f"s / epoch ({FER2013_EPOCH_IMAGES} images)", f"{epochs} epochs, min"):
        table.add_column(column, justify="left" if column == "path" else "right")
    plain_epoch = result.epoch_seconds(result.plain_ms)
    fast_epoch = result.epoch_seconds(result.fast_ms)
    cache_once = result.epoch_seconds(result.cache_ms_per_view) * views
    table.add_row("plain model.fit (whole model)", f"{result.plain_ms:.2f}", f"{plain_epoch:.0f}", f"{plain_epoch * epochs / 60:.0f}")
    table.add_row(f"cached frozen part: one-off cache ({views} views)", f"{result.cache_ms_per_view * views:.2f}", "-", f"{cache_once / 60:.1f}")
    table.add_row("cached frozen part: per epoch (top only)", f"{result.fast_ms:.2f}", f"{fast_epoch:.0f}",
                  f"{(cache_once + fast_epoch * epochs) / 60:.0f} incl. cache")
    console.print(table)
    console.print(f"per-epoch speed-up: {result.plain_ms / result.fast_ms:.1f}x")
