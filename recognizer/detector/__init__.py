"""The face detector: YuNet-n (ShiqiYu/libfacedetection.train, Apache-2.0) run by onnxruntime.

The network's ONNX file ships inside this package (see NOTICE and LICENSE beside it), so nothing is
downloaded at run time and onnxruntime's wheels carry it to every platform the service supports.
"""

from recognizer.detector.yunet import MODEL_PATH, Detection, YuNet, decode_outputs, face_detector

__all__ = ["MODEL_PATH", "Detection", "YuNet", "decode_outputs", "face_detector"]
