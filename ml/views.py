"""Training batches drawn from the cached frozen-part features: one random view per image per epoch.

Two ways to serve the same draws: ``CachedViews`` gathers the whole epoch once, when the epoch
starts, into one contiguous array, and each batch is a slice of it; ``BatchGatherViews`` gathers
each batch's rows from the (views, images, ...) cache as it is asked for. Both draw the order and
the views from the same generator in the same order, so with the same seed they yield the same
batches (``tests/ml/test_views.py``); the epoch gather spends less time in Python per step, which
matters because the trainable top takes only a few milliseconds per image
(``flask benchmark-training`` compares them in one run).
"""

import keras
import numpy as np

from ml import augment


class BatchGatherViews(keras.utils.PyDataset):
    """Batches of cached features, one random view per image, reshuffled each epoch, gathered per batch.

    Each map is also moved by up to ``feature_shift`` cells (see :func:`ml.augment.shift_feature_maps`).
    """

    def __init__(self, features: np.ndarray, targets: np.ndarray, batch_size: int, seed: int,
                 feature_shift: int = 0) -> None:
        super().__init__()
        self.features, self.targets, self.batch_size = features, targets, batch_size
        self.feature_shift = feature_shift
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return int(np.ceil(self.features.shape[1] / self.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        maps = augment.shift_feature_maps(self.features[self.view[rows], rows], self.rng, self.feature_shift)
        return maps.astype(np.float32), self.targets[rows]

    def on_epoch_end(self) -> None:
        count = self.features.shape[1]
        self.order = self.rng.permutation(count)
        self.view = self.rng.integers(0, self.features.shape[0], size=count)


class CachedViews(BatchGatherViews):
    """The same draws as :class:`BatchGatherViews`, gathered (and shifted) for the whole epoch at once.

    The epoch's maps stay float16 (half the memory of the float32 batches the model takes); each
    batch is a contiguous slice converted on the way out.
    """

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.epoch_maps[part].astype(np.float32), self.epoch_targets[part]

    def on_epoch_end(self) -> None:
        super().on_epoch_end()
        rows = self.order
        self.epoch_maps = self.features[self.view[rows], rows]
        if self.feature_shift:
            self.epoch_maps = augment.shift_feature_maps(self.epoch_maps, self.rng, self.feature_shift)
        self.epoch_targets = self.targets[rows]
