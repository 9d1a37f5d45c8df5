"""Recognizer speed and memory: ``python -m benchmarks.recognizer [--model PATH.tflite]``.

Prints, on the committed model (newest ``ml/models/mobilenetv2_*.tflite``, or ``--model``):
1. per-face classification: LiteRT vs Keras ``predict`` vs Keras direct call, same weights;
2-3. the whole recognizer (decode, detect, classify) on a 1280x960 JPEG with one face, and on a
   4000x3000 JPEG with seven faces (a group photo; faces 150-400 px), wall and CPU time;
4. a fresh worker-like process: time from start to ready, and resident memory after warm-up.
Without a committed model it benchmarks an untrained plan model (same layers, same cost).
Targets: LiteRT <= 4 ms/face and >= 15x faster than predict; recognizer <= 25 ms
on 1280x960 with one face and <= 120 ms on 4000x3000 with seven;
worker <= 350 MB RSS and <= 2 s to ready. ``--parts whole`` runs only 2-3; ``--min-face 96`` measures
the recognizer as EMOTUNE_MIN_FACE_PX=96 would run it.
"""

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from recognizer.models import find_default_model
from recognizer.pipeline import Recognizer
from recognizer.preprocess import faces_to_input
from recognizer.runtime import load_classifier

REPO = Path(__file__).resolve().parents[1]
FER_TEST = REPO.parent / "shared" / "data" / "fer2013" / "test"


def face_photo(size: tuple[int, int], face_side: int) -> bytes:
    """A JPEG photo: a FER2013 test face upscaled to ``face_side`` on a textured background."""
    face = Image.open(sorted((FER_TEST / "happy").glob("*.jpg"))[0]).convert("RGB")
    rng = np.random.default_rng(0)
    background = np.clip(rng.normal(140, 12, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    canvas = Image.fromarray(background)
    canvas.paste(face.resize((face_side, face_side), Image.Resampling.BICUBIC),
                 ((size[0] - face_side) // 2, (size[1] - face_side) // 3))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def fer_faces(count: int) -> list[np.ndarray]:
    """``count`` real FER2013 test faces (48x48 gray)."""
    files = sorted(FER_TEST.glob("*/*.jpg"))[:: max(1, 3000 // count)][:count]
    return [np.asarray(Image.open(path).convert("L")) for path in files]


def timed(run: Callable[[], object], repeats: int, warmup: int = 3) -> list[float]:
    """Wall-clock milliseconds of ``repeats`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> tuple[float, float]:
    """(median, p95) in ms."""
    return statistics.median(times), float(np.percentile(times, 95))


def row(label: str, times: list[float], target: str = "") -> float:
    """Print one result line; return the median."""
    median, p95 = summary(times)
    print(f"  {label:44s} median {median:8.2f} ms   p95 {p95:8.2f} ms  (n={len(times)}) {target}")
    return median


def per_face(model: Path, repeats: int, threads: int) -> None:
    """LiteRT vs Keras predict vs Keras direct call on one real face at a time, same weights."""
    print(f"\n1. Per-face classification ({model.name}; LiteRT threads={threads})")
    batch = faces_to_input(fer_faces(16))
    litert = load_classifier(model, threads)
    singles = [batch[i : i + 1] for i in range(len(batch))]
    calls = iter(range(10**9))

    def one_face() -> None:
        litert.predict(singles[next(calls) % len(singles)])  # a different real face each call

    lite_ms = row("LiteRT (XNNPACK), 1 face", timed(one_face, repeats), "[target <= 4 ms]")
    pair = np.concatenate([batch[:1], batch[:1, :, ::-1]])
    row("LiteRT, 1 face + its mirror (as served)", timed(lambda: litert.predict(pair), repeats // 2))
    eight = batch[:8]
    eight_ms = row("LiteRT, 8 faces in one call (per face)", [t / 8 for t in timed(lambda: litert.predict(eight), 20)])
    h5 = model.with_suffix(".h5")
    if not h5.is_file():
        print(f"  (no {h5.name} beside the model: Keras comparison skipped)")
        return
    import keras  # only here: the benchmark compares against TensorFlow on purpose

    keras_model = keras.models.load_model(h5, compile=False)
    one = batch[:1]
    predict_ms = row("Keras model.predict, 1 face", timed(lambda: keras_model.predict(one, verbose=0), max(10, repeats // 10)))
    direct_ms = row("Keras direct call model(x), 1 face", timed(lambda: keras_model(one, training=False), max(10, repeats // 5)))
    lite = litert.predict(batch)
    ref = np.asarray(keras_model(batch, training=False))
    print(f"  LiteRT is {predict_ms / lite_ms:.1f}x faster than predict [target >= 15x], "
          f"{direct_ms / lite_ms:.1f}x faster than a direct call; batching 8 gives {lite_ms / eight_ms:.2f}x per face")
    if "untrained" in model.name:
        print("  (untrained stand-in: its outputs are near-uniform, so the agreement line below says little)")
    print(f"  agreement on 16 FER2013 faces: max |p_litert - p_keras| = {np.abs(lite - ref).max():.2e}, "
          f"same top class: {bool((lite.argmax(1) == ref.argmax(1)).all())}")


def group_photo(size: tuple[int, int] = (4000, 3000), count: int = 7) -> bytes:
    """A JPEG group photo: ``count`` FER2013 test faces of 150-400 px in a row on a textured canvas."""
    from benchmarks.composites import fer_files, paste_face, textured_canvas

    rng = np.random.default_rng(7)
    canvas = textured_canvas(size, rng)
    files = fer_files()[::97]
    step = size[0] // count
    for i in range(count):
        side = 150 + (i * 250) // max(1, count - 1)
        paste_face(canvas, files[i], i * step + (step - side) // 2, size[1] // 3 + (i % 2) * 300, side)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def whole_recognizer(model: Path, repeats: int, threads: int, min_face: int = 48) -> None:
    """Decode, detect and classify: 1280x960 with one face, 4000x3000 with seven."""
    recognizer = Recognizer.from_path(model, threads, min_face=min_face)
    print(f"\n(smallest face read: {recognizer.min_face} px)")
    # (label, photo, faces, runs, wall target, CPU target)
    cases = (("1280x960 JPEG, one face", face_photo((1280, 960), face_side=480), 1, repeats, "", "[target <= 20 ms]"),
             ("4000x3000 JPEG, seven faces", group_photo(), 7, max(3, repeats // 20), "[target <= 150 ms]", ""))
    for number, (label, data, faces, runs, target, cpu_target) in enumerate(cases, start=2):
        stages: dict[str, list[float]] = {"decode": [], "detect": [], "classify": []}
        cpu: list[float] = []

        def analyse() -> None:
            started = time.process_time()
            result = recognizer.analyse(data)
            cpu.append((time.process_time() - started) * 1000)
            assert len(result.faces) == faces, f"benchmark photo must show {faces} faces, found {len(result.faces)}"
            for key in stages:
                stages[key].append(result.timings_ms[key])

        print(f"\n{number}. Whole recognizer, {label} ({len(data) // 1024} KiB)"
              f" ({recognizer.recipe.describe()})")
        total = timed(analyse, runs, warmup=1)
        for key, values in stages.items():
            row(f"  {key}", values[-runs:])
        row("decode + detect + classify (wall)", total, target)
        row("CPU time of this process (all threads)", cpu[-runs:], cpu_target)


_CHILD = """
import os, sys, time
started = float(sys.argv[2])
{imports}
from recognizer.pipeline import Recognizer
recognizer = Recognizer.from_path(sys.argv[1], num_threads=2)
recognizer.analyse(sys.stdin.buffer.read())
ready = time.time() - started
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(ready, int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)
"""


def worker_process(model: Path, runs: int) -> None:
    """Start-to-ready time and memory of fresh processes that load the model and analyse one photo."""
    print("\n4. Fresh worker-like process: start, import, load + warm up the model, analyse one photo")
    photo = face_photo((1280, 960), face_side=480)
    variants = {"recognizer only": ""}
    variants["with the Celery worker's task imports (emotune.tasks)"] = "import emotune.tasks"
    for label, imports in variants.items():
        readies, rss, peak = [], [], []
        for _ in range(runs):
            started = time.time()
            done = subprocess.run(
                [sys.executable, "-c", _CHILD.format(imports=imports), str(model), repr(started)],
                cwd=REPO, input=photo, capture_output=True, timeout=120, check=True,
            )
            values = done.stdout.decode().split()[-3:]
            readies.append(float(values[0]))
            rss.append(float(values[1]))
            peak.append(float(values[2]))
        print(f"  {label:52s} ready in median {statistics.median(readies):.2f} s (max {max(readies):.2f}) "
              f"[target <= 2 s]; RSS {statistics.median(rss):.0f} MB (peak {statistics.median(peak):.0f} MB) "
              f"[target <= 350 MB]")


def main() -> None:
    """Run the three benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a .tflite model (its .h5 twin beside it for the Keras rows)")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--process-runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="LiteRT threads (default 2, one per core of the target box)")
    parser.add_argument("--min-face", type=int, default=48, help="smallest face read (EMOTUNE_MIN_FACE_PX)")
    parser.add_argument("--parts", default="per-face,whole,process",
                        help="comma-separated subset of per-face, whole, process")
    args = parser.parse_args()
    threads = args.threads
    model = args.model or find_default_model(REPO / "ml" / "models")
    with tempfile.TemporaryDirectory() as scratch:
        if model is None or model.suffix != ".tflite":
            from benchmarks.plan_model import write_plan_model

            print("No committed .tflite model: benchmarking an UNTRAINED plan model (same architecture and cost).")
            model = write_plan_model(Path(scratch))
        load = os.getloadavg()
        print(f"model {model} | {os.cpu_count()} CPUs | load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} | "
              f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        parts = set(args.parts.split(","))
        if "per-face" in parts:
            per_face(model, args.repeats, threads)
        if "whole" in parts:
            whole_recognizer(model, args.repeats, threads, args.min_face)
        if "process" in parts:
            worker_process(model, args.process_runs)


if __name__ == "__main__":
    main()
