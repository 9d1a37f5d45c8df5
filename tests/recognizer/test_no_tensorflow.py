"""The serving path (recognizer on LiteRT, and the worker package) never imports TensorFlow."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.recognizer.photos import encode, one_face_photo

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

_ANALYSE = """
import sys, json
from recognizer.pipeline import Recognizer
recognizer = Recognizer.from_path(sys.argv[1], num_threads=1)
result = recognizer.analyse(sys.stdin.buffer.read())
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras", "flask"))
print(json.dumps({"faces": len(result.faces), "heavy": heavy}))
"""


def _run(code: str, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, input=stdin, capture_output=True, timeout=300, check=False
    )


def test_recognizer_on_litert_imports_no_tensorflow(plan_models: dict[str, Path]) -> None:
    done = _run(_ANALYSE, str(plan_models["tflite"]), stdin=encode(one_face_photo()))
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert report["faces"] == 1
    assert report["heavy"] == []
