"""Test-time views beyond the mirror, measured on the validation split: ``python -m benchmarks.extra_views``.

The served recipe averages each face with its mirror image. This adds small shifts (1-2 px of the
48 px face, edges repeated) and a zoom (the centre 44 px scaled back to 48), each with its mirror,
averages the model's outputs over every view, then applies the served prior and temperature. It
prints validation accuracy and macro-F1 for each set of views beside the served one, and how many
model passes per face each costs, so a set is served only where validation shows a gain worth it.
The validation split is the one the served model's metadata names (fraction and seed).
"""

import argparse
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from ml.datasets import load_split
from ml.evaluate import model_runner
from ml.serving import validation_split
from recognizer.metadata import read_metadata
from recognizer.models import find_default_model
from recognizer.recipe import ServingRecipe

REPO = Path(__file__).resolve().parents[1]
SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1), (2, 2), (-2, -2))


def shifted(faces: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Each (48, 48) face moved by (dx, dy) pixels, the edge repeated where the image ends."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return np.stack([cv2.warpAffine(face, matrix, face.shape[::-1], borderMode=cv2.BORDER_REPLICATE) for face in faces])


def zoomed(faces: np.ndarray, margin: int = 2) -> np.ndarray:
    """Each face's centre (without ``margin`` pixels each side) scaled back to the face's size."""
    side = faces.shape[1]
    return np.stack([cv2.resize(face[margin:side - margin, margin:side - margin], (side, side),
                                interpolation=cv2.INTER_LINEAR) for face in faces])


def outputs(run, recipe: ServingRecipe, faces: np.ndarray) -> np.ndarray:
    """(N, 7) model outputs averaged over each face and its mirror, before any correction."""
    plain = recipe.uncorrected()
    return np.concatenate([plain.predict(run, list(faces[start:start + 64])) for start in range(0, len(faces), 64)])


def main() -> None:
    """Print validation accuracy and macro-F1 of the served views and of views with shifts and zoom."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data" / "fer2013")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model = args.model or find_default_model(REPO / "ml" / "models")
    training = read_metadata(model)["hyperparameters"]
    data = load_split(args.data_dir, "train")
    _, val_idx = validation_split(data.labels, training["val_fraction"], training["seed"])
    faces, labels = data.images[val_idx], data.labels[val_idx]
    recipe = ServingRecipe.for_model(model)
    run = model_runner(model, args.threads)
    served = outputs(run, recipe, faces)
    shifts = [outputs(run, recipe, shifted(faces, dx, dy)) for dx, dy in SHIFTS]
    zoom = outputs(run, recipe, zoomed(faces))
    sets = {
        "served: face + mirror": [served],
        "+ zoom": [served, zoom],
        "+ 4 one-pixel shifts": [served, *shifts[:4]],
        "+ 6 shifts": [served, *shifts],
        "+ 6 shifts + zoom": [served, *shifts, zoom],
    }
    print(f"{model.name} on {len(labels)} validation faces ({recipe.describe()} after averaging the views)")
    for name, parts in sets.items():
        predicted = recipe.correct(np.mean(parts, axis=0)).argmax(axis=1)
        print(f"  {name:24s} passes per face {2 * len(parts):2d}   accuracy {accuracy_score(labels, predicted):.4f}   "
              f"macro-F1 {f1_score(labels, predicted, average='macro'):.4f}")


if __name__ == "__main__":
    main()
