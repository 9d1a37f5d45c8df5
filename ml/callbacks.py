"""Keras callbacks of the training run: the plan's schedule plus terminal progress and a time budget."""

import time
from pathlib import Path

import keras
from tqdm import tqdm

from ml.model import LEARNING_RATE

EARLY_STOPPING_PATIENCE = 6
REDUCE_LR_PATIENCE = 3
REDUCE_LR_FACTOR = 0.2
MIN_LEARNING_RATE = 1e-6


class EpochProgress(keras.callbacks.Callback):
    """One progress bar over the run's epochs, with ETA and the latest metrics."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.bar = tqdm(total=epochs, desc="epochs", unit="epoch", dynamic_ncols=True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "val_loss", "val_accuracy")})
        self.bar.update(1)

    def on_train_end(self, logs: dict | None = None) -> None:
        self.bar.close()


class TimeBudget(keras.callbacks.Callback):
    """Stop before an epoch that would end past the budget (for CPU runs that must finish in time)."""

    def __init__(self, minutes: float | None) -> None:
        super().__init__()
        self.seconds = None if minutes is None else minutes * 60
        self.started = 0.0
        self.triggered = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.seconds is None:
            return
        elapsed = time.monotonic() - self.started
        if elapsed / (epoch + 1) + elapsed > self.seconds:
            self.triggered = True
            self.model.stop_training = True
            print(f"Time budget of {self.seconds / 60:.0f} min reached after epoch {epoch + 1}: stopping.")


def plan_callbacks(history_csv: str, backup_dir: Path | None = None, ema: bool = False) -> list[keras.callbacks.Callback]:
    """EarlyStopping(patience=6, best weights restored), ReduceLROnPlateau(patience=3), per-epoch CSV log.

    With ``backup_dir``, Keras's BackupAndRestore saves the run after every epoch, and a rerun of the
    same settings resumes from the last finished epoch instead of starting again. With ``ema`` (the
    optimiser keeps a moving average of the weights), validation, early stopping and the weights kept
    are the averaged ones.
    """
    backup = [keras.callbacks.BackupAndRestore(str(backup_dir))] if backup_dir else []
    # After the backup, which must save the raw weights it resumes from; before early stopping, which
    # must see (and keep) the averaged ones at each epoch's end.
    average = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema else []
    return [*backup, *average,
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=EARLY_STOPPING_PATIENCE,
                                      restore_best_weights=True, verbose=1),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", mode="min", patience=REDUCE_LR_PATIENCE,
                                          factor=REDUCE_LR_FACTOR, min_lr=MIN_LEARNING_RATE, verbose=1),
        keras.callbacks.CSVLogger(history_csv, append=backup_dir is not None),
    ]


__all__ = ["EpochProgress", "TimeBudget", "plan_callbacks", "LEARNING_RATE"]
