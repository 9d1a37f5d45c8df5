"""Tests for recognizer.faces, .crops and .face_gate: detection on realistic photos, the quality
gate and FER2013-style square crops."""

import gc
import os

import cv2
import numpy as np
from PIL import Image

from recognizer import faces
from recognizer.crops import FRAME_BOX_WIDTH, FRAME_CENTRE_X, FRAME_CENTRE_Y, Box, DetectedFace, crop_angle, crop_square
from recognizer.detector import YuNet, face_detector
from recognizer.face_gate import SMALL_FRAME, SURE_SCORE, SURE_SCORE_LARGE, face_quality
from recognizer.faces import DETECTOR_MAX_BOX, DETECTOR_MIN_BOX, detect_faces, detection_scales

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
            lefts.append(box.x + box.w / 2 - (FRAME_CENTRE_X - 0.5) * side - side / 2)
            tops.append(box.y + box.h / 2 - (FRAME_CENTRE_Y - 0.5) * side - side / 2)
            sides.append(side)
    assert len(sides) >= 25
    assert abs(np.median(sides) - 256) < 0.08 * 256
    assert abs(np.median(lefts) - 192) < 12 and abs(np.median(tops) - 112) < 16


def test_box_helpers() -> None:
    box = Box(-10, 5, 50, 40)
    assert box.clipped(30, 100) == Box(0, 5, 30, 40)
    assert box.scaled(2.0) == Box(-20, 10, 100, 80)


def test_small_face_is_found_only_when_the_pass_reaches_its_size() -> None:
    image = _rgb(photo([(fer_face(3), (300, 200), 64)], size=(1280, 960)))
    # min_face=400 runs the one pass where a 400 px face gets the smallest box: this 64 px face
    # is then a few pixels wide, too small for the network.
    assert detect_faces(image, min_face=400, rotations=()) == []
    found = detect_faces(image)
    assert len(found) == 1
    box = found[0].box
    assert 300 <= box.x + box.w / 2 <= 364 and 200 <= box.y + box.h / 2 <= 264


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def test_thousands_of_detections_keep_memory_flat() -> None:
    image = _rgb(photo([(fer_face(3), (50, 20), 80)], size=(160, 120)))
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    detector = face_detector()
    for _ in range(50):
        detector.detect(bgr)
    gc.collect()
    before = _rss_mb()
    for i in range(3000):
        rows = detector.detect(bgr)
        if i % 500 == 0:
            assert len(rows) >= 1 and rows[0][0] >= 0.5  # still finding the face
    gc.collect()
    grown = _rss_mb() - before
    assert grown < 8, f"resident memory grew {grown:.1f} MB over 3,000 detections"


def test_one_pass_reaches_48_px_faces_and_a_coarse_one_only_where_faces_can_be_too_large() -> None:
    finest = DETECTOR_MIN_BOX / (48 * FRAME_BOX_WIDTH)
    assert detection_scales(1280, 960) == [finest]  # a 960 px face is within the largest box there
    scales = detection_scales(4000, 3000)
    assert len(scales) == 2 and scales[-1] == finest and scales[0] == DETECTOR_MAX_BOX / 3000
    assert detection_scales(2000, 1500, min_face=48)[-1] == finest
    assert detection_scales(200, 150) == [1.0]  # a small photo is searched whole
    assert detection_scales(320, 240, min_face=10) == [1.0]  # never enlarged


def test_tilted_face_is_found_and_its_crop_levelled() -> None:
    # Turned 45 degrees counter-clockwise: the crop turns it back (clockwise, a negative angle),
    # levelled on the eyes.
    face = fer_face(1).convert("RGB").resize((200, 200), Image.Resampling.BICUBIC)
    mask = Image.new("L", (200, 200), 255).rotate(45, expand=True)
    canvas = photo([], size=(640, 480))
    canvas.paste(face.rotate(45, Image.Resampling.BICUBIC, expand=True), (180, 100), mask)
    faces = detect_faces(_rgb(canvas))
    assert len(faces) == 1
    assert -60 < crop_angle(faces[0]) < -30
    centre = (faces[0].box.x + faces[0].box.w / 2, faces[0].box.y + faces[0].box.h / 2)
    assert 260 < centre[0] < 400 and 180 < centre[1] < 320


def test_rotated_retry_finds_a_face_the_upright_pass_misses() -> None:
    # Turned 60 degrees: the upright pass is unsure of it at best; the copy turned -30 degrees finds
    # it surely, and that detection (angle and landmarks) replaces the upright one.
    face = fer_face(1).convert("RGB").resize((200, 200), Image.Resampling.BICUBIC)
    mask = Image.new("L", (200, 200), 255).rotate(60, expand=True)
    canvas = photo([], size=(640, 480))
    canvas.paste(face.rotate(60, Image.Resampling.BICUBIC, expand=True), (180, 100), mask)
    assert all(face.score < faces.ROTATE_BELOW for face in detect_faces(_rgb(canvas), rotations=()))
    found = detect_faces(_rgb(canvas))
    assert len(found) == 1 and found[0].angle == -30 and found[0].score >= faces.ROTATE_BELOW


def test_quality_gate_refuses_landmarks_out_of_place() -> None:
    box = Box(100, 100, 100, 120)
    sure, unsure = (SURE_SCORE + 1) / 2, SURE_SCORE_LARGE * 0.8
    good = DetectedFace(box, sure, ((130, 140), (170, 140), (150, 165), (135, 190), (165, 190)))
    upside_down = DetectedFace(box, sure, ((130, 190), (170, 190), (150, 165), (135, 140), (165, 140)))
    squeezed = DetectedFace(box, sure, ((148, 140), (152, 140), (150, 165), (135, 190), (165, 190)))
    image = np.zeros((400, 400, 3), np.uint8)
    assert face_quality(image, good) is None  # sure score: no second look needed
    assert face_quality(image, upside_down) and face_quality(image, squeezed)
    # An unsure detection on a blank image does not survive the second look.
    assert face_quality(image, DetectedFace(box, unsure, good.landmarks)) is not None


def test_large_upright_faces_are_sure_at_a_lower_score_than_small_ones() -> None:
    # The same landmark layout at a frame above SMALL_FRAME and one below it, both scoring between
    # the two sure scores, on a blank image where any second look finds nothing.
    between = (SURE_SCORE + SURE_SCORE_LARGE) / 2
    image = np.zeros((600, 600, 3), np.uint8)

    def face(width: int, score: float, angle: float = 0.0) -> DetectedFace:
        x = y = 200
        points = ((x + 0.3 * width, y + 0.4 * width), (x + 0.7 * width, y + 0.4 * width), (x + 0.5 * width, y + 0.65 * width),
                  (x + 0.35 * width, y + 0.9 * width), (x + 0.65 * width, y + 0.9 * width))
        return DetectedFace(Box(x, y, width, round(1.2 * width)), score, points, angle)

    large = round(SMALL_FRAME * FRAME_BOX_WIDTH * 1.5)
    small = round(SMALL_FRAME * FRAME_BOX_WIDTH * 0.8)
    assert face_quality(image, face(large, between)) is None
    assert face_quality(image, face(small, between)) is not None  # small frames need SURE_SCORE
    assert face_quality(image, face(large, SURE_SCORE_LARGE - 0.05)) is not None
    assert face_quality(image, face(large, between, angle=30.0)) is not None  # turned finds always look again


def test_group_span_skips_faces_far_smaller_than_the_largest_unless_exhaustive() -> None:
    # A 1400 px face and a 110 px one (under 1/3 of it) in a 4000x3000 photo: the coarse pass finds
    # the large face, and with a span of 3 the fine pass stops well above 110 px faces.
    face = fer_face(3)
    image = _rgb(photo([(face, (300, 600), 1400), (face, (3000, 1200), 110)], size=(4000, 3000)))
    exhaustive = detect_faces(image, group_span=None)
    assert len(exhaustive) == 2 and exhaustive[1].box.w < 150
    spanned = detect_faces(image, group_span=3.0)
    assert len(spanned) == 1 and spanned[0].box.w > 700
    # A face within the span is still found: 1400 px and 600 px.
    near = _rgb(photo([(face, (300, 600), 1400), (face, (2500, 900), 600)], size=(4000, 3000)))
    assert len(detect_faces(near, group_span=3.0)) == 2


def test_no_pass_runs_twice_at_one_scale() -> None:
    """With a group span, where a coarse pass found a face the fine pass runs only as fine as the span needs,
    and not at all when the coarse pass already reached that (a photo filled by one face)."""
    sizes: list[tuple[int, int]] = []

    class Counting(YuNet):
        def detect(self, bgr: np.ndarray, min_score: float = 0.3) -> np.ndarray:
            sizes.append(bgr.shape[:2])
            return super().detect(bgr, min_score)

    detector = Counting()
    image = _rgb(photo([(fer_face(3), (800, 300), 1800)], size=(4000, 3000)))
    found = detect_faces(image, rotations=(), group_span=3.0, detector=detector)
    assert len(found) == 1 and found[0].box.w > 1000
    passes = [size for size in sizes if max(size) > 200]  # closer looks are 128 px
    assert len(passes) == 1, passes


def test_shrink_reaches_the_size_and_averages_like_an_area_filter() -> None:
    image = _rgb(one_face_photo((1280, 960), side=480))
    for size in ((688, 516), (640, 480), (243, 182)):
        small = faces.shrink(image, size)
        assert small.shape == (size[1], size[0], 3)
        reference = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        assert np.abs(small.astype(int) - reference.astype(int)).mean() < 2.5
