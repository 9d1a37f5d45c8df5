"""Click commands for training and evaluating (exposed as ``flask train-model`` / ``flask evaluate-model``).

The heavy imports (TensorFlow) happen inside the commands, so loading the CLI stays cheap.
"""

import os
import sys
from pathlib import Path

import click

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from ml.weights import ENV_VAR as BASE_WEIGHTS_ENV  # read here only (click's envvar), never by the library


@click.command("train-model")
@click.option("--data-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder: train/ and test/ with a folder per class, RAF-DB's EmoLabel layout, or fer2013.csv.")
@click.option("--dataset-name", default=None, help="Name used in the model file name (default: guessed from the folder).")
@click.option("--epochs", default=40, show_default=True, type=click.IntRange(1), help="Maximum epochs (early stopping may end sooner).")
@click.option("--batch-size", default=32, show_default=True, type=click.IntRange(1), help="Batch size.")
@click.option("--learning-rate", default=1e-4, show_default=True, type=float, help="Adam's learning rate.")
@click.option("--val-fraction", default=0.1, show_default=True, type=click.FloatRange(0.01, 0.5),
              help="Share of train held out (stratified, seeded) for early stopping and the LR schedule.")
@click.option("--seed", default=42, show_default=True, type=int, help="Seed for the split, augmentation and initialisation.")
@click.option("--base-weights", default=None, envvar=BASE_WEIGHTS_ENV, type=click.Path(dir_okay=False, path_type=Path),
              help=f"MobileNetV2 ImageNet no-top weights file (default ${BASE_WEIGHTS_ENV}, else Keras's cache, or download).")
@click.option("--no-pretrained", is_flag=True, help="Start the base from random weights (tests only; never the default).")
@click.option("--output-dir", default=Path("ml/models"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the model, its metadata, the .tflite export and the report go.")
@click.option("--views", default=4, show_default=True, type=click.IntRange(1, 8),
              help="Augmented views cached per training image (1: original only, 2: + mirror, more: + random affine).")
@click.option("--erase-probability", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the random views that also get a random rectangle replaced by noise (random erasing; "
                   "0.5 with --feature-shift 1 did not beat the shipped model, see ml/MODEL_CARD.md).")
@click.option("--degrade-probability", default=0.8, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the random views also degraded as phones do (exposure, contrast, blur, downscale, JPEG); "
                   "0: the plan's views alone.")
@click.option("--max-shift", "max_shift_px", default=5.0, show_default=True, type=click.FloatRange(0, 12),
              help="Largest random shift of the random views, in pixels of the 48x48 face.")
@click.option("--cache-dir", default=Path("ml/cache"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the frozen part's outputs and epoch checkpoints are kept, keyed by data and settings, so an "
                   "interrupted or repeated run resumes; --no-cache keeps them in memory only.")
@click.option("--no-cache", is_flag=True, help="Do not keep features or checkpoints on disk.")
@click.option("--feature-shift", default=0, show_default=True, type=click.IntRange(0, 3),
              help="Cells (16 px of the 224x224 input) by which cached feature maps are randomly moved each epoch; 0: off.")
@click.option("--batchnorm", type=click.Choice(["batch", "moving"]), default="batch", show_default=True,
              help="How the trainable BatchNorm layers normalise while training: batch statistics, or their fixed "
                   "moving (ImageNet) statistics as in Keras's fine-tuning guide (scale and offset still train; "
                   "learnt more slowly on FER2013).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1), help="CPU threads for LiteRT.")
@click.option("--time-budget", "time_budget", default=None, type=click.FloatRange(1),
              help="Minutes of training after which no new epoch starts (best weights are kept).")
@click.option("--limit-per-class", default=None, type=click.IntRange(1), help="Use at most N images per class (quick runs).")
@click.option("--init-weights", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Start from the weights of a model this command saved (a .h5) instead of ImageNet's alone: "
                   "continues a run that a time budget cut short; the schedule starts again at --learning-rate.")
@click.option("--heads", default=1, show_default=True, type=click.IntRange(1, 4),
              help="Plan heads trained on the one cached frozen trunk (other seeds) and served as their mean: "
                   "one model, one .tflite; each head beyond the first costs about 37% of a model at serving. "
                   "--time-budget is shared between them.")
@click.option("--redraw-share", default=0.0, show_default=True, type=click.FloatRange(0, 1),
              help="Rotating cache: after each epoch this share of the faces get fresh random views (new "
                   "rotation, shift and corruptions) through the frozen part, at that share of a caching pass.")
@click.option("--distill", is_flag=True,
              help="With --heads N: train the N heads, then one plan head on their mean's probabilities (soft targets, "
                   "see ml/distill.py) and serve that head alone, at one head's serving cost.")
@click.option("--distill-from", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Train one plan head on the probabilities of this saved model (a plan model or ensemble .h5 "
                   "sharing the plan's frozen trunk) instead of on the labels alone.")
@click.option("--hard-share", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="When distilling, the share of each target that is the one-hot label (the rest is the teacher's).")
@click.option("--label-smoothing", default=0.0, show_default=True, type=click.FloatRange(0, 0.5),
              help="Move this share of every target to the uniform distribution (still categorical cross-entropy).")
@click.option("--ema-momentum", default=0.0, show_default=True, type=click.FloatRange(0, 0.99999),
              help="Keep an exponential moving average of the weights with this momentum (0: off; 0.999 averages "
                   "about the last 1,000 steps): validation, early stopping and the saved model use the average.")
@click.option("--mixup", "mixup_alpha", default=0.0, show_default=True, type=click.FloatRange(0, 2),
              help="Mix each training example's cached features and target with another's of its batch, "
                   "lambda ~ Beta(ALPHA, ALPHA) folded to at least 0.5 (0: off; 0.2 is usual).")
@click.option("--serve", is_flag=True,
              help="Make the new model the one the service loads (rewrites <output-dir>/SERVED) after printing how "
                   "it compares with the served one; without it the served model stays as it is.")
def train_model(data_dir: Path, dataset_name: str | None, epochs: int, batch_size: int, learning_rate: float,
                val_fraction: float, seed: int, base_weights: Path | None, no_pretrained: bool, output_dir: Path,
                views: int, erase_probability: float, degrade_probability: float, max_shift_px: float,
                cache_dir: Path, no_cache: bool, feature_shift: int, batchnorm: str, threads: int,
                time_budget: float | None, limit_per_class: int | None, init_weights: Path | None,
                heads: int, redraw_share: float, distill: bool, distill_from: Path | None, hard_share: float,
                label_smoothing: float, ema_momentum: float, mixup_alpha: float, serve: bool) -> None:
    """Train the design plan's MobileNetV2 emotion model and write model, metadata, .tflite and report.

    A new generation never changes what is served unless --serve is given."""
    from ml.datasets import DatasetError
    from ml.train import TrainConfig, train
    from ml.weights import WeightsUnavailable

    config = TrainConfig(data_dir=data_dir, dataset_name=dataset_name, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, val_fraction=val_fraction, seed=seed,
                         base_weights=str(base_weights) if base_weights else None, pretrained=not no_pretrained,
                         output_dir=output_dir, views=views, erase_probability=erase_probability,
                         degrade_probability=degrade_probability, max_shift_px=max_shift_px,
                         cache_dir=None if no_cache else cache_dir,
                         feature_shift=feature_shift, batchnorm_inference=batchnorm == "moving",
                         threads=threads, time_budget_minutes=time_budget, limit_per_class=limit_per_class,
                         init_weights=init_weights, heads=heads, redraw_share=redraw_share, distill=distill, distill_from=distill_from,
                         hard_share=hard_share, label_smoothing=label_smoothing, ema_momentum=ema_momentum,
                         mixup_alpha=mixup_alpha)
    try:
        result = train(config)
    except (DatasetError, WeightsUnavailable) as error:
        raise click.ClickException(str(error)) from error
    report_serving(result.tflite_path, serve)


def report_serving(model_path: Path, serve: bool) -> None:
    """Print how ``model_path`` compares with the served model, and serve it when asked."""
    from ml.promotion import compare_with_served, serve as make_served

    for line in compare_with_served(model_path):
        click.echo(line)
    if serve:
        click.echo(f"Now serving {model_path.name} ({make_served(model_path)}).")
    else:
        click.echo(f"The served model is unchanged; `--serve` would serve {model_path.name}.")


@click.command("evaluate-model")
@click.option("--model", "model_path", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A .h5 or .tflite model (default: the newest in ml/models).")
@click.option("--data-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="Dataset folder.")
@click.option("--split", default="test", show_default=True, help="Split to evaluate (train, test; private for fer2013.csv).")
@click.option("--report-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where the report goes (default: beside the model).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1), help="CPU threads for LiteRT.")
def evaluate_model(model_path: Path | None, data_dir: Path, split: str, report_dir: Path | None, threads: int) -> None:
    """Evaluate a saved model on a dataset split and write the same report as training does."""
    from ml.datasets import DatasetError
    from ml.evaluate import evaluate

    if model_path is None:
        candidates = sorted(Path("ml/models").glob("mobilenetv2_*.tflite"), key=lambda p: p.stat().st_mtime)
        if not candidates:
            raise click.ClickException("No model in ml/models: pass --model PATH or train one with `flask train-model`.")
        model_path = candidates[-1]
    try:
        evaluate(model_path, data_dir, split, report_dir or model_path.parent, threads)
    except DatasetError as error:
        raise click.ClickException(str(error)) from error


@click.command("tune-serving")
@click.option("--model", "model_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A trained .tflite or .h5 model with its metadata JSON beside it.")
@click.option("--data-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The dataset the model was trained on (its validation split is rebuilt from the metadata).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1), help="CPU threads for LiteRT.")
def tune_serving(model_path: Path, data_dir: Path, threads: int) -> None:
    """Choose a trained model's class-prior exponent on its validation split and record it in its metadata.

    Training does this itself; this command applies it to a model trained before it existed.
    """
    from ml.datasets import DatasetError
    from ml.serving import tune_serving as tune

    try:
        tune(model_path, data_dir, threads)
    except DatasetError as error:
        raise click.ClickException(str(error)) from error


@click.command("assemble-ensemble")
@click.option("--member", "members", required=True, multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A trained plan model (.h5 with its metadata JSON beside it); repeat for each head.")
@click.option("--data-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The dataset the members were trained on (serving is decided on its validation split).")
@click.option("--output", "output_path", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the ensemble's .h5 goes (default: the next free mobilenetv2_<dataset>_<n>.h5 beside member 1).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1), help="CPU threads for LiteRT.")
def assemble_ensemble(members: tuple[Path, ...], data_dir: Path, output_path: Path | None, threads: int) -> None:
    """Join plan models that share the frozen trunk into one model averaging their heads, then decide its
    serving (prior, temperature, bands) on the validation split and report it on the test split."""
    from ml.datasets import DatasetError, load_split
    from ml.ensemble import TrunkMismatch, build_files
    from ml.serving import tune_serving as tune
    from ml.train import load_metadata, next_model_path

    if len(members) < 2:
        raise click.ClickException("An ensemble needs two or more --member models.")
    splits = {(m["dataset"]["fingerprint_train"], m["hyperparameters"]["seed"], m["hyperparameters"]["val_fraction"],
               m["hyperparameters"].get("limit_per_class")) for m in map(load_metadata, members)}
    if len(splits) != 1:
        raise click.ClickException("The members were trained on different data or validation splits (dataset, --seed, "
                                   "--val-fraction): an ensemble's serving is decided on a validation split none of "
                                   "them learnt from, so train every member on the same data with the same split.")
    meta = load_metadata(members[0])
    output = output_path or next_model_path(members[0].parent, meta["dataset"]["name"])
    try:
        faces = load_split(data_dir, "test", meta["dataset"]["name"]).images[:64]
        build_files(list(members), output, faces)
        tune(output.with_suffix(".tflite"), data_dir, threads)
    except (DatasetError, TrunkMismatch) as error:
        raise click.ClickException(str(error)) from error


@click.command("benchmark-training")
@click.option("--data-dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path), help="Dataset folder.")
@click.option("--images", default=1024, show_default=True, type=click.IntRange(64),
              help="Training images timed per path (with fewer, start-up costs inflate the per-image figures).")
@click.option("--base-weights", default=None, envvar=BASE_WEIGHTS_ENV, type=click.Path(dir_okay=False, path_type=Path),
              help=f"ImageNet weights file (default ${BASE_WEIGHTS_ENV}).")
@click.option("--views", default=4, show_default=True, type=click.IntRange(1, 8), help="Views cached per image in a real run.")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(1), help="Epochs assumed for the whole-run estimate.")
@click.option("--whole-model/--no-whole-model", default=True, show_default=True,
              help="Also time plain model.fit of the whole network (slow: about 10x the cached paths).")
def benchmark_training(data_dir: Path, images: int, base_weights: Path | None, views: int, epochs: int,
                       whole_model: bool) -> None:
    """Print seconds per epoch of each training path and its share of this CPU's limit, in one run."""
    import numpy as np

    from ml import benchmark
    from ml.datasets import load_split
    from ml.weights import resolve_base_weights

    data = load_split(data_dir, "train")
    chosen = np.random.default_rng(0).permutation(len(data))[:images]
    weights = resolve_base_weights(str(base_weights) if base_weights else None)
    result = benchmark.run(data.images[chosen], data.labels[chosen], weights, whole_model=whole_model)
    benchmark.print_result(result, views, epochs)


@click.group()
def main() -> None:
    """EmoTune model commands (the same as ``flask train-model`` / ``flask evaluate-model``)."""


main.add_command(train_model)
main.add_command(evaluate_model)
main.add_command(benchmark_training)
main.add_command(tune_serving)
main.add_command(assemble_ensemble)

if __name__ == "__main__":
    sys.exit(main())
