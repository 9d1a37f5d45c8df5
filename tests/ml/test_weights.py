"""Where the ImageNet weights come from, and the clear error when none can be had."""

from pathlib import Path

import pytest

from click.testing import CliRunner

from ml.cli import BASE_WEIGHTS_ENV, train_model
from ml.weights import WEIGHTS_FILE, WeightsUnavailable, resolve_base_weights


def test_explicit_path_wins(imagenet_weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_base_weights(imagenet_weights) == str(imagenet_weights)


def test_library_never_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_WEIGHTS_ENV, "/nowhere.h5")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert resolve_base_weights(None) == "imagenet"


def test_cli_reads_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BASE_WEIGHTS_ENV, str(tmp_path / "nowhere.h5"))
    result = CliRunner().invoke(train_model, ["--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "nowhere.h5" in result.output and "EMOTUNE_BASE_WEIGHTS" in result.output


def test_keras_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
