"""Training batches drawn from the cached frozen-part features: one random view per image per epoch.

Two ways to serve the same draws: ``CachedViews`` gathers the whole epoch once, when the epoch
starts, into one contiguous array, and each batch is a slice of it; ``BatchGatherViews`` gathers
each batch's rows from the (views, images, ...) cache as it is asked for. Both draw the order and
the views from the same generator in the same order, so with the same seed they yield the same
batches (``tests/ml/test_views.py``); the epoch gather spends less time in Python per step, which
matters because the trainable top takes only a few milliseconds per image
(``flask benchmark-training`` compares them in one run).
"""

from collections.abc import Callable

import keras
import numpy as np

from ml import augment


class BatchGatherViews(keras.utils.PyDataset):
    """Batches of cached features, one random view per image, reshuffled each epoch, gathered per batch.

    Each map is also moved by up to ``feature_shift`` cells (see :func:`ml.augment.shift_feature_maps`).
    ``targets`` may be soft (a distillation's blend, ``ml.distill``); ``sample_weights`` (one per image)
    then carry the class weights, and batches are (maps, targets, weights). ``mixup_alpha`` > 0 mixes
    each batch's examples in pairs (:func:`ml.augment.mixup`) with a generator of its own, so both
    paths mix alike.
    """

    def __init__(self, features: np.ndarray, targets: np.ndarray, batch_size: int, seed: int,
                 feature_shift: int = 0, sample_weights: np.ndarray | None = None, mixup_alpha: float = 0.0) -> None:
        super().__init__()
        self.features, self.targets, self.batch_size = features, targets, batch_size
        self.sample_weights = sample_weights
        self.feature_shift = feature_shift
        self.mixup_alpha = mixup_alpha
        self.rng = np.random.default_rng(seed)
        self.mix_rng = np.random.default_rng([seed, 1])
        self.on_epoch_end()

    def __len__(self) -> int:
        return int(np.ceil(self.features.shape[1] / self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        maps = augment.shift_feature_maps(self.features[self.view[rows], rows], self.rng, self.feature_shift)
        return self._batch(maps.astype(np.float32), rows)

    def _batch(self, maps: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        weights = None if self.sample_weights is None else self.sample_weights[rows]
        maps, targets, weights = augment.mixup(maps, self.targets[rows], weights, self.mix_rng, self.mixup_alpha)
        return (maps, targets) if weights is None else (maps, targets, weights)

    def on_epoch_end(self) -> None:
        count = self.features.shape[1]
        self.order = self.rng.permutation(count)
        self.view = self.rng.integers(0, self.features.shape[0], size=count)


class CachedViews(BatchGatherViews):
    """The same draws as :class:`BatchGatherViews`, gathered (and shifted) for the whole epoch at once.

    The epoch's maps stay float16 (half the memory of the float32 batches the model takes); each
    batch is a contiguous slice converted on the way out.
    """

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self._batch(self.epoch_maps[part].astype(np.float32), self.order[part])

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        rows = self.order
        self.epoch_maps = self.features[self.view[rows], rows]
        if self.feature_shift:
            self.epoch_maps = augment.shift_feature_maps(self.epoch_maps, self.rng, self.feature_shift)


class RotatingViews(CachedViews):
    """:class:`CachedViews` whose random views are partly drawn afresh at the end of every epoch.

    A cache of a few views per face is cheap but fixed: every epoch sees the same rotations, shifts
    and corruptions. Here, each time Keras ends an epoch (``fit`` also signals one end before the
    first epoch, when it resets its iterator), ``share`` of the faces get a new random view (a new
    affine, degraded with its probability) in every random slot (views ``first_random`` onwards),
    computed through the frozen part and written into the cache in place; the clean face and its
    mirror (views 0 and 1) stay. ``redraw`` makes the new views of (N, 48, 48) faces with the
    generator it is given; ``frozen`` turns faces into features. Over E epochs a face sees about
    ``E * share`` fresh views per slot for ``share`` of one caching pass's cost per epoch.
    """

    def __init__(self, features: np.ndarray, targets: np.ndarray, batch_size: int, seed: int, *,
                 faces: np.ndarray, share: float, redraw: Callable[[np.ndarray, np.random.Generator], np.ndarray],
                 frozen: Callable[[np.ndarray], np.ndarray], first_random: int = 2, feature_shift: int = 0,
                 sample_weights: np.ndarray | None = None, mixup_alpha: float = 0.0) -> None:
        if not 0.0 < share <= 1.0:
            raise ValueError(f"share must lie in (0, 1], not {share}")
        if features.shape[0] <= first_random:
            raise ValueError(f"a rotating cache needs random views beyond the first {first_random}; "
                             f"the cache holds {features.shape[0]} per face")
        self.faces, self.share, self.redraw, self.frozen = faces, share, redraw, frozen
        self.first_random = first_random
        self.redrawn = 0
        self._started = False
        super().__init__(features, targets, batch_size, seed, feature_shift, sample_weights, mixup_alpha)
        self._started = True

    def on_epoch_end(self) -> None:
        if self._started:
            self.redraw_views()
        super().on_epoch_end()

    def redraw_views(self) -> None:
        """Replace ``share`` of the faces' random views with fresh ones (features computed now)."""
        count = self.features.shape[1]
        rows = np.sort(self.rng.choice(count, size=max(1, int(round(self.share * count))), replace=False))
        for slot in range(self.first_random, self.features.shape[0]):
            self.features[slot, rows] = self.frozen(self.redraw(self.faces[rows], self.rng))
        self.redrawn += len(rows) * (self.features.shape[0] - self.first_random)
