"""One plan head trained on the cached frozen-part features, with the plan's callbacks, resumable.

``flask train-model`` trains one or more heads (and, when distilling, a student head) through
:func:`train_head`; a head finished in an interrupted run is taken from the feature cache instead of
being trained again.
"""

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from rich.console import Console

from ml import callbacks
from ml.features import FeatureCache
from ml.fused_batchnorm import fused_batchnorm
from ml.model import PlanModel, compile_model
from ml.views import CachedViews

if TYPE_CHECKING:
    from ml.train import TrainConfig

console = Console()
# Training steps Keras runs per call into TensorFlow. More per call (16) saved nothing measurable
# beside the top's few-millisecond steps (flask benchmark-training times both), so one.
STEPS_PER_EXECUTION = 1


@dataclass
class HeadRun:
    """One plan head trained on the cached features: its full model and how its training went."""

    model: keras.Model
    epochs_run: int
    best_epoch: int
    best_val_accuracy: float
    stopped_by_time_budget: bool
    fit_seconds: float
    checkpoint: Path | None = None

    def summary(self) -> dict[str, Any]:
        """What the metadata records of this head."""
        return {"epochs_run": self.epochs_run, "best_epoch": self.best_epoch,
                "best_val_accuracy": round(self.best_val_accuracy, 4),
                "stopped_by_time_budget": self.stopped_by_time_budget, "fit_seconds": round(self.fit_seconds, 1)}

    def forget_checkpoint(self) -> None:
        """Delete the finished head's checkpoint once the run's files are written."""
        if self.checkpoint is not None:
            self.checkpoint.unlink(missing_ok=True)
            self.checkpoint.with_suffix("").with_suffix(".json").unlink(missing_ok=True)


def train_head(plan: PlanModel, config: "TrainConfig", data: CachedViews, validation: tuple[np.ndarray, np.ndarray],
               class_weights: dict[int, float] | None, history_csv: Path, cache: FeatureCache | None, name: str,
               minutes: float | None = None) -> HeadRun:
    """Fit one plan head (its trainable top) on the cached features, with the plan's callbacks.

    ``class_weights`` None: the data carries per-image sample weights instead (a distilled head). With a cache, a finished head is kept there until the run's files are written, so a run
    interrupted while training a later head resumes after the heads already done; the epoch being
    trained resumes through BackupAndRestore. ``minutes`` is this head's time budget (None: none).
    """
    checkpoint = cache.root / f"{name}.weights.h5" if cache else None
    if checkpoint is not None and checkpoint.is_file():
        plan.model.load_weights(checkpoint)
        done = json.loads(checkpoint.with_suffix("").with_suffix(".json").read_text())
        console.print(f"{name}: finished in an earlier, interrupted run; taken from {checkpoint}")
        return HeadRun(plan.model, checkpoint=checkpoint, **done)
    top = plan.trainable_part(config.batchnorm_inference)
    compile_model(top, config.learning_rate, STEPS_PER_EXECUTION, config.label_smoothing, config.ema_momentum)
    budget = callbacks.TimeBudget(minutes)
    started = time.monotonic()
    with fused_batchnorm(top):
        history = top.fit(
            data, validation_data=validation, epochs=config.epochs, class_weight=class_weights,
            callbacks=[*callbacks.plan_callbacks(str(history_csv), cache.backup_dir(name) if cache else None,
                                                 ema=config.ema_momentum > 0),
                       budget, callbacks.EpochProgress(config.epochs)],
            verbose=2,
        )
    run = HeadRun(plan.model, epochs_run=len(history.history["loss"]),
                  best_epoch=int(np.argmax(history.history["val_accuracy"])) + 1,
                  best_val_accuracy=float(max(history.history["val_accuracy"])),
                  stopped_by_time_budget=budget.triggered, fit_seconds=time.monotonic() - started)
    if checkpoint is not None:
        plan.model.save_weights(checkpoint)
        summary = {k: v for k, v in asdict(run).items() if k not in ("model", "checkpoint")}
        checkpoint.with_suffix("").with_suffix(".json").write_text(json.dumps(summary))
        run.checkpoint = checkpoint
    return run
