"""Tests for recognizer.faces: detection on realistic photos and FER2013-style square crops."""

import numpy as np
from PIL import Image

from recognizer.faces import Box, crop_square, detect_faces

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
    box_small = detect_faces(small, sides=(320,))[0].box
    box_big = detect_faces(big, sides=(320,))[0].box
    assert abs(box_big.x - 2 * box_small.x) <= 6 and abs(box_big.w - 2 * box_small.w) <= 8


def test_face_cut_by_the_border_is_found_and_crop_is_padded() -> None:
    image = photo([(fer_face(3), (-70, 120), 240)], size=(640, 480))
    faces = detect_faces(_rgb(image))
    assert faces, "a face partly outside the photo should still be found"
    box = faces[0].box
    assert box.x < 0 or box.clipped(640, 480).x == 0
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
    image = _rgb(photo([(fer_face(3), (300, 200), 64)], size=(640, 480)))
    assert detect_faces(image, sides=(160,)) == []
    faces = detect_faces(image)
    assert len(faces) == 1
    box = faces[0].box
    assert 300 <= box.x + box.w / 2 <= 364 and 200 <= box.y + box.h / 2 <= 264
