"""Tests for recognizer.detector: decoding YuNet's outputs (boxes, landmarks, NMS) and the session."""

import time

import cv2
import numpy as np

from recognizer.detector import MODEL_PATH, YuNet, decode_outputs, face_detector
from recognizer.detector.yunet import TOP_K

from tests.recognizer.photos import fer_face, photo


def _outputs(width: int, height: int) -> dict[str, np.ndarray]:
    """All-zero outputs (no candidate anywhere) for a ``width`` x ``height`` padded input."""
    outputs = {}
    for stride in (8, 16, 32):
        cells = (width // stride) * (height // stride)
        for name, values in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10)):
            outputs[f"{name}_{stride}"] = np.zeros((1, cells, values), np.float32)
    return outputs


def _cell(outputs: dict[str, np.ndarray], stride: int, width: int, row: int, col: int, cls: float, obj: float,
          bbox: tuple[float, float, float, float], kps: tuple[float, ...] = (0.0,) * 10) -> None:
    index = row * (width // stride) + col
    outputs[f"cls_{stride}"][0, index, 0] = cls
    outputs[f"obj_{stride}"][0, index, 0] = obj
    outputs[f"bbox_{stride}"][0, index] = bbox
    outputs[f"kps_{stride}"][0, index] = kps


def test_one_cell_decodes_to_its_box_landmarks_and_score() -> None:
    outputs = _outputs(64, 64)
    kps = (0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 1.0, 1.0)
    # Stride 8, cell (row 2, col 3): centre (3 + 0.5, 2 + 0.5) strides = (28, 20) px, size e^log2 x e^log3 strides.
    _cell(outputs, 8, 64, 2, 3, cls=0.81, obj=1.0, bbox=(0.5, 0.5, np.log(2), np.log(3)), kps=kps)
    rows = decode_outputs(outputs, 64, 64, min_score=0.5)
    assert rows.shape == (1, 15)
    score, x, y, w, h = rows[0, :5]
    assert np.isclose(score, 0.9)  # sqrt(0.81 * 1.0)
    assert np.allclose((x, y, w, h), (28 - 8, 20 - 12, 16, 24))
    # Landmarks: (col + dx, row + dy) strides.
    assert np.allclose(rows[0, 5:], [24, 16, 32, 16, 28, 20, 24, 24, 32, 24])


def test_scores_below_the_floor_are_dropped_and_scores_are_clipped() -> None:
    outputs = _outputs(64, 64)
    _cell(outputs, 16, 64, 1, 1, cls=0.3, obj=0.3, bbox=(0, 0, 0, 0))  # score 0.3
    _cell(outputs, 32, 64, 0, 1, cls=1.2, obj=-0.1, bbox=(0, 0, 0, 0))  # clipped: 0
    assert decode_outputs(outputs, 64, 64, min_score=0.31).shape == (0, 15)
    rows = decode_outputs(outputs, 64, 64, min_score=0.29)
    assert len(rows) == 1 and np.isclose(rows[0, 0], 0.3) and np.allclose(rows[0, 1:5], (8, 8, 16, 16))


def test_nms_keeps_the_surest_of_overlapping_boxes_and_separate_faces() -> None:
    outputs = _outputs(128, 128)
    # The same 32 px face at strides 8 and 16 (IoU ~0.8), and a separate face far away.
    _cell(outputs, 8, 128, 4, 4, cls=0.64, obj=1.0, bbox=(0.5, 0.5, np.log(4), np.log(4)))  # 0.8, centre (36, 36)
    _cell(outputs, 16, 128, 2, 2, cls=0.81, obj=1.0, bbox=(0.3, 0.3, np.log(2), np.log(2)))  # 0.9, centre (36.8, 36.8)
    _cell(outputs, 16, 128, 6, 6, cls=0.49, obj=1.0, bbox=(0.5, 0.5, np.log(2), np.log(2)))  # 0.7, centre (104, 104)
    rows = decode_outputs(outputs, 128, 128, min_score=0.5)
    assert np.allclose(rows[:, 0], [0.9, 0.7])  # surest first, the weaker duplicate gone
    assert np.allclose(rows[0, 1:5], (20.8, 20.8, 32, 32)) and np.allclose(rows[1, 1:5], (88, 88, 32, 32))


def test_only_the_surest_candidates_reach_nms() -> None:
    # Every stride-8 cell of a 1024x1024 input a separate 4 px candidate (16,384 of them, as a noisy
    # texture gives), scores rising along the grid: NMS keeps TOP_K of them, the surest.
    outputs = _outputs(1024, 1024)
    cells = (1024 // 8) ** 2
    outputs["cls_8"][0, :, 0] = np.linspace(0.1, 0.9, cells)
    outputs["obj_8"][0, :, 0] = 1.0
    outputs["bbox_8"][0, :, :2] = 0.5
    outputs["bbox_8"][0, :, 2:] = np.log(0.5)
    started = time.process_time()
    rows = decode_outputs(outputs, 1024, 1024, min_score=0.05)
    assert time.process_time() - started < 1.0
    assert len(rows) == TOP_K < cells
    assert np.isclose(rows[0, 0], np.sqrt(0.9)) and rows[-1, 0] >= np.sqrt(np.linspace(0.1, 0.9, cells)[-TOP_K]) - 1e-6


def test_detections_match_opencvs_own_yunet_decoder() -> None:
    # cv2.FaceDetectorYN runs the same file with OpenCV's C++ decoding and NMS: an independent answer.
    image = np.asarray(photo([(fer_face(3), (192, 112), 256), (fer_face(5), (20, 20), 100)], size=(640, 480)))
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    reference = cv2.FaceDetectorYN.create(str(MODEL_PATH), "", (640, 480), 0.5, 0.3).detect(bgr)[1]
    ours = YuNet(num_threads=1).detect(bgr, min_score=0.5)
    assert reference is not None and len(ours) == len(reference) == 2
    order = np.argsort(-reference[:, 14])
    assert np.allclose(ours[:, 1:], reference[order, :14], atol=0.05)
    assert np.allclose(ours[:, 0], reference[order, 14], atol=1e-4)


def test_detector_is_built_once_per_process_and_thread_count() -> None:
    assert face_detector(1) is face_detector(1)
    assert face_detector(2) is not face_detector(1) and face_detector(2).num_threads == 2


def test_odd_sizes_are_padded_to_multiples_of_32() -> None:
    outputs = YuNet().run(np.zeros((50, 70, 3), np.uint8))
    assert outputs["cls_8"].shape[1] == (64 // 8) * (96 // 8) and outputs["cls_32"].shape[1] == 2 * 3
