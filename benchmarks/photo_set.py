"""CPU per photo over a real-photo-like set: ``python -m benchmarks.photo_set [--threads 1]``.

The set is the face benchmark's photos (``benchmarks.composites``: 40 composites of 640-4000 px with
1-12 faces, 40 with one tilted face, and the no-face set of package sample images, textures and the
animal collage), each analysed whole (decode, detect, gate, classify) by the served model with one
LiteRT thread, as a Celery process runs it. Prints the median, p90 and largest CPU time per photo,
for all photos and for the no-face ones, and the five most expensive photos.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np

from benchmarks.composites import composites, no_face_images, rotated_composites
from recognizer.models import find_default_model
from recognizer.pipeline import Recognizer

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    """Analyse every photo of the set once and print CPU time per photo."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--threads", type=int, default=1, help="LiteRT and detector threads")
    args = parser.parse_args()
    model = args.model or find_default_model(REPO / "ml" / "models")
    if model is None:
        raise SystemExit("No model in ml/models: train or export one first (flask train-model).")
    recognizer = Recognizer.from_path(model, num_threads=args.threads)
    photos = [(f"composite {c.size[0]}x{c.size[1]}", c.jpeg) for c in composites(count=40)]
    photos += [(f"tilted {c.size[0]}x{c.size[1]}", c.jpeg) for c in rotated_composites(count=40)]
    photos += [(f"no face: {name}", jpeg) for name, jpeg in no_face_images()]
    for _, jpeg in photos[:3]:
        recognizer.analyse(jpeg)  # warm up
    print(f"model {model.name} | {args.threads} thread(s) | load average {os.getloadavg()[0]:.2f}")
    costs = []
    for name, jpeg in photos:
        started = time.process_time()
        recognizer.analyse(jpeg)
        costs.append(((time.process_time() - started) * 1000, name))
    for label, values in (("all", [c for c, _ in costs]),
                          ("no face", [c for c, n in costs if n.startswith("no face")])):
        p50, p90 = np.percentile(values, [50, 90])
        print(f"{label:8s} {len(values):3d} photos: CPU per photo median {p50:.1f} ms, p90 {p90:.1f}, "
              f"max {max(values):.1f} [target: median <= 30 ms, none over 200 ms]")
    print("most expensive:", ", ".join(f"{name} {cost:.0f} ms" for cost, name in sorted(costs)[-5:]))


if __name__ == "__main__":
    main()
