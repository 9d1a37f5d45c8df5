"""The on-disk cache of frozen-part features: keyed by everything the features depend on, written whole."""

from pathlib import Path

import numpy as np

from ml.features import FeatureCache, cached

SETTINGS = {"dataset": "abc", "views": 4, "degrade_probability": 0.8}


def test_a_cached_array_is_computed_once_and_then_loaded(tmp_path: Path) -> None:
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6, dtype=np.float16).reshape(2, 3)

    first = cached(FeatureCache.for_run(tmp_path, SETTINGS), "view0", compute)
    again = cached(FeatureCache.for_run(tmp_path, dict(SETTINGS)), "view0", compute)
    assert len(calls) == 1
    np.testing.assert_array_equal(first, again)
    assert again.dtype == np.float16


def test_other_data_or_settings_get_another_cache(tmp_path: Path) -> None:
    base = FeatureCache.for_run(tmp_path, SETTINGS)
    assert FeatureCache.for_run(tmp_path, {**SETTINGS, "dataset": "abd"}).key != base.key
    assert FeatureCache.for_run(tmp_path, {**SETTINGS, "degrade_probability": 0.5}).key != base.key
    assert FeatureCache.for_run(tmp_path, SETTINGS).key == base.key


def test_an_interrupted_write_is_not_taken_for_a_whole_array(tmp_path: Path) -> None:
    cache = FeatureCache.for_run(tmp_path, SETTINGS)
    cache.path("view1").with_suffix(".partial.npy").write_bytes(b"half an array")
    result = cached(cache, "view1", lambda: np.ones(3))
    np.testing.assert_array_equal(result, np.ones(3))
    assert not cache.path("view1").with_suffix(".partial.npy").exists()


def test_no_cache_dir_computes_every_time(tmp_path: Path) -> None:
    assert FeatureCache.for_run(None, SETTINGS) is None
    assert cached(None, "view0", lambda: np.zeros(2)).shape == (2,)
