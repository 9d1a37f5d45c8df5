"""YuNet-n on onnxruntime: one forward pass over a BGR image and the decoding of its outputs.

The network is fully convolutional: it takes any float32 NCHW BGR image (0-255, no normalisation)
whose sides are multiples of 32, and answers per stride s of 8, 16 and 32 with one row per cell of
the s-pixel grid: ``cls_s`` and ``obj_s`` (the face score is their geometric mean), ``bbox_s`` (the
box centre's offset from the cell and its log width and height, in strides) and ``kps_s`` (five
landmarks, offsets from the cell in strides: right eye, left eye, nose tip, right and left mouth
corners, "right" meaning the person's right, on the image's left).
"""

import functools
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import onnxruntime

MODEL_PATH: Final = Path(__file__).with_name("yunet_n_dynamic.onnx")
STRIDES: Final = (8, 16, 32)
# Boxes overlapping more than this (intersection over union) are one face: the threshold
# libfacedetection and OpenCV's FaceDetectorYN use with this network.
NMS_IOU: Final = 0.3
# At most this many candidates per image go to NMS (the surest): NMS's cost grows with the square
# of their number, and a 2151x1613 pass over uniform noise gave 56,000 candidates of 0.05 or more
# (14 s of NMS), where the 40 composites gave at most 1,263 and the no-face set 115.
TOP_K: Final = 2000
# The network's own floor: below it a cell is not a candidate at all (callers choose their score).
MIN_CANDIDATE_SCORE: Final = 0.3

# One detection per row: score (0..1), x, y, w, h (top-left corner and size), then the five
# landmarks as x, y pairs, all in the input image's pixels.
Detection = np.ndarray


class YuNet:
    """A YuNet-n session on ``num_threads`` CPU threads; build one per process (see face_detector)."""

    def __init__(self, num_threads: int = 1, model_path: Path = MODEL_PATH) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, num_threads)
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Idle pool threads sleep instead of spinning: on a 2-core host shared with LiteRT, the web
        # and a second worker process, spinning threads burn the CPU the others need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.num_threads = options.intra_op_num_threads
        self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [output.name for output in self._session.get_outputs()]

    def run(self, bgr: np.ndarray) -> dict[str, np.ndarray]:
        """The network's raw outputs (name -> array) for an (h, w, 3) uint8 BGR image, padded with
        black on the right and bottom to multiples of 32."""
        height, width = bgr.shape[:2]
        padded_h, padded_w = -(-height // 32) * 32, -(-width // 32) * 32
        blob = np.zeros((1, 3, padded_h, padded_w), dtype=np.float32)
        blob[0, :, :height, :width] = bgr.transpose(2, 0, 1)
        values = self._session.run(self._outputs, {self._input: blob})
        return dict(zip(self._outputs, values))

    def detect(self, bgr: np.ndarray, min_score: float = MIN_CANDIDATE_SCORE) -> Detection:
        """(n, 15) detections (see ``Detection``) scoring at least ``min_score``, after NMS, surest first."""
        height, width = bgr.shape[:2]
        return decode_outputs(self.run(bgr), -(-width // 32) * 32, -(-height // 32) * 32, min_score)


def decode_outputs(outputs: dict[str, np.ndarray], padded_width: int, padded_height: int,
                   min_score: float = MIN_CANDIDATE_SCORE, nms_iou: float = NMS_IOU) -> Detection:
    """Boxes, scores and landmarks from YuNet's outputs for a ``padded_width`` x ``padded_height``
    input, the ``TOP_K`` surest candidates merged by OpenCV's NMS (``cv2.dnn.NMSBoxes``); surest first."""
    rows = []
    for stride in STRIDES:
        cols = padded_width // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0.0, 1.0)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= min_score)
        if keep.size == 0:
            continue
        cell_x = (keep % cols).astype(np.float64)
        cell_y = (keep // cols).astype(np.float64)
        bbox = outputs[f"bbox_{stride}"].reshape(-1, 4)[keep].astype(np.float64)
        kps = outputs[f"kps_{stride}"].reshape(-1, 10)[keep].astype(np.float64)
        centre_x = (cell_x + bbox[:, 0]) * stride
        centre_y = (cell_y + bbox[:, 1]) * stride
        w = np.exp(bbox[:, 2]) * stride
        h = np.exp(bbox[:, 3]) * stride
        points = np.empty_like(kps)
        points[:, 0::2] = (kps[:, 0::2] + cell_x[:, None]) * stride
        points[:, 1::2] = (kps[:, 1::2] + cell_y[:, None]) * stride
        rows.append(np.column_stack([score[keep], centre_x - w / 2, centre_y - h / 2, w, h, points]))
    if not rows:
        return np.zeros((0, 15))
    found = np.concatenate(rows)
    if len(found) > TOP_K:
        found = found[np.argpartition(-found[:, 0], TOP_K - 1)[:TOP_K]]
    kept = cv2.dnn.NMSBoxes(found[:, 1:5].tolist(), found[:, 0].tolist(), min_score, nms_iou)
    kept = np.asarray(kept, dtype=np.int64).reshape(-1)
    return found[kept[np.argsort(-found[kept, 0], kind="stable")]]


@functools.cache
def face_detector(num_threads: int = 1) -> YuNet:
    """This process's detector on ``num_threads`` threads, created on first use and kept: loading
    and planning the network costs far more than one detection."""
    return YuNet(num_threads)
