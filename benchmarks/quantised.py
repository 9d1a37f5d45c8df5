"""Quantised exports measured: ``python -m benchmarks.quantised --h5 ml/models/mobilenetv2_fer2013_8.h5``.

Exports the Keras model as float32 (the served format), float16 weights, dynamic-range int8 and
full int8 (calibrated on FER2013 training faces), and full int8 with the layers that quantise worst
(by TensorFlow's quantisation debugger) kept in float32, then prints for each: file size, LiteRT time per
face, and accuracy on the FER2013 test split as served (mirror averaging per the model's metadata).
A quantised export is worth serving only if its accuracy drops by at most 0.5 points.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from recognizer.preprocess import faces_to_input

REPO = Path(__file__).resolve().parents[1]
FER = REPO.parent / "shared" / "data" / "fer2013"
MAX_DROP_POINTS = 0.5


def converter_for(model: object, variant: str, calibration: np.ndarray) -> object:
    """A LiteRT converter of ``model`` set up for one variant (float32, float16, dynamic_int8, int8)."""
    import tensorflow as tf

    # from_keras_model: converting a concrete function of a model loaded from .h5 dropped its weights
    # (a 0.2 MB file) in TF 2.21; the Keras entry point captures them.
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":

        def representative() -> Iterator[list[np.ndarray]]:
            for face in calibration:
                yield [faces_to_input([face])]

        converter.representative_dataset = representative
        # Float input and output stay, so the runtime's interface does not change.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter


def convert(model: object, variant: str, calibration: np.ndarray) -> bytes:
    """The .tflite flatbuffer of ``model`` for one variant (see :func:`converter_for`)."""
    return converter_for(model, variant, calibration).convert()


def worst_quantised_layers(model: object, calibration: np.ndarray) -> list[str]:
    """Tensor names of the int8 model, worst first by quantisation error (RMSE in units of the scale).

    TensorFlow's quantisation debugger runs float and int8 side by side on the calibration faces.
    """
    import csv
    import io

    import tensorflow as tf

    converter = converter_for(model, "int8", calibration)
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter,
                                                         debug_dataset=converter.representative_dataset)
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    rows = list(csv.DictReader(io.StringIO(dump.getvalue())))
    rows.sort(key=lambda r: -np.sqrt(float(r["mean_squared_error"])) / float(r["scale"]))
    return [r["tensor_name"] for r in rows]


def selective_int8(model: object, calibration: np.ndarray, float_layers: list[str]) -> bytes:
    """int8 everywhere except ``float_layers``, which stay float32."""
    import tensorflow as tf

    converter = converter_for(model, "int8", calibration)
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=float_layers)
    debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_options=options,
                                                         debug_dataset=converter.representative_dataset)
    return debugger.get_nondebug_quantized_model()


def per_face_ms(path: Path, faces: np.ndarray, threads: int) -> float:
    """Median LiteRT milliseconds for one face (batch of 1)."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=threads)
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    times = []
    for i in range(60):
        interpreter.set_tensor(index, faces_to_input([faces[i % len(faces)]]))
        started = time.perf_counter()
        interpreter.invoke()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[10:])


def main() -> None:
    """Export every variant and print size, speed and accuracy against float32."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--h5", type=Path, required=True, help="the trained Keras model (.h5)")
    parser.add_argument("--data", type=Path, default=FER)
    parser.add_argument("--limit", type=int, default=0, help="evaluate on the first N test faces (0: all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=["float32", "float16", "dynamic_int8", "int8"],
                        help="plain exports to measure (float32 first: the others are compared with it)")
    parser.add_argument("--float-layers", type=int, nargs="*", default=[4, 8, 16],
                        help="also try int8 with this many worst-quantised layers kept float32 (each count one export)")
    args = parser.parse_args()

    import keras

    from ml.datasets import load_split
    from ml.evaluate import predict_faces
    from recognizer.recipe import ServingRecipe

    model = keras.models.load_model(args.h5, compile=False)
    test = load_split(args.data, "test")
    images, labels = test.images, test.labels
    if args.limit:
        chosen = np.random.default_rng(0).permutation(len(labels))[: args.limit]
        images, labels = images[chosen], labels[chosen]
    calibration = load_split(args.data, "train").images[::100][:300]
    served = args.h5.with_suffix(".tflite")
    flip = ServingRecipe.for_model(served).mirror if served.exists() else True
    print(f"{args.h5.name}: {len(labels)} FER2013 test faces, mirror averaging {'on' if flip else 'off'}, "
          f"LiteRT threads {args.threads}")
    baseline: float | None = None
    ranked: list[str] = []
    variants = [*args.variants, *(f"int8_float{n}" for n in args.float_layers)]
    with tempfile.TemporaryDirectory() as scratch:
        for variant in variants:
            path = Path(scratch) / f"{variant}.tflite"
            try:
                if variant.startswith("int8_float"):
                    ranked = ranked or worst_quantised_layers(model, calibration[:100])
                    kept = ranked[: int(variant.removeprefix("int8_float"))]
                    print(f"  {variant}: float32 kept for {', '.join(kept)}")
                    path.write_bytes(selective_int8(model, calibration, kept))
                else:
                    path.write_bytes(convert(model, variant, calibration))
            except Exception as exc:  # noqa: BLE001  a converter refusal is a result to report, not a crash
                print(f"  {variant:13s} export failed: {exc}")
                continue
            accuracy = float((predict_faces(path, images, ServingRecipe(mirror=flip), threads=args.threads).argmax(1) == labels).mean())
            baseline = accuracy if baseline is None else baseline
            drop = (baseline - accuracy) * 100
            verdict = "" if variant == "float32" else ("  usable" if drop <= MAX_DROP_POINTS else "  NOT usable (drop > 0.5)")
            print(f"  {variant:13s} {path.stat().st_size / 2**20:6.1f} MiB  {per_face_ms(path, images, args.threads):6.2f} ms/face  "
                  f"accuracy {accuracy * 100:6.2f}%  drop {drop:+.2f} pts{verdict}")


if __name__ == "__main__":
    main()
