"""Robustness of the served model to what phones do to faces: accuracy clean and under each condition.

    python -m benchmarks.robustness --model ml/models/mobilenetv2_fer2013_8.tflite \\
        --data-dir ../shared/data/fer2013 [--per-class 100] [--split test|validation] [--json]

Takes ``--per-class`` faces of each class (seeded; all of a class that has fewer) from the split,
applies each condition to the native 48x48 face, and classifies clean and perturbed faces through
the worker's own :meth:`recognizer.pipeline.Recognizer.classify` (the model's serving recipe:
mirror averaging, class prior, temperature). Prints a table of accuracy and drop from clean in
points; with ``--json``, one line ``{"clean": acc, "conditions": {"<name>": acc, ...}}``.
``--split validation`` rebuilds the model's validation split from its metadata, for choosing
remedies without looking at the test split.
"""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from recognizer.metadata import read_metadata, write_metadata
from recognizer.pipeline import Recognizer

Condition = Callable[[np.ndarray], np.ndarray]


def brightness(factor: float) -> Condition:
    """Every pixel times ``factor``, clipped to 0-255 (over- or under-exposure)."""
    return lambda face: np.clip(face.astype(np.float32) * factor, 0, 255).round().astype(np.uint8)


def gaussian_blur(sigma: float) -> Condition:
    """Gaussian blur with standard deviation ``sigma`` pixels (out of focus, motion, a cheap lens)."""
    return lambda face: cv2.GaussianBlur(face, (0, 0), sigma)


def jpeg(quality: int) -> Condition:
    """Encode as JPEG at ``quality`` and decode again (a heavily compressed photo)."""
    def apply(face: np.ndarray) -> np.ndarray:
        ok, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    return apply


def affine(angle: float = 0.0, shift: float = 0.0) -> Condition:
    """Rotate by ``angle`` degrees (counter-clockwise) and move right by ``shift`` of the width; edges replicated."""
    def apply(face: np.ndarray) -> np.ndarray:
        height, width = face.shape
        matrix = cv2.getRotationMatrix2D((width / 2 - 0.5, height / 2 - 0.5), angle, 1.0)
        matrix[0, 2] += shift * width
        return cv2.warpAffine(face, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return apply


CONDITIONS: Final[dict[str, Condition]] = {
    "brightness x0.5": brightness(0.5),
    "brightness x1.5": brightness(1.5),
    "blur sigma 1": gaussian_blur(1.0),
    "jpeg quality 20": jpeg(20),
    "rotation +10": affine(angle=10),
    "rotation -10": affine(angle=-10),
    "shift 10% left": affine(shift=-0.1),
    "shift 10% right": affine(shift=0.1),
}


def _clahe(face: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4)).apply(face)


def _stretch(face: np.ndarray) -> np.ndarray:
    low, high = np.percentile(face, (1, 99))
    return np.clip((face.astype(np.float32) - low) * (255 / max(high - low, 1)), 0, 255).astype(np.uint8)


# Candidate remedies applied to the (perturbed or clean) face before the recipe: compared on the
# validation split with --compare-preprocessing; only one that measures better there would be shipped.
PREPROCESSING: Final[dict[str, Condition]] = {
    "none": lambda face: face,
    "histogram equalisation": cv2.equalizeHist,
    "CLAHE (clip 2, 4x4 tiles)": _clahe,
    "contrast stretch (1-99%)": _stretch,
    "median 3x3 (denoise)": lambda face: cv2.medianBlur(face, 3),
}


def sample(labels: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of up to ``per_class`` faces of each class, seeded, sorted."""
    rng = np.random.default_rng(seed)
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def accuracy(recognizer: Recognizer, faces: np.ndarray, labels: np.ndarray, batch: int = 64) -> float:
    """Share of ``faces`` whose served top emotion is the label, through the worker's ``classify``."""
    predicted = np.concatenate([recognizer.classify(list(faces[i:i + batch])).argmax(1)
                                for i in range(0, len(faces), batch)])
    return float((predicted == labels).mean())


def run(recognizer: Recognizer, faces: np.ndarray, labels: np.ndarray,
        conditions: dict[str, Condition] = CONDITIONS, remedy: Condition | None = None) -> dict[str, object]:
    """Accuracy on the clean faces and under each condition (``remedy`` applied to every face last)."""
    def prepared(batch: np.ndarray) -> np.ndarray:
        return np.stack([remedy(face) for face in batch]) if remedy is not None else batch

    clean = accuracy(recognizer, prepared(faces), labels)
    results = {name: accuracy(recognizer, prepared(np.stack([apply(face) for face in faces])), labels)
               for name, apply in conditions.items()}
    return {"clean": clean, "conditions": results}


def load_faces(model: Path, data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The (N, 48, 48) faces and labels of ``split`` (``validation``: the model's own, from its metadata)."""
    from ml.datasets import load_split  # the dataset readers live in ml (TensorFlow is not needed for them)

    if split == "validation":
        from ml.serving import rebuild_validation

        data = rebuild_validation(read_metadata(model), data_dir)
    else:
        data = load_split(data_dir, split)
    return data.images, data.labels


def record(model: Path, split: str, per_class: int, result: dict[str, object]) -> None:
    """Write ``result`` into the model's metadata as ``metrics.robustness_<split>``."""
    meta = read_metadata(model)
    meta.setdefault("metrics", {})[f"robustness_{split}"] = {"per_class": per_class, **result}
    write_metadata(model, meta)


def print_table(result: dict[str, object], title: str) -> None:
    """Accuracy and drop from clean (points) per condition."""
    clean = float(result["clean"])  # type: ignore[arg-type]
    print(title)
    print(f"  {'condition':18s} {'accuracy':>8s} {'drop (points)':>14s}")
    print(f"  {'clean':18s} {clean:8.3f} {'':>14s}")
    for name, value in result["conditions"].items():  # type: ignore[union-attr]
        print(f"  {name:18s} {value:8.3f} {(clean - value) * 100:14.1f}")


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every condition, print the table or the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="a .tflite (or .h5) model with its metadata JSON")
    parser.add_argument("--data-dir", type=Path, required=True, help="dataset folder (train/ and test/)")
    parser.add_argument("--per-class", type=int, default=100, help="faces per class (default 100)")
    parser.add_argument("--split", default="test", choices=("test", "validation"), help="split to draw from")
    parser.add_argument("--threads", type=int, default=2, help="LiteRT threads (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the table")
    parser.add_argument("--record", action="store_true",
                        help="also store the figures in the model's metadata (metrics.robustness_<split>), where the "
                             "model card's table and the committed-model test read them")
    parser.add_argument("--compare-preprocessing", action="store_true",
                        help="also run each candidate remedy in PREPROCESSING (use with --split validation)")
    args = parser.parse_args(argv)
    images, labels = load_faces(args.model, args.data_dir, args.split)
    chosen = sample(labels, args.per_class)
    recognizer = Recognizer.from_path(args.model, num_threads=args.threads)
    result = run(recognizer, images[chosen], labels[chosen])
    if args.record:
        record(args.model, args.split, args.per_class, result)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result, f"{args.model.name} on {len(chosen)} {args.split} faces ({args.per_class} per class at most; "
                            f"{recognizer.recipe.describe()})")
    if args.compare_preprocessing:
        print(f"\nremedies on {args.split}: accuracy clean, mean over conditions, worst condition")
        for name, remedy in PREPROCESSING.items():
            tried = result if name == "none" else run(recognizer, images[chosen], labels[chosen], remedy=remedy)
            values = list(tried["conditions"].values())  # type: ignore[union-attr]
            print(f"  {name:28s} clean {tried['clean']:.3f}  mean {np.mean(values):.3f}  worst {min(values):.3f}  "
                  + json.dumps({k: round(v, 3) for k, v in tried["conditions"].items()}), flush=True)  # type: ignore[union-attr]
    return 0


if __name__ == "__main__":
    sys.exit(main())
