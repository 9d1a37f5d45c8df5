"""Where the ImageNet weights come from, and the clear error when none can be had."""

from pathlib import Path

import pytest

from ml.weights import ENV_VAR, WEIGHTS_FILE, WeightsUnavailable, resolve_base_weights


def test_explicit_path_wins(imagenet_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "/nowhere.h5")
    assert resolve_base_weights(imagenet_weights) == str(imagenet_weights)


def test_environment_variable(imagenet_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(imagenet_weights))
    assert resolve_base_weights(None) == str(imagenet_weights)


def test_keras_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cached = tmp_path / "models" / WEIGHTS_FILE
    assert resolve_base_weights(None) == "imagenet"  # nothing local: Keras would download
    cached.parent.mkdir()
    cached.write_bytes(b"x")
    assert resolve_base_weights(None) == str(cached)


def test_missing_file_says_how_to_provide(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(WeightsUnavailable, match="--base-weights PATH.*EMOTUNE_BASE_WEIGHTS"):
        resolve_base_weights("/no/such/weights.h5")


def test_random_init_only_on_request() -> None:
    assert resolve_base_weights(None, pretrained=False) is None
