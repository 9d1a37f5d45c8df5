"""Seconds per training epoch of each training path, and how close each comes to this CPU's limit.

All paths train a freshly built plan model on the same images in one run:

- ``whole model``: plain ``model.fit`` of the whole network on preprocessed images;
- ``cached, per-batch gather``: the trainable top on cached frozen-part features, each batch gathered
  from the cache as Keras asks for it, one step per TensorFlow call;
- ``cached, epoch gather``: the path ``flask train-model`` uses: the epoch gathered once
  (:class:`ml.views.CachedViews`) and ``STEPS_PER_EXECUTION`` steps per call;
- the same with ``MANY_STEPS`` steps per call (fewer round trips through Python).

The CPU's limit is the top's multiply-adds per image (forward, and twice that backward) at the
matrix throughput TensorFlow reaches on this machine, measured in the same run. Figures are
extrapolated to one epoch of FER2013's training share (90% of 28,709 images).
"""

import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from rich.table import Table

from recognizer.emotions import EMOTIONS
from recognizer.preprocess import faces_to_input

from ml.augment import mirror
from ml.features import FrozenFeatures
from ml.fused_batchnorm import fused_batchnorm
from ml.model import build_model, compile_model
from ml.heads import STEPS_PER_EXECUTION
from ml.views import BatchGatherViews, CachedViews

FER2013_EPOCH_IMAGES = int(28709 * 0.9)
# Backward costs about twice the forward pass (gradients for the inputs and for the weights).
TRAIN_MACS_PER_FORWARD = 3
ROUNDS = 3
MANY_STEPS = 16


@dataclass
class BenchmarkResult:
    """Per-image milliseconds of each path (medians over interleaved rounds) and the CPU's limit."""

    images: int
    plain_ms: float
    cache_ms_per_view: float
    batch_gather_ms: float
    epoch_gather_ms: float
    many_steps_ms: float
    top_macs: int
    matmul_gflops: float

    @property
    def limit_ms(self) -> float:
        """Per-image training time of the top at the measured matrix throughput (multiply-adds)."""
        return TRAIN_MACS_PER_FORWARD * self.top_macs / (self.matmul_gflops * 1e9) * 1000

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


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one forward pass of ``model`` for one image (convolutions and dense layers)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            _, h, w, c = layer.output.shape
            total += h * w * c * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            total += h * w * c_out * int(np.prod(layer.kernel_size)) * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)


def matmul_gflops(size: int = 1024, repeats: int = 20) -> float:
    """Billions of float32 multiply-adds per second TensorFlow's matrix multiply reaches here (best of 3)."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    tf.linalg.matmul(a, b).numpy()
    best = np.inf
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeats):
            c = tf.linalg.matmul(a, b)
        c.numpy()
        best = min(best, time.perf_counter() - started)
    return size ** 3 * repeats / best / 1e9


def _timed_fit(model: keras.Model, data: keras.utils.PyDataset) -> float:
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    return time.perf_counter() - started


def _top(weights: str | None, steps_per_execution: int) -> keras.Model:
    top = build_model(weights).trainable_part()
    compile_model(top, steps_per_execution=steps_per_execution)
    return top


def run(faces: np.ndarray, labels: np.ndarray, weights: str | None, batch_size: int = 32,
        whole_model: bool = True) -> BenchmarkResult:
    """Time one epoch of each path on ``faces``, interleaved over rounds after a warm-up epoch."""
    targets = keras.utils.to_categorical(labels, len(EMOTIONS))
    warm = slice(0, 4 * batch_size)
    count = len(faces)

    plan = build_model(weights)
    frozen = FrozenFeatures(plan.frozen_part())
    started = time.perf_counter()
    cached = frozen.compute(faces)[None]
    cache_seconds = time.perf_counter() - started
    frozen.close()
    top_macs = multiply_adds(plan.trainable_part())

    gather, epoch, many = _top(weights, 1), _top(weights, STEPS_PER_EXECUTION), _top(weights, MANY_STEPS)
    paths = {"batch": (gather, BatchGatherViews), "epoch": (epoch, CachedViews), "many": (many, CachedViews)}
    times: dict[str, list[float]] = {"plain": [], "batch": [], "epoch": [], "many": []}
    with fused_batchnorm(gather), fused_batchnorm(epoch), fused_batchnorm(many):
        for model, views in paths.values():
            _timed_fit(model, views(cached[:, warm], targets[warm], batch_size, 0))
        for round_ in range(ROUNDS):
            for name, (model, views) in paths.items():
                times[name].append(_timed_fit(model, views(cached, targets, batch_size, round_)))
    if whole_model:
        _timed_fit(plan.model, _PlainBatches(faces[warm], targets[warm], batch_size))
        times["plain"].append(_timed_fit(plan.model, _PlainBatches(faces, targets, batch_size)))
    per_image = {name: float(np.median(values)) / count * 1000 if values else float("nan")
                 for name, values in times.items()}
    return BenchmarkResult(count, per_image["plain"], cache_seconds / count * 1000, per_image["batch"],
                           per_image["epoch"], per_image["many"], top_macs, matmul_gflops())


def print_result(result: BenchmarkResult, views: int, epochs: int, console: Console | None = None) -> None:
    """Print the paths side by side, per image and per FER2013 epoch, with the share of the CPU's limit."""
    console = console or Console()
    table = Table(title=f"training speed on {result.images} FER2013 images (same run, same images; "
                        f"medians of {ROUNDS} interleaved rounds)")
    for column in ("path", "ms / image", f"s / epoch ({FER2013_EPOCH_IMAGES} images)", f"{epochs} epochs, min",
                   "share of CPU limit"):
        table.add_column(column, justify="left" if column == "path" else "right")
    cache_once = result.epoch_seconds(result.cache_ms_per_view) * views
    if not np.isnan(result.plain_ms):
        plain_epoch = result.epoch_seconds(result.plain_ms)
        table.add_row("whole model, plain model.fit", f"{result.plain_ms:.2f}", f"{plain_epoch:.0f}",
                      f"{plain_epoch * epochs / 60:.0f}", "-")
    table.add_row(f"cached frozen part: one-off cache ({views} views)", f"{result.cache_ms_per_view * views:.2f}", "-",
                  f"{cache_once / 60:.1f}", "-")
    for label, ms in (("cached, per-batch gather, 1 step per call", result.batch_gather_ms),
                      (f"cached, epoch gather, {STEPS_PER_EXECUTION} step(s) per call (train-model)", result.epoch_gather_ms),
                      (f"cached, epoch gather, {MANY_STEPS} steps per call", result.many_steps_ms)):
        epoch = result.epoch_seconds(ms)
        table.add_row(label, f"{ms:.2f}", f"{epoch:.0f}", f"{(cache_once + epoch * epochs) / 60:.0f} incl. cache",
                      f"{result.limit_ms / ms:.0%}")
    console.print(table)
    console.print(f"CPU limit: {result.top_macs / 1e6:.0f} M multiply-adds forward per image x{TRAIN_MACS_PER_FORWARD} "
                  f"for training, at {result.matmul_gflops:.0f} G multiply-adds/s (TensorFlow float32 matmul, "
                  f"measured now) = {result.limit_ms:.2f} ms per image, {result.epoch_seconds(result.limit_ms):.0f} s "
                  "per epoch")
    console.print(f"epoch gather vs per-batch gather: {result.batch_gather_ms / result.epoch_gather_ms:.2f}x")
