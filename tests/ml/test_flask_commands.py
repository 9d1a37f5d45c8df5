"""The model commands are reachable as ``flask ...`` without a configured app (no SECRET_KEY needed)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("command", ["train-model", "evaluate-model", "benchmark-training", "tune-serving",
                                     "assemble-ensemble"])
def test_model_commands_need_no_app_configuration(command: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(FLASK_APP="emotune", EMOTUNE_INSTANCE_PATH=str(tmp_path / "instance"))
    flask = Path(sys.executable).with_name("flask")
    result = subprocess.run([str(flask), command, "--help"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--data-dir" in result.stdout
