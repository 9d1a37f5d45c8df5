"""Measure how FER2013 frames its faces, as seen by our face detector.

Runs the detector on FER2013 test faces upscaled and pasted on a plain background (as a photo of a
face would look) and prints the detector's box relative to the FER2013 image: the numbers behind
``recognizer.crops`` FRAME_* constants. Usage: ``python -m benchmarks.face_framing [--per-class N]``.
"""

import argparse
import random
from pathlib import Path

import numpy as np
from PIL import Image

from recognizer.faces import detect_faces

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013" / "test"
FACE_SIDE = 256


def main() -> None:
    """Print box-to-image ratios and centre offsets over a sample of FER2013 test faces."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    rng = random.Random(0)
    rows: list[tuple[float, float, float, float]] = []
    total = 0
    for class_dir in sorted(p for p in args.data.iterdir() if p.is_dir()):
        files = sorted(class_dir.glob("*.jpg"))
        for path in rng.sample(files, min(args.per_class, len(files))):
            total += 1
            face = Image.open(path).convert("RGB").resize((FACE_SIDE, FACE_SIDE), Image.Resampling.BICUBIC)
            photo = Image.new("RGB", (640, 480), (128, 128, 128))
            left, top = (640 - FACE_SIDE) // 2, (480 - FACE_SIDE) // 2
            photo.paste(face, (left, top))
            found = detect_faces(np.asarray(photo))
            if not found:
                continue
            box = found[0].box  # largest first
            rows.append(
                (
                    box.w / FACE_SIDE,
                    box.h / FACE_SIDE,
                    (box.x + box.w / 2 - left) / FACE_SIDE,
                    (box.y + box.h / 2 - top) / FACE_SIDE,
                )
            )
    data = np.array(rows)
    print(f"detected {len(rows)} of {total} FER2013 test faces ({len(rows) / max(total, 1):.1%})")
    for name, column in zip(("box width / image", "box height / image", "box centre x / image", "box centre y / image"), data.T):
        p10, p50, p90 = np.percentile(column, [10, 50, 90])
        print(f"{name:22s} median {p50:.3f}  p10 {p10:.3f}  p90 {p90:.3f}  cv {column.std() / column.mean():.3f}")
    geo = np.sqrt(data[:, 0] * data[:, 1])
    print(f"{'sqrt(w*h) / image':22s} median {np.median(geo):.3f}  cv {geo.std() / geo.mean():.3f}")


if __name__ == "__main__":
    main()
