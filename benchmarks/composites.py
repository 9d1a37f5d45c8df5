"""Ground-truth test photos made in memory: FER2013 faces pasted into canvases, and no-face images.

No photo of a person is stored: every composite is built from FER2013 test faces (../shared/data)
upscaled to a known side, optionally rotated, and pasted at a known position on a textured canvas
of 640 to 4000 px. No-face images are the sample photos scikit-image and scikit-learn ship (animals,
scenes, objects, microscopy, text) plus synthetic textures. Used by ``benchmarks.faces`` and the
recognizer tests.
"""

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

REPO = Path(__file__).resolve().parents[1]
FER_TEST = REPO.parent / "shared" / "data" / "fer2013" / "test"
CANVASES = ((640, 480), (1280, 960), (960, 1280), (2000, 1500), (4000, 3000), (3000, 4000))


@dataclass(frozen=True)
class TruthFace:
    """A pasted face: the FER2013 image's square (left, top, side) before rotation, and its tilt."""

    left: int
    top: int
    side: int
    angle: float = 0.0
    source: str = ""

    @property
    def centre(self) -> tuple[float, float]:
        """The centre of the pasted face (rotation keeps it)."""
        return self.left + self.side / 2, self.top + self.side / 2


@dataclass(frozen=True)
class Composite:
    """A JPEG and the faces pasted into it."""

    jpeg: bytes
    size: tuple[int, int]
    faces: tuple[TruthFace, ...]


def fer_files() -> list[Path]:
    """Every FER2013 test face, sorted (all seven classes)."""
    return sorted(FER_TEST.glob("*/*.jpg"))


def textured_canvas(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A room-like background: a colour gradient, soft blobs and shapes, and sensor noise."""
    width, height = size
    # A few colour cells blended smoothly (walls, light falloff), not confetti.
    small = (max(2, width // 400), max(2, height // 400))
    base = rng.uniform(60, 200, (small[1], small[0], 3))
    image = Image.fromarray(base.astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 20, width // 3)), int(rng.integers(height // 20, height // 3))
        colour = tuple(int(v) for v in rng.integers(30, 230, 3))
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)((x0, y0, x0 + w, y0 + h), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(radius=max(1, width // 400)))
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 5, (height, width, 1)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def paste_face(canvas: Image.Image, path: Path, left: int, top: int, side: int, angle: float = 0.0) -> None:
    """Paste FER2013 face ``path`` upscaled to ``side`` at (left, top), rotated by ``angle`` degrees."""
    face = Image.open(path).convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
    if angle:
        mask = Image.new("L", (side, side), 255).rotate(angle, Image.Resampling.BICUBIC, expand=True)
        face = face.rotate(angle, Image.Resampling.BICUBIC, expand=True)
        offset = (face.width - side) // 2
        canvas.paste(face, (left - offset, top - offset), mask)
    else:
        canvas.paste(face, (left, top))


def composite(rng: np.random.Generator, files: list[Path], size: tuple[int, int], count: int,
              sizes: tuple[int, int] = (48, 600), angle: float = 0.0, small: int = 0) -> Composite:
    """A canvas with ``count`` readable faces (sides log-uniform in ``sizes``) and ``small`` faces of
    24-40 px (too small to read), none overlapping; each readable face tilted by +-``angle``."""
    width, height = size
    canvas = textured_canvas(size, rng)
    placed: list[TruthFace] = []
    wanted = [("big", i) for i in range(count)] + [("small", i) for i in range(small)]
    for kind, _ in wanted:
        top_side = min(sizes[1], min(width, height) // 3)
        if kind == "big":
            side = int(round(np.exp(rng.uniform(np.log(sizes[0]), np.log(max(sizes[0], top_side))))))
        else:
            side = int(rng.integers(24, 41))
        tilt = float(angle * rng.choice((-1, 1))) if kind == "big" else 0.0
        margin = int(side * 0.25) + 2
        for _attempt in range(200):
            left = int(rng.integers(margin, max(margin + 1, width - side - margin)))
            top = int(rng.integers(margin, max(margin + 1, height - side - margin)))
            if all(_apart(left, top, side, other) for other in placed):
                break
        else:
            continue
        path = files[int(rng.integers(len(files)))]
        paste_face(canvas, path, left, top, side, tilt)
        placed.append(TruthFace(left, top, side, tilt, f"{path.parent.name}/{path.name}"))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return Composite(out.getvalue(), size, tuple(placed))


def _apart(left: int, top: int, side: int, other: TruthFace) -> bool:
    gap = 0.3 * max(side, other.side)  # rotated corners and the detector's box need room
    return (left + side + gap <= other.left or other.left + other.side + gap <= left
            or top + side + gap <= other.top or other.top + other.side + gap <= top)


def composites(seed: int = 0, count: int = 40) -> Iterator[Composite]:
    """The evaluation set: ``count`` canvases of 640-4000 px with 1-12 upright faces and a few tiny ones."""
    rng = np.random.default_rng(seed)
    files = fer_files()
    for i in range(count):
        size = CANVASES[i % len(CANVASES)]
        yield composite(rng, files, size, int(rng.integers(1, 13)), small=int(rng.integers(0, 3)))


def rotated_composites(seed: int = 1, count: int = 40, angle: float = 30.0) -> Iterator[Composite]:
    """One face tilted by +-``angle`` degrees (96-400 px) per 640-1280 px canvas."""
    rng = np.random.default_rng(seed)
    files = fer_files()
    for i in range(count):
        size = CANVASES[i % 3]
        yield composite(rng, files, size, 1, sizes=(96, 400), angle=angle)


def no_face_images() -> Iterator[tuple[str, bytes]]:
    """(name, JPEG) of images without a human face: package sample photos and synthetic textures."""
    from skimage import data
    from sklearn.datasets import load_sample_images

    names = ("binary_blobs", "brick", "cat", "cell", "checkerboard", "chelsea", "clock", "coffee", "coins",
             "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo",
             "microaneurysms", "moon", "page", "retina", "rocket", "shepp_logan_phantom", "text")
    for name in names:
        yield name, _jpeg(getattr(data, name)())
    left, right, _ = data.stereo_motorcycle()
    yield "stereo_motorcycle", _jpeg(left)
    sample = load_sample_images()
    for name, image in zip(sample.filenames, sample.images):
        yield Path(name).stem, _jpeg(image)
    # Animal faces close up, as a pet photo would be: the cats' heads upscaled.
    yield "chelsea_head", _jpeg(Image.fromarray(data.chelsea()[20:220, 120:340]).resize((640, 582)))
    yield "cat_head", _jpeg(Image.fromarray(data.cat()[0:250, 80:380]).resize((768, 640)))
    yield "animal_collage", _jpeg(animal_collage())
    rng = np.random.default_rng(7)
    for i in range(10):
        yield f"texture_{i}", _jpeg(_texture(rng, i))


def animal_collage(person: bool = False) -> Image.Image:
    """A 1600x1200 collage of the package sample animals (the two cats whole and their heads close
    up, the horse), as a pet album page would be; with ``person``, the astronaut's portrait too."""
    from skimage import data

    tiles = [data.chelsea(), data.cat(), data.chelsea()[20:220, 120:340], data.cat()[0:250, 80:380],
             data.horse(), data.astronaut()[0:260, 120:330] if person else data.chelsea()[::-1]]
    canvas = Image.new("RGB", (1600, 1200), (235, 230, 220))
    for i, tile in enumerate(tiles):
        picture = Image.fromarray(_to_uint8(tile)).convert("RGB")
        picture.thumbnail((500, 560))
        left, top = 20 + (i % 3) * 530, 20 + (i // 3) * 590
        canvas.paste(picture, (left, top))
    return canvas


def _texture(rng: np.random.Generator, kind: int) -> np.ndarray:
    size = (480, 640)
    if kind % 5 == 0:  # noise blurred to several grain sizes
        noise = rng.normal(128, 60, size).astype(np.float32)
        return np.asarray(Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1 + kind)))
    if kind % 5 == 1:  # stripes at an angle
        yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
        period = 6 + 4 * kind
        return (127 + 120 * np.sin((xx * np.cos(kind) + yy * np.sin(kind)) * 2 * np.pi / period)).astype(np.uint8)
    if kind % 5 == 2:  # random ellipses: blobs that could pass for eyes and mouths
        image = Image.new("RGB", size[::-1], tuple(int(v) for v in rng.integers(80, 200, 3)))
        draw = ImageDraw.Draw(image)
        for _ in range(60):
            x, y = int(rng.integers(0, size[1])), int(rng.integers(0, size[0]))
            r = int(rng.integers(4, 40))
            draw.ellipse((x - r, y - r // 2, x + r, y + r // 2), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        return np.asarray(image)
    if kind % 5 == 3:  # a checkerboard of random cell sizes
        cell = int(rng.integers(8, 60))
        yy, xx = np.mgrid[0 : size[0], 0 : size[1]]
        return (((xx // cell + yy // cell) % 2) * 200 + 25).astype(np.uint8)
    # smooth colour clouds
    small = rng.uniform(0, 255, (6, 8, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize(size[::-1], Image.Resampling.BICUBIC))


def _jpeg(pixels: np.ndarray | Image.Image) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(_to_uint8(pixels))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == bool:
        return pixels.astype(np.uint8) * 255
    if pixels.dtype != np.uint8:
        values = pixels.astype(np.float64)
        span = values.max() - values.min()
        return ((values - values.min()) / (span or 1) * 255).astype(np.uint8)
    return pixels
