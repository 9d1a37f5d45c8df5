"""Ground-truth evaluation of the face pipeline: ``python -m benchmarks.faces [--composites N]``.

Runs the whole recognizer (decode, detect, quality gate, classify) on photos whose faces are known
(``benchmarks.composites``: FER2013 test faces pasted at 24-600 px into 640-4000 px canvases) and
prints the acceptance figures:
1. the share of faces 48 px or wider that are classified (target >= 95%), and faces below 48 px
   classified (target 0);
2. phantom faces classified on the no-face set (animals, an animal collage, scenes, textures;
   target 0);
3. faces tilted by 30 degrees found and classified (target >= 95%);
plus the detector's own recall on the same FER2013 faces alone at 256 px (the ceiling for 1), the
spread of box width / pasted side (what the 48 px gate sees) and the median time per photo by canvas
size (wall clock: on a shared machine, read it with the load average printed). A face counts as classified when a classified box's centre lies within
0.35 of its side from the pasted face's centre. ``--why`` says for each missed face of 48 px or more
which stage lost it (``benchmarks.face_misses``).
"""

import argparse
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from benchmarks.composites import Composite, composites, no_face_images, rotated_composites
from benchmarks.face_misses import summary, why_missed
from recognizer.models import find_default_model
from recognizer.faces import GROUP_SPAN
from recognizer.pipeline import RecognitionResult, Recognizer

REPO = Path(__file__).resolve().parents[1]


def matches(result: RecognitionResult, composite: Composite) -> tuple[list[bool], int]:
    """For each pasted face whether it was classified, and how many classified faces match none."""
    found, extra, _ = matched_boxes(result, composite)
    return found, extra


def matched_boxes(result: RecognitionResult, composite: Composite) -> tuple[list[bool], int, list[int]]:
    """``matches`` plus, per pasted face, the matched box's width (0 when unmatched)."""
    centres = [(x + w / 2, y + h / 2) for x, y, w, h in (face.box for face in result.faces)]
    used = [False] * len(centres)
    found, widths = [], []
    for truth in composite.faces:
        tx, ty = truth.centre
        hit = False
        for i, (cx, cy) in enumerate(centres):
            if not used[i] and abs(cx - tx) < 0.35 * truth.side and abs(cy - ty) < 0.35 * truth.side:
                used[i] = hit = True
                widths.append(result.faces[i].box[2])
                break
        else:
            widths.append(0)
        found.append(hit)
    return found, used.count(False), widths


def evaluate(recognizer: Recognizer, photos: Iterable[Composite], why: bool = False) -> dict[str, object]:
    """Classified share by face size, phantoms and time per canvas size over ``photos``; with
    ``why``, the stage that lost each missed face of 48 px or more (``benchmarks.face_misses``)."""
    readable = readable_hit = small = small_hit = phantoms = 0
    ratios: list[float] = []
    sources: list[str] = []
    times: dict[tuple[int, int], list[float]] = defaultdict(list)
    by_size: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    reasons: list[str] = []
    for photo in photos:
        started = time.perf_counter()
        result = recognizer.analyse(photo.jpeg)
        times[photo.size].append((time.perf_counter() - started) * 1000)
        found, extra, widths = matched_boxes(result, photo)
        phantoms += extra
        ratios += [width / truth.side for truth, width in zip(photo.faces, widths) if width]
        for truth, hit in zip(photo.faces, found):
            if truth.side >= 48:
                sources.append(truth.source)
                readable += 1
                readable_hit += hit
                band = "48-63" if truth.side < 64 else "64-127" if truth.side < 128 else "128-600"
                by_size[band][0] += hit
                by_size[band][1] += 1
            else:
                small += 1
                small_hit += hit
        missed = [truth for truth, hit in zip(photo.faces, found) if truth.side >= 48 and not hit]
        if why and missed:
            for truth, reason in zip(missed, why_missed(recognizer, photo, missed)):
                reasons.append(reason)
                print(f"   missed {truth.side} px face at ({truth.left}, {truth.top}) of "
                      f"{photo.size[0]}x{photo.size[1]}: {reason}")
    return {"readable": readable, "readable_hit": readable_hit, "small": small, "small_hit": small_hit,
            "reasons": reasons, "phantoms": phantoms, "times": times, "by_size": by_size, "ratios": ratios,
            "sources": sources}


def detectable_share(sources: list[str]) -> float:
    """Share of these FER2013 faces the detector finds alone, 256 px on a grey 400 px canvas."""
    from PIL import Image

    from benchmarks.composites import FER_TEST
    from recognizer.faces import detect_faces

    found = 0
    for source in sources:
        canvas = Image.new("RGB", (400, 400), (128, 128, 128))
        canvas.paste(Image.open(FER_TEST / source).convert("RGB").resize((256, 256), Image.Resampling.BICUBIC), (72, 72))
        found += bool(detect_faces(np.asarray(canvas)))
    return found / max(1, len(sources))


def main() -> None:
    """Print the face pipeline's acceptance figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--composites", type=int, default=40)
    parser.add_argument("--rotated", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2, help="LiteRT threads")
    parser.add_argument("--exhaustive", action="store_true",
                        help="look for every face down to 48 px whatever EMOTUNE_FACE_GROUP_SPAN says (the default already does)")
    parser.add_argument("--why", action="store_true",
                        help="say for each missed face of 48 px or more which stage lost it")
    args = parser.parse_args()
    model = args.model or find_default_model(REPO / "ml" / "models")
    if model is None:
        raise SystemExit("No model in ml/models: train or export one first (flask train-model).")
    recognizer = Recognizer.from_path(model, num_threads=args.threads,
                                      group_span=None if args.exhaustive else GROUP_SPAN)
    load = os.getloadavg()
    print(f"model {model.name} | {os.cpu_count()} CPUs | group span {recognizer.group_span or 'none (exhaustive)'} | load average {load[0]:.2f} | {time.strftime('%Y-%m-%d %H:%M %Z')}")

    upright = evaluate(recognizer, composites(count=args.composites), args.why)
    share = upright["readable_hit"] / max(1, upright["readable"])
    print(f"\n1. Composites ({args.composites} canvases of 640-4000 px, 1-12 faces + 0-2 tiny ones):")
    print(f"   faces >= 48 px classified: {upright['readable_hit']} of {upright['readable']} ({share:.1%}) [target >= 95%]")
    for band, (hit, total) in sorted(upright["by_size"].items(), key=lambda kv: int(kv[0].split("-")[0])):
        print(f"     {band:>8s} px: {hit} of {total} ({hit / max(1, total):.1%})")
    if args.why:
        print(f"   misses by stage: {summary(upright['reasons'])}")
    print(f"   faces of 24-40 px classified: {upright['small_hit']} of {upright['small']} [target 0]")
    print(f"   phantom faces classified in composites: {upright['phantoms']}")
    p5, p50, p95 = np.percentile(upright["ratios"], [5, 50, 95])
    print(f"   detector box width / pasted side: median {p50:.3f}, p5 {p5:.3f}, p95 {p95:.3f} "
          f"(the size gate's spread around 48 px)")
    ceiling = detectable_share(upright["sources"])
    print(f"   ceiling: the detector finds {ceiling:.1%} of these FER2013 faces alone at 256 px on grey")
    for size, values in sorted(upright["times"].items()):
        print(f"   {size[0]}x{size[1]}: median {statistics.median(values):.0f} ms per photo (n={len(values)})")

    phantom_names = []
    images = list(no_face_images())
    for name, jpeg in images:
        result = recognizer.analyse(jpeg)
        phantom_names += [name] * len(result.faces)
    print(f"\n2. No-face images ({len(images)}): phantom faces classified: {len(phantom_names)} "
          f"{sorted(phantom_names)} [target 0]")

    tilted = evaluate(recognizer, rotated_composites(count=args.rotated), args.why)
    rot_share = tilted["readable_hit"] / max(1, tilted["readable"])
    print(f"\n3. Faces tilted 30 degrees (96-400 px, 640-1280 px canvases): {tilted['readable_hit']} of "
          f"{tilted['readable']} classified ({rot_share:.1%}) [target >= 95%]; phantoms {tilted['phantoms']}")
    for size, values in sorted(tilted["times"].items()):
        print(f"   {size[0]}x{size[1]}: median {statistics.median(values):.0f} ms per photo")


if __name__ == "__main__":
    main()
