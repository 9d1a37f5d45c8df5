"""An ensemble of plan heads on one frozen trunk, assembled into one servable model.

Every plan model freezes the same bottom 70% of MobileNetV2 with the same ImageNet weights, so
models trained separately (other seeds, other augmentation) differ only above the boundary layer.
Assembling them keeps one copy of the frozen trunk and runs each member's trainable top on its
output; the ensemble's output is the mean of the members' probabilities. Serving pays the trunk once
and each further head about 37% of a model, and the result is one Keras model and one ``.tflite``
that the serving recipe (mirror, prior, temperature, bands) treats like any single model.
"""

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from recognizer.metadata import read_metadata, write_metadata
from recognizer.recipe import file_sha256, model_version

from ml import metadata
from ml.export import export_tflite
from ml.model import FREEZE_FRACTION


class TrunkMismatch(ValueError):
    """Members whose frozen layers differ cannot share one trunk."""


@dataclass(frozen=True)
class Ensemble:
    """The assembled model and the boundary it was split at."""

    model: keras.Model
    frozen_count: int
    heads: int

    def architecture(self, member: dict[str, Any]) -> dict[str, Any]:
        """A member's ``architecture`` metadata record, made this ensemble's (parameters, heads)."""
        return {**member, "parameters": int(self.model.count_params()),
                "ensemble": {"heads": self.heads, "combination": "mean of the heads' probabilities",
                             "shared_frozen_layers": self.frozen_count}}


def boundary_index(model: keras.Model) -> int:
    """How many of a plan model's layers (input included, as ``PlanModel`` counts) are frozen."""
    base_layers = len(model.layers) - 3  # the head: pooling, dropout, dense
    return int(base_layers * FREEZE_FRACTION)


def check_shared_trunk(members: list[keras.Model], frozen_count: int) -> None:
    """Raise :class:`TrunkMismatch` unless every member's frozen layers hold the first member's weights."""
    reference = members[0]
    for index, member in enumerate(members[1:], start=2):
        if len(member.layers) != len(reference.layers):
            raise TrunkMismatch(f"Member {index} has {len(member.layers)} layers, member 1 {len(reference.layers)}: "
                                "only models of the same plan can share a trunk.")
        for mine, theirs in zip(reference.layers[:frozen_count], member.layers[:frozen_count]):
            for a, b in zip(mine.get_weights(), theirs.get_weights()):
                if a.shape != b.shape or not np.array_equal(a, b):
                    raise TrunkMismatch(f"Member {index}'s frozen layer {theirs.name} differs from member 1's: "
                                        "were both trained from the same ImageNet weights with the plan's freeze?")


def assemble(members: list[keras.Model]) -> Ensemble:
    """One model: member 1's frozen trunk, then every member's trainable top, probabilities averaged."""
    if not members:
        raise ValueError("An ensemble needs at least one member model.")
    frozen_count = boundary_index(members[0])
    check_shared_trunk(members, frozen_count)
    trunk = members[0].layers[frozen_count - 1].output
    heads = []
    for index, member in enumerate(members, start=1):
        top = keras.Model(member.layers[frozen_count - 1].output, member.output, name=f"head_{index}")
        heads.append(top(trunk))
    output = heads[0] if len(heads) == 1 else layers.Average(name="ensemble_probabilities")(heads)
    return Ensemble(keras.Model(members[0].input, output, name="emotune_mobilenetv2_ensemble"), frozen_count,
                    len(members))


def build_files(member_paths: list[Path], model_path: Path, faces: np.ndarray) -> dict[str, Any]:
    """Assemble the members saved at ``member_paths`` and write ``model_path`` (.h5), its ``.tflite`` and
    its metadata (member 1's, with this model's files, members and export agreement on ``faces``).

    The serving decisions (prior, temperature, bands) and the test report are not made here:
    ``ml.serving.tune_serving`` makes them on the validation split afterwards.
    """
    members = [keras.models.load_model(path, compile=False) for path in member_paths]
    ensemble = assemble(members)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    ensemble.model.save(model_path)
    tflite_path = export_tflite(ensemble.model, model_path.with_suffix(".tflite"))
    member_meta = [read_metadata(path) for path in member_paths]
    meta = copy.deepcopy(member_meta[0])
    meta["name"] = model_path.stem
    meta["version"] = model_version(tflite_path)
    meta["files"] = {"h5": model_path.name, "tflite": tflite_path.name,
                     "h5_sha256": file_sha256(model_path), "tflite_sha256": file_sha256(tflite_path)}
    meta["architecture"] = ensemble.architecture(meta["architecture"])
    meta["members"] = [{"name": m["name"], "tflite_sha256": m["files"]["tflite_sha256"],
                        "augmentation": m["hyperparameters"]["augmentation"], "training": m["training"],
                        "test": {k: m["metrics"]["test"][k] for k in ("accuracy", "macro_f1")}} for m in member_meta]
    meta["export_agreement"] = metadata.export_agreement(ensemble.model, tflite_path, faces)
    meta.pop("serving", None)  # decided afresh for the ensemble, on the validation split
    write_metadata(model_path, meta)
    return meta
