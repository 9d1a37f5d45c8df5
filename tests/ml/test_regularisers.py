"""The cheap regularisers of the training run: label smoothing and a moving average of the weights (EMA)."""

import keras
import numpy as np
import pytest

from ml import callbacks
from ml.model import compile_model


def _small_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(7, activation="softmax")])


def _data(n: int = 128) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, keras.utils.to_categorical((x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0), 7)


def test_label_smoothing_moves_that_share_of_the_target_to_uniform() -> None:
    model = _small_model()
    compile_model(model, label_smoothing=0.2)
    x, y = _data(16)
    p = np.clip(model.predict(x, verbose=0), 1e-7, 1)
    smoothed = y * 0.8 + 0.2 / 7
    expected = float(np.mean(-(smoothed * np.log(p)).sum(axis=1)))
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] == pytest.approx(expected, rel=1e-4)


def test_without_label_smoothing_the_loss_is_the_plans() -> None:
    model = _small_model()
    compile_model(model)
    assert model.loss == "categorical_crossentropy"
    assert not model.optimizer.use_ema


class _RawWeights(keras.callbacks.Callback):
    """The weights the optimiser leaves after each step (EMA swaps happen only around epochs and tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[list[np.ndarray]] = []
        self.epoch_ends: list[int] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps.append([w.numpy().copy() for w in self.model.trainable_weights])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_ends.append(len(self.steps))


def test_ema_run_keeps_the_moving_average_of_its_best_epoch(tmp_path) -> None:
    momentum = 0.9
    model = _small_model()
    compile_model(model, learning_rate=0.05, ema_momentum=momentum)
    x, y = _data()
    raw = _RawWeights()
    # The recorder comes first so it sees each epoch's raw weights before the average is swapped in.
    history = model.fit(x, y, validation_data=(x[:64], y[:64]), epochs=4, batch_size=16, verbose=0, shuffle=False,
                        callbacks=[raw, *callbacks.plan_callbacks(str(tmp_path / "h.csv"), ema=True)])
    average = [w.copy() for w in raw.steps[0]]  # Keras's average starts at the first step's weights
    averages = []
    for step in raw.steps[1:]:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, step)]
        averages.append(average)
    best = int(np.argmax(history.history["val_accuracy"]))
    expected = averages[raw.epoch_ends[best] - 2]
    for kept, want, last_raw in zip(model.trainable_weights, expected, raw.steps[raw.epoch_ends[best] - 1]):
        np.testing.assert_allclose(kept.numpy(), want, rtol=1e-4, atol=1e-5)
        assert not np.allclose(kept.numpy(), last_raw, atol=1e-4), "the raw weights were kept, not their average"


def test_ema_validation_scores_the_average(tmp_path) -> None:
    x, y = _data()
    runs = {}
    for ema in (0.0, 0.95):
        model = _small_model()
        compile_model(model, learning_rate=0.05, ema_momentum=ema)
        history = model.fit(x, y, validation_data=(x, y), epochs=2, batch_size=16, verbose=0, shuffle=False,
                            callbacks=callbacks.plan_callbacks(str(tmp_path / f"{ema}.csv"), ema=ema > 0))
        runs[ema] = history.history["val_loss"]
    # Same raw trajectory (same seed, order and data), so a different validation loss means another set of weights.
    assert runs[0.0] != pytest.approx(runs[0.95], rel=1e-3)


def test_callbacks_put_the_average_between_backup_and_early_stopping(tmp_path) -> None:
    backup, average, early, *_ = callbacks.plan_callbacks(str(tmp_path / "h.csv"), tmp_path / "backup", ema=True)
    assert isinstance(backup, keras.callbacks.BackupAndRestore)
    assert isinstance(average, keras.callbacks.SwapEMAWeights) and average.swap_on_epoch
    assert isinstance(early, keras.callbacks.EarlyStopping)
