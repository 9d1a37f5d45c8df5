"""Training of the plan's model, with the frozen part's outputs cached so each epoch runs only the top.

The frozen 70% of MobileNetV2 (BatchNorm in inference mode) is a fixed function of the image, so it
runs once per image and augmented view (see ml.augment and ml.features); each epoch then trains the
trainable 30% plus the head on those cached features, drawing one view per image. The weights trained
are the full model's own layers, so the saved ``.h5`` is the plan's whole model.
"""

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.utils.class_weight import compute_class_weight

from recognizer.emotions import EMOTIONS
from recognizer.metadata import read_metadata
from recognizer.recipe import ServingRecipe, file_sha256

from ml import augment, distill, metadata, serving
from ml.datasets import DatasetError, limit_classes, load_split
from ml.evaluate import predict_faces, served_metrics
from ml.export import export_tflite
from ml.features import FeatureCache, FrozenFeatures, cached
from ml.ensemble import assemble
from ml.model import PlanModel, build_model
from ml.report import compute_metrics, print_metrics, write_report
from ml.heads import HeadRun, train_head
from ml.views import CachedViews, RotatingViews
from ml.weights import WeightsUnavailable, how_to_provide, resolve_base_weights

console = Console()


@dataclass
class TrainConfig:
    """Options of one training run (the plan's values are the defaults)."""

    data_dir: Path
    dataset_name: str | None = None
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 1e-4
    val_fraction: float = 0.1
    seed: int = 42
    base_weights: str | None = None
    pretrained: bool = True
    output_dir: Path = Path("ml/models")
    views: int = 4
    erase_probability: float = 0.0
    degrade_probability: float = 0.8
    max_shift_px: float = 5.0
    feature_shift: int = 0
    batchnorm_inference: bool = False
    threads: int = 2
    time_budget_minutes: float | None = None
    limit_per_class: int | None = None
    cache_dir: Path | None = None
    feature_cache_key: str | None = None
    init_weights: Path | None = None
    heads: int = 1
    redraw_share: float = 0.0
    distill: bool = False
    distill_from: Path | None = None
    hard_share: float = 0.5
    label_smoothing: float = 0.0
    ema_momentum: float = 0.0
    mixup_alpha: float = 0.0


@dataclass
class TrainResult:
    """Where the run wrote its files, and its test metrics."""

    model_path: Path
    tflite_path: Path
    metadata_path: Path
    report_files: dict[str, str]
    metrics: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def next_model_path(output_dir: Path, dataset: str) -> Path:
    """``mobilenetv2_<dataset>_<n>.h5`` with n the next free number in ``output_dir``."""
    pattern = re.compile(rf"^mobilenetv2_{re.escape(dataset)}_(\d+)\.(h5|tflite|json)$")
    taken = [int(m.group(1)) for p in output_dir.glob("*") if (m := pattern.match(p.name))]
    return output_dir / f"mobilenetv2_{dataset}_{max(taken, default=0) + 1}.h5"


# Options that may change between an interrupted run and its rerun without changing what it trains.
RESUMABLE_CHANGES = ("time_budget_minutes", "threads")


def run_key(config: TrainConfig) -> str:
    """A short hash of everything the run trains with (output folder included), naming its checkpoints.

    A finished head or an epoch backup is taken up again only by a rerun of the same settings; another
    run that happens to get the same model name (another output folder, another rate) starts afresh.
    """
    settings = {k: v for k, v in asdict(config).items() if k not in RESUMABLE_CHANGES}
    settings["output_dir"] = str(Path(config.output_dir).resolve())
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]


def start_from(model: keras.Model, path: Path) -> None:
    """Give ``model`` the weights of the plan model saved at ``path`` (a run continued, or a second stage).

    Only the plan's own architecture fits: anything else is refused with what was found.
    """
    try:
        source = keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path} could not be read as a saved Keras model ({error}): pass a .h5 that "
                           "`flask train-model` wrote.") from error
    shapes = [w.shape for w in model.get_weights()]
    found = [w.shape for w in source.get_weights()]
    if shapes != found:
        raise DatasetError(f"{path} is not a model of the plan's architecture ({len(found)} weight arrays, "
                           f"{len(shapes)} expected): pass a .h5 that `flask train-model` wrote.")
    model.set_weights(source.get_weights())


def load_teacher(path: Path, plan: PlanModel) -> distill.Teacher:
    """The saved model at ``path`` as a distillation teacher for ``plan``'s student (checked to share its trunk)."""
    try:
        model = keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path} could not be read as a saved Keras model ({error}): pass a .h5 that "
                           "`flask train-model` or `flask assemble-ensemble` wrote.") from error
    try:
        return distill.teacher_from(model, plan.model, plan.frozen_count, path.stem)
    except distill.TeacherMismatch as error:
        raise DatasetError(str(error)) from error


def print_class_weights(weights: dict[int, float], counts: dict[str, int]) -> None:
    """Show the balanced class weights next to the class counts they come from."""
    table = Table(title="class weights (scikit-learn 'balanced')")
    for column in ("class", "train images", "weight"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for index, name in enumerate(EMOTIONS):
        table.add_row(name, str(counts[name]), f"{weights[index]:.3f}")
    console.print(table)


def train(config: TrainConfig) -> TrainResult:
    """Run the plan end to end: data, model, cached-feature training, export, report, metadata."""
    started = time.monotonic()
    if config.distill_from is not None and config.heads > 1:
        raise DatasetError("--distill-from trains one student from a saved teacher; --heads N --distill trains the "
                           "teacher's heads first. Use one or the other.")
    if config.redraw_share and config.views < 3:
        raise DatasetError(f"--redraw-share redraws the random views, views 3 onwards; --views {config.views} caches only "
                           "the face and its mirror: raise --views to 3 or more.")
    if config.distill and config.heads < 2:
        raise DatasetError("--distill needs a teacher: --heads 2 (or more) to train one in the same run, or "
                           "--distill-from a saved model.")
    keras.utils.set_random_seed(config.seed)
    weights = resolve_base_weights(config.base_weights, config.pretrained)
    name = config.dataset_name or None
    full_train = limit_classes(load_split(config.data_dir, "train", name), config.limit_per_class, config.seed)
    test = limit_classes(load_split(config.data_dir, "test", full_train.name), config.limit_per_class, config.seed)
    console.print(f"dataset {full_train.name}: {len(full_train)} train and {len(test)} test images from {config.data_dir}")

    val_count = int(np.ceil(len(full_train) * config.val_fraction))
    if val_count < len(EMOTIONS):
        raise DatasetError(
            f"A validation share of {config.val_fraction} of {len(full_train)} training images is {val_count} images, "
            f"but it needs at least one image of each of the {len(EMOTIONS)} classes: raise --val-fraction or add images."
        )
    train_idx, val_idx = serving.validation_split(full_train.labels, config.val_fraction, config.seed)
    x_train, y_train = full_train.images[train_idx], full_train.labels[train_idx]
    x_val, y_val = full_train.images[val_idx], full_train.labels[val_idx]
    class_weights = dict(enumerate(compute_class_weight("balanced", classes=np.arange(len(EMOTIONS)), y=y_train).tolist()))
    train_counts = {name: int((y_train == i).sum()) for i, name in enumerate(EMOTIONS)}
    print_class_weights(class_weights, train_counts)

    try:
        plan = build_model(weights, config.learning_rate)
    except Exception as error:  # Keras raises plain exceptions when the download is impossible
        if weights == "imagenet":
            raise WeightsUnavailable(f"Keras could not fetch the ImageNet weights ({error}). {how_to_provide()}") from error
        raise
    if config.init_weights is not None:
        start_from(plan.model, config.init_weights)
        console.print(f"continuing from the weights of {config.init_weights}")
    teacher = load_teacher(config.distill_from, plan) if config.distill_from is not None else None
    console.print(f"base: {plan.base_layer_count} layers, bottom {plan.frozen_count} frozen, top "
                  f"{plan.base_layer_count - plan.frozen_count} trainable (from {plan.model.layers[plan.frozen_count].name})")

    cache_started = time.monotonic()
    cache = FeatureCache.for_run(config.cache_dir, {
        "dataset": full_train.fingerprint, "weights": str(weights), "frozen_layers": plan.frozen_count,
        "val_fraction": config.val_fraction, "seed": config.seed, "views": config.views,
        "erase_probability": config.erase_probability, "degrade_probability": config.degrade_probability,
        "max_shift_px": config.max_shift_px, "augment": augment.settings()})
    config.feature_cache_key = cache.key if cache else None
    shape = (len(x_train), *plan.boundary_layer.output.shape[1:])
    train_features = np.empty((config.views, *shape), dtype=np.float16)
    frozen = FrozenFeatures(plan.frozen_part(), config.threads)
    views = augment.make_views(x_train, config.views, config.seed, config.erase_probability,
                               config.degrade_probability, config.max_shift_px)
    for index, view in enumerate(views):
        label = f"caching view {index + 1}/{config.views}"
        train_features[index] = cached(cache, f"view{index}", lambda: frozen.compute(view, label=label))
    del views
    val_features = cached(cache, "validation", lambda: frozen.compute(x_val, label="caching validation")).astype(np.float32)
    if not config.redraw_share:
        frozen.close()
    cache_seconds = time.monotonic() - cache_started
    console.print(f"frozen-part features cached in {cache_seconds:.0f} s ({train_features.nbytes / 2**30:.2f} GiB)")

    config.output_dir.mkdir(parents=True, exist_ok=True)
    model_path = next_model_path(config.output_dir, full_train.name)
    stem = model_path.stem
    checkpoint_name = f"{stem}-{run_key(config)}"
    history_csv = config.output_dir / f"{stem}_history.csv"
    targets = keras.utils.to_categorical(y_train, len(EMOTIONS))
    val_targets = keras.utils.to_categorical(y_val, len(EMOTIONS))
    def epoch_data(head_targets: np.ndarray, seed: int, sample_weights: np.ndarray | None = None) -> CachedViews:
        if not config.redraw_share:
            return CachedViews(train_features, head_targets, config.batch_size, seed, config.feature_shift, sample_weights,
                               config.mixup_alpha)
        return RotatingViews(
            train_features, head_targets, config.batch_size, seed, faces=x_train, share=config.redraw_share,
            redraw=lambda faces, rng: augment.random_views(faces, rng, config.erase_probability,
                                                           config.degrade_probability, config.max_shift_px),
            frozen=frozen.compute, feature_shift=config.feature_shift, sample_weights=sample_weights,
            mixup_alpha=config.mixup_alpha)

    heads: list[HeadRun] = []
    fit_started = time.monotonic()
    distilling = teacher is not None or (config.distill and config.heads > 1)
    runs = (0 if teacher is not None else config.heads) + (1 if distilling else 0)

    def budget(index: int) -> float | None:
        # What is left, shared by the heads still to train: a head that stops early leaves its time
        # to the next.
        if config.time_budget_minutes is None:
            return None
        spent = (time.monotonic() - fit_started) / 60
        return max(1.0, (config.time_budget_minutes - spent) / (runs - index))

    for index in range(runs - (1 if distilling else 0)):
        if index > 0:
            # Another head of the plan on the same frozen ImageNet trunk: a fresh head and trainable
            # top, its own initialisation, dropout and order of views.
            keras.utils.set_random_seed(config.seed + index)
            plan_k = build_model(weights, config.learning_rate)
        else:
            plan_k = plan
        csv = history_csv if index == 0 else config.output_dir / f"{stem}_head{index + 1}_history.csv"
        data = epoch_data(targets, config.seed + index)
        heads.append(train_head(plan_k, config, data, (val_features, val_targets), class_weights, csv,
                                cache, f"{checkpoint_name}_head{index + 1}", budget(index)))
        if config.heads > 1:
            console.print(f"head {index + 1}/{config.heads}: best validation accuracy "
                          f"{heads[-1].best_val_accuracy:.4f} after {heads[-1].epochs_run} epochs")
    ensemble = assemble([head.model for head in heads]) if len(heads) > 1 else None
    distillation: dict[str, Any] | None = None
    student: HeadRun | None = None
    if distilling:
        if teacher is None:
            teacher = distill.teacher_from(ensemble.model, plan.model, plan.frozen_count, f"{stem} heads")
            keras.utils.set_random_seed(config.seed + len(heads))
            plan = build_model(weights, config.learning_rate)
            ensemble = None
        # A saved teacher's targets are kept with the features, named by its file's hash, so a second
        # student of the same teacher (other share, other start) skips the teacher's pass.
        soft = cached(cache if config.distill_from else None,
                      f"teacher-{file_sha256(config.distill_from)[:16]}" if config.distill_from else "",
                      lambda: distill.soft_targets(teacher, train_features[0], train_features[1]))
        distillation = {"teacher": teacher.describe(), "hard_share": config.hard_share,
                        "teacher_accuracy_on_clean_train_faces": round(distill.agreement(soft, y_train), 4),
                        "targets": "hard_share x one-hot + (1 - hard_share) x the teacher's mean on the clean face and its mirror"}
        console.print(f"distilling {teacher.name} ({teacher.heads} head(s); {distillation['teacher_accuracy_on_clean_train_faces']:.4f} "
                      f"of the training faces read right) into one plan head, {config.hard_share:g} of each target the label")
        data = epoch_data(distill.blend(y_train, soft, config.hard_share), config.seed + len(heads),
                          distill.label_weights(y_train, class_weights))
        history_csv = config.output_dir / f"{stem}_student_history.csv"
        student = train_head(plan, config, data, (val_features, val_targets), None, history_csv, cache,
                             f"{checkpoint_name}_student", budget(runs - 1))
        console.print(f"student: best validation accuracy {student.best_val_accuracy:.4f} after {student.epochs_run} epochs")
    del train_features, val_features
    if config.redraw_share:
        frozen.close()
    runs_done = heads + ([student] if student else [])
    fit_seconds = sum(run.fit_seconds for run in runs_done)
    served_run = student or heads[0]
    epochs_run, best_epoch = served_run.epochs_run, served_run.best_epoch
    served = ensemble.model if ensemble else plan.model

    served.save(model_path)
    tflite_path = export_tflite(served, model_path.with_suffix(".tflite"))
    # Prior, temperature and bands are decided on the validation split; the test split only reports.
    mirrored, single = ServingRecipe(mirror=True), ServingRecipe(mirror=False)
    val_flip = predict_faces(tflite_path, x_val, mirrored, threads=config.threads)
    choice = serving.decide(val_flip, y_val, train_counts)
    serving.print_decisions(choice)
    recipe = choice.recipe(mirror=True)
    test_flip = predict_faces(tflite_path, test.images, mirrored, threads=config.threads)
    test_plain = predict_faces(tflite_path, test.images, single, threads=config.threads)
    agreement = metadata.export_agreement(served, tflite_path, test.images[:64])
    metrics = served_metrics(test.labels, recipe.correct(test_flip), recipe)
    metrics_flip = compute_metrics(test.labels, test_flip)
    metrics_plain = compute_metrics(test.labels, test_plain)
    print_metrics(metrics_plain, f"{stem} on {test.name} test, single pass")
    print_metrics(metrics_flip, f"{stem} on {test.name} test, original + mirror averaged")
    print_metrics(metrics, f"{stem} on {test.name} test, {recipe.describe()} (as served)")
    report_files = write_report(metrics, config.output_dir, stem, f"{stem} on {test.name} test ({recipe.describe()})", history_csv)
    wall = time.monotonic() - started
    meta = metadata.build(
        model_path=model_path, tflite_path=tflite_path, plan=plan, dataset=full_train, test=test,
        train_counts=train_counts, val_count=len(y_val), class_weights=class_weights, config=asdict(config),
        epochs_run=epochs_run, best_epoch=best_epoch,
        stopped_by_time_budget=any(run.stopped_by_time_budget for run in runs_done),
        serving_choice=choice.to_metadata(),
        metrics={"test": metrics, "test_mirror_averaged": metrics_flip, "test_single_pass": metrics_plain,
                 "best_val_accuracy": served_run.best_val_accuracy if student else max(h.best_val_accuracy for h in heads),
                 "validation": {"accuracy": choice.prior.scores[choice.prior.correction.exponent][0],
                                **{key: round(value, 4) for key, value in choice.validation.items()}}},
        timings={"wall_seconds": round(wall, 1), "feature_cache_seconds": round(cache_seconds, 1),
                 "fit_seconds": round(fit_seconds, 1), "seconds_per_epoch": round(fit_seconds / max(sum(run.epochs_run for run in runs_done), 1), 1)},
        export_agreement=agreement, report_files=report_files,
    )
    if ensemble:
        meta["architecture"] = ensemble.architecture(meta["architecture"])
    if len(heads) > 1:
        meta["training"]["heads"] = [head.summary() for head in heads]
    if distillation is not None:
        meta["training"]["distillation"] = {**distillation, "student": student.summary()}
    metadata_path = metadata.write(meta, model_path)
    if cache is not None:
        for run in runs_done:
            run.forget_checkpoint()
    console.print(f"[bold]saved[/bold] {model_path}, {tflite_path}, {metadata_path}; wall time {wall / 60:.1f} min; "
                  f"epochs {epochs_run} (best {best_epoch}); test accuracy {metrics['accuracy']:.4f}, "
                  f"macro-F1 {metrics['macro_f1']:.4f}")
    return TrainResult(model_path, tflite_path, metadata_path, report_files, metrics, {"metadata": meta})


def load_metadata(model_path: Path) -> dict[str, Any]:
    """The metadata JSON beside a model file."""
    return read_metadata(model_path)
