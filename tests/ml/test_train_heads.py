"""Heads trained on cached features: the plan's fit of one head, and a finished head kept for a resumed run."""

from dataclasses import replace
from pathlib import Path

import keras
import numpy as np

from ml.features import FeatureCache
from ml.model import build_model
from ml.heads import train_head
from ml.train import CachedViews, TrainConfig, run_key


def _data(plan, count: int = 16) -> tuple[CachedViews, tuple[np.ndarray, np.ndarray]]:
    shape = tuple(plan.boundary_layer.output.shape[1:])
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1, count, *shape)).astype(np.float16)
    targets = keras.utils.to_categorical(np.arange(count) % 7, 7)
    validation = (features[0, :7].astype(np.float32), targets[:7])
    return CachedViews(features, targets, 8, seed=1), validation


def test_a_finished_head_is_taken_from_the_cache_instead_of_trained_again(tmp_path: Path) -> None:
    cache = FeatureCache.for_run(tmp_path / "cache", {"test": 1})
    config = TrainConfig(data_dir=tmp_path, epochs=1, heads=2)
    weights = dict(enumerate([1.0] * 7))
    first = build_model(weights=None)
    data, validation = _data(first)
    done = train_head(first, config, data, validation, weights, tmp_path / "h.csv", cache, "m_head1")
    assert done.checkpoint is not None and done.checkpoint.is_file() and done.epochs_run == 1

    again = build_model(weights=None)  # another random initialisation
    assert not np.allclose(again.model.get_layer("head_probabilities").get_weights()[0],
                           first.model.get_layer("head_probabilities").get_weights()[0])
    resumed = train_head(again, config, data, validation, weights, tmp_path / "h2.csv", cache, "m_head1")
    for a, b in zip(first.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert resumed.fit_seconds == done.fit_seconds and not (tmp_path / "h2.csv").exists()

    resumed.forget_checkpoint()
    assert not list(cache.root.glob("m_head1*"))


def test_without_a_cache_a_head_keeps_no_checkpoint(tmp_path: Path) -> None:
    plan = build_model(weights=None)
    data, validation = _data(plan)
    run = train_head(plan, TrainConfig(data_dir=tmp_path, epochs=1), data, validation, dict(enumerate([1.0] * 7)),
                     tmp_path / "h.csv", None, "m_head1")
    assert run.checkpoint is None and run.best_epoch == 1 and 0 <= run.best_val_accuracy <= 1
    assert (tmp_path / "h.csv").read_text().startswith("epoch,")


def test_a_head_stops_at_its_share_of_the_time_budget(tmp_path: Path) -> None:
    plan = build_model(weights=None)
    data, validation = _data(plan)
    run = train_head(plan, TrainConfig(data_dir=tmp_path, epochs=3), data, validation, dict(enumerate([1.0] * 7)),
                     tmp_path / "h.csv", None, "m_head1", minutes=1e-4)
    assert run.stopped_by_time_budget and run.epochs_run == 1


def test_checkpoints_are_named_by_everything_the_run_trains_with(tmp_path: Path) -> None:
    base = TrainConfig(data_dir=tmp_path, output_dir=tmp_path / "a", learning_rate=4e-6)
    # A rerun may change its time budget and threads and still take up its own checkpoints...
    assert run_key(base) == run_key(replace(base, time_budget_minutes=20, threads=1))
    # ...but a run with another rate, regulariser or output folder never takes up another's.
    for other in (replace(base, learning_rate=1e-4), replace(base, label_smoothing=0.1),
                  replace(base, ema_momentum=0.999), replace(base, output_dir=tmp_path / "b")):
        assert run_key(other) != run_key(base)
