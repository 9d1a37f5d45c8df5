"""A small real training run: real FER2013 images, the real ImageNet file, one epoch, every output file."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ml.cli import assemble_ensemble, evaluate_model, train_model, tune_serving
from ml.datasets import load_split
from ml.evaluate import predict_faces
from recognizer.recipe import ServingRecipe
from recognizer.emotions import EMOTIONS
from recognizer.models import POINTER_NAME, find_default_model, write_pointer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, fer2013_root: Path, imagenet_weights: Path) -> Path:
    from .conftest import copy_small_folders

    root = copy_small_folders(fer2013_root, tmp_path_factory.mktemp("data") / "fer2013", per_class=8)
    out = tmp_path_factory.mktemp("models")
    cache = tmp_path_factory.mktemp("cache")
    result = CliRunner().invoke(train_model, ["--data-dir", str(root), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "3", "--val-fraction", "0.25",
                                              "--erase-probability", "0.5", "--feature-shift", "1",
                                              "--output-dir", str(out), "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def ensemble(trained: Path, imagenet_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second member (no degradation, other views) trained into a copy of ``trained``, then both assembled."""
    data = next(trained.parent.glob("data*/fer2013"))
    out = tmp_path_factory.mktemp("ensemble")
    for path in trained.glob("mobilenetv2_fer2013_1*"):
        (out / path.name).write_bytes(path.read_bytes())
    write_pointer(out / "mobilenetv2_fer2013_1.tflite")
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "2", "--val-fraction", "0.25",
                                              "--degrade-probability", "0", "--output-dir", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert "mobilenetv2_fer2013_2 against the served mobilenetv2_fer2013_1:" in result.output
    assert "validation accuracy" in result.output and "The served model is unchanged" in result.output
    members = [out / "mobilenetv2_fer2013_1.h5", out / "mobilenetv2_fer2013_2.h5"]
    result = CliRunner().invoke(assemble_ensemble, ["--data-dir", str(data), *(arg for m in members for arg in ("--member", str(m)))])
    assert result.exit_code == 0, result.output
    return out / "mobilenetv2_fer2013_3.tflite"


@pytest.fixture(scope="module")
def two_heads(trained: Path, imagenet_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `flask train-model --heads 2` run: both heads, the ensemble, its serving choice and report."""
    data = next(trained.parent.glob("data*/fer2013"))
    out = tmp_path_factory.mktemp("heads")
    cache = tmp_path_factory.mktemp("heads-cache")
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "2", "--val-fraction", "0.25", "--heads", "2",
                                              "--output-dir", str(out), "--cache-dir", str(cache), "--serve"])
    assert result.exit_code == 0, result.output
    assert not list(cache.glob("*/*.weights.h5")), "finished heads' checkpoints are removed once the run is written"
    return out / "mobilenetv2_fer2013_1.tflite"


def test_one_run_trains_every_head_and_serves_their_mean(two_heads: Path, fer2013_root: Path) -> None:
    import keras

    meta = json.loads(two_heads.with_suffix(".json").read_text())
    assert meta["architecture"]["ensemble"]["heads"] == 2 and len(meta["training"]["heads"]) == 2
    assert meta["export_agreement"]["max_abs_probability_difference"] <= 1e-4
    assert (two_heads.parent / "mobilenetv2_fer2013_1_head2_history.csv").is_file()
    recipe = ServingRecipe.for_model(two_heads)
    assert recipe.temperature > 0 and recipe.bands is not None and "ece" in meta["metrics"]["test"]
    model = keras.models.load_model(two_heads.with_suffix(".h5"), compile=False)
    faces = load_split(fer2013_root.parent / "fer2013", "test").images[:: 3589 // 8][:8]
    from recognizer.preprocess import faces_to_input

    trunk = model.layers[meta["architecture"]["ensemble"]["shared_frozen_layers"] - 1].output
    features = keras.Model(model.input, trunk)(faces_to_input(faces))
    one, two = (np.asarray(model.get_layer(f"head_{k}")(features)) for k in (1, 2))
    assert np.abs(one - two).max() > 1e-3, "the heads were initialised and trained apart"
    joined = predict_faces(two_heads, faces, ServingRecipe(mirror=False))
    assert np.abs(joined - (one + two) / 2).max() <= 1e-4


def test_ensemble_is_one_model_with_its_own_serving_and_report(ensemble: Path, trained: Path) -> None:
    meta = json.loads(ensemble.with_suffix(".json").read_text())
    assert meta["name"] == "mobilenetv2_fer2013_3" and meta["architecture"]["ensemble"]["heads"] == 2
    assert [m["name"] for m in meta["members"]] == ["mobilenetv2_fer2013_1", "mobilenetv2_fer2013_2"]
    assert meta["export_agreement"]["max_abs_probability_difference"] <= 1e-4
    recipe = ServingRecipe.for_model(ensemble)  # checks the recorded hash against the file
    assert recipe.temperature == meta["serving"]["temperature"]["value"] > 0 and recipe.bands is not None
    assert np.asarray(meta["metrics"]["test"]["confusion_matrix"]).sum() == 56 and "ece" in meta["metrics"]["test"]
    assert (ensemble.parent / "mobilenetv2_fer2013_3_reliability.png").is_file()


def test_ensemble_averages_its_members_through_litert(ensemble: Path, fer2013_root: Path) -> None:
    faces = load_split(fer2013_root.parent / "fer2013", "test").images[:: 3589 // 16][:16]
    plain = ServingRecipe(mirror=False)
    members = [predict_faces(ensemble.with_name(f"mobilenetv2_fer2013_{n}.tflite"), faces, plain) for n in (1, 2)]
    joined = predict_faces(ensemble, faces, plain)
    assert np.abs(joined - (members[0] + members[1]) / 2).max() <= 1e-4
    assert np.abs(joined - predict_faces(ensemble.with_suffix(".h5"), faces, plain)).max() <= 1e-4


def test_ensemble_refuses_members_with_other_splits(trained: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    for path in trained.glob("mobilenetv2_fer2013_1*"):
        (tmp_path / path.name.replace("_1", "_7")).write_bytes(path.read_bytes())
    meta_path = tmp_path / "mobilenetv2_fer2013_7.json"
    meta = json.loads(meta_path.read_text())
    meta["hyperparameters"]["seed"] = 7
    meta_path.write_text(json.dumps(meta))
    result = CliRunner().invoke(assemble_ensemble, ["--data-dir", str(data), "--member", str(trained / "mobilenetv2_fer2013_1.h5"),
                                                    "--member", str(tmp_path / "mobilenetv2_fer2013_7.h5")])
    assert result.exit_code != 0 and "validation split" in result.output


def test_run_writes_model_metadata_export_and_report(trained: Path) -> None:
    stem = "mobilenetv2_fer2013_1"
    for suffix in (".h5", ".tflite", ".json", "_report.json", "_confusion_matrix.png", "_reliability.png", "_training_curves.png",
                   "_history.csv"):
        assert (trained / f"{stem}{suffix}").is_file(), suffix
    meta = json.loads((trained / f"{stem}.json").read_text())
    assert meta["classes"] == list(EMOTIONS)
    assert meta["input_shape"] == [224, 224, 3] and meta["preprocessing"] == "mobilenet_v2"
    assert meta["architecture"]["frozen_layers"] == 107 and meta["architecture"]["trainable_base_layers"] == 47
    assert meta["dataset"]["name"] == "fer2013" and len(meta["dataset"]["fingerprint_train"]) == 64
    assert sum(meta["dataset"]["train_counts"].values()) + meta["dataset"]["validation_count"] == 56
    assert set(meta["class_weights"]) == set(EMOTIONS)
    assert meta["hyperparameters"]["learning_rate"] == 1e-4 and meta["hyperparameters"]["batch_size"] == 32
    augmentation = meta["hyperparameters"]["augmentation"]
    assert augmentation["views_per_image"] == 3 and augmentation["feature_shift_cells"] == 1
    assert augmentation["random_erasing"]["probability"] == 0.5
    assert augmentation["degradation"]["probability"] == 0.8 and augmentation["max_shift_px_at_48"] == 5.0
    assert meta["training"]["epochs_run"] == 1 and meta["training"]["wall_seconds"] > 0
    assert "FusedBatchNormV3" in meta["training"]["batchnorm_kernel"]
    assert 0 <= meta["metrics"]["test"]["accuracy"] <= 1 and "macro_f1" in meta["metrics"]["test"]
    assert {"test_mirror_averaged", "test_single_pass"} <= set(meta["metrics"])
    prior = meta["serving"]["class_prior"]
    assert prior["exponent"] in (0.0, 0.5, 1.0) and set(prior["validation"]) == {"0.0", "0.5", "1.0"}
    assert set(prior["shares"]) == set(EMOTIONS) and abs(sum(prior["shares"].values()) - 1) < 1e-4
    assert meta["hyperparameters"]["limit_per_class"] is None
    # calibration and bands are decided on validation and written where serving reads them
    recipe = ServingRecipe.for_model(trained / f"{stem}.tflite")
    assert recipe.temperature == meta["serving"]["temperature"]["value"] > 0
    assert recipe.bands is not None and recipe.bands.bands[-1].key == "unsure"
    assert 0 <= meta["metrics"]["test"]["ece"] <= 1 and "ece_after" in meta["metrics"]["validation"]
    assert {"tensorflow-cpu", "keras", "ai-edge-litert"} <= set(meta["libraries"])
    report = json.loads((trained / f"{stem}_report.json").read_text())
    assert np.asarray(report["confusion_matrix"]).sum() == 56


def test_second_run_takes_the_next_number(trained: Path, fer2013_root: Path) -> None:
    from ml.train import next_model_path

    assert next_model_path(trained, "fer2013").name == "mobilenetv2_fer2013_2.h5"


def test_a_run_continues_from_a_saved_model(trained: Path, imagenet_weights: Path, tmp_path: Path) -> None:
    """--init-weights starts from the saved model: at a vanishing learning rate the head stays where it was."""
    import keras

    data = next(trained.parent.glob("data*/fer2013"))
    start = trained / "mobilenetv2_fer2013_1.h5"
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "1", "--val-fraction", "0.25",
                                              "--learning-rate", "1e-12", "--init-weights", str(start),
                                              "--output-dir", str(tmp_path), "--no-cache"])
    assert result.exit_code == 0, result.output
    continued = tmp_path / "mobilenetv2_fer2013_1.h5"
    before = keras.models.load_model(start, compile=False).get_layer("head_probabilities").get_weights()
    after = keras.models.load_model(continued, compile=False).get_layer("head_probabilities").get_weights()
    for a, b in zip(before, after):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert json.loads(continued.with_suffix(".json").read_text())["training"]["continued_from"] == start.name


def test_continuing_from_a_file_that_is_no_model_is_a_clear_error(trained: Path, imagenet_weights: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    bogus = tmp_path / "notes.h5"
    bogus.write_text("not a model")
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "1", "--val-fraction", "0.25",
                                              "--init-weights", str(bogus), "--output-dir", str(tmp_path), "--no-cache"])
    assert result.exit_code != 0 and "could not be read as a saved Keras model" in result.output
    assert not list(tmp_path.glob("mobilenetv2_*"))


def test_tflite_and_h5_agree_on_real_faces(trained: Path, fer2013_root: Path) -> None:
    faces = load_split(fer2013_root.parent / "fer2013", "test").images[:: 3589 // 24][:24]
    keras_probs = predict_faces(trained / "mobilenetv2_fer2013_1.h5", faces, ServingRecipe(mirror=False))
    litert_probs = predict_faces(trained / "mobilenetv2_fer2013_1.tflite", faces, ServingRecipe(mirror=False))
    assert np.abs(keras_probs - litert_probs).max() <= 1e-4
    assert (keras_probs.argmax(1) == litert_probs.argmax(1)).all()
    np.testing.assert_allclose(litert_probs.sum(1), 1, atol=1e-5)


def test_evaluate_model_writes_the_same_report(trained: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    result = CliRunner().invoke(evaluate_model, ["--model", str(trained / "mobilenetv2_fer2013_1.tflite"),
                                                 "--data-dir", str(data), "--split", "test", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.output and "macro-F1" in result.output
    report = json.loads((tmp_path / "mobilenetv2_fer2013_1_fer2013_test_report.json").read_text())
    assert report["count"] == 56 and len(report["per_class"]) == 7
    assert (tmp_path / "mobilenetv2_fer2013_1_fer2013_test_confusion_matrix.png").is_file()


def test_tune_serving_records_its_choice_and_evaluation_follows_it(trained: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    copy = tmp_path / "models"
    copy.mkdir()
    for path in trained.glob("mobilenetv2_fer2013_1*"):
        (copy / path.name).write_bytes(path.read_bytes())
    model = copy / "mobilenetv2_fer2013_1.tflite"
    meta = json.loads(model.with_suffix(".json").read_text())
    del meta["serving"]["class_prior"]  # as a model trained before the choice existed
    model.with_suffix(".json").write_text(json.dumps(meta))
    result = CliRunner().invoke(tune_serving, ["--model", str(model), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "chosen" in result.output
    tuned = json.loads(model.with_suffix(".json").read_text())
    assert tuned["serving"]["class_prior"] == meta_prior(trained)  # same validation split, same choice
    result = CliRunner().invoke(evaluate_model, ["--model", str(model), "--data-dir", str(data), "--split", "test",
                                                 "--report-dir", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report" / "mobilenetv2_fer2013_1_fer2013_test_report.json").read_text())
    assert report["accuracy"] == pytest.approx(tuned["metrics"]["test"]["accuracy"])


def test_tune_serving_refuses_other_data(trained: Path, fer2013_root: Path, tmp_path: Path) -> None:
    from .conftest import copy_small_folders

    other = copy_small_folders(fer2013_root, tmp_path / "fer2013", per_class=5)
    result = CliRunner().invoke(tune_serving, ["--model", str(trained / "mobilenetv2_fer2013_1.tflite"),
                                               "--data-dir", str(other)])
    assert result.exit_code != 0 and "fingerprint" in result.output


def meta_prior(trained: Path) -> dict:
    """The class-prior entry training wrote for the model in ``trained``."""
    return json.loads((trained / "mobilenetv2_fer2013_1.json").read_text())["serving"]["class_prior"]


def test_too_small_validation_split_is_a_clear_error(tmp_path: Path, fer2013_root: Path, imagenet_weights: Path) -> None:
    from .conftest import copy_small_folders

    root = copy_small_folders(fer2013_root, tmp_path / "fer2013", per_class=3)
    result = CliRunner().invoke(train_model, ["--data-dir", str(root), "--base-weights", str(imagenet_weights)])
    assert result.exit_code != 0
    assert "--val-fraction" in result.output and "at least one image of each of the 7 classes" in result.output


def test_missing_weights_is_a_clear_cli_error(tmp_path: Path, fer2013_root: Path) -> None:
    result = CliRunner().invoke(train_model, ["--data-dir", str(fer2013_root), "--base-weights", str(tmp_path / "none.h5")])
    assert result.exit_code != 0
    assert "--base-weights" in result.output and "EMOTUNE_BASE_WEIGHTS" in result.output


def test_training_without_serve_leaves_the_served_model_as_it_was(ensemble: Path) -> None:
    # The second member was trained into a folder serving member 1, without --serve.
    assert (ensemble.parent / POINTER_NAME).read_text() == "mobilenetv2_fer2013_1.tflite\n"
    assert find_default_model(ensemble.parent) == ensemble.parent / "mobilenetv2_fer2013_1.tflite"


def test_training_with_serve_makes_the_new_model_the_served_one(two_heads: Path) -> None:
    assert (two_heads.parent / POINTER_NAME).read_text() == f"{two_heads.name}\n"
    assert find_default_model(two_heads.parent) == two_heads


@pytest.fixture(scope="module")
def distilled(trained: Path, imagenet_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `flask train-model --heads 2 --distill` run: two heads, then one student on their mean's probabilities,
    with a rotating cache (half the faces' random view drawn afresh after the epoch), label smoothing, EMA and
    mixup."""
    data = next(trained.parent.glob("data*/fer2013"))
    out = tmp_path_factory.mktemp("distilled")
    cache = tmp_path_factory.mktemp("distilled-cache")
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "3", "--val-fraction", "0.25", "--heads", "2",
                                              "--distill", "--hard-share", "0.3", "--redraw-share", "0.5", "--output-dir", str(out),
                                              "--label-smoothing", "0.1", "--ema-momentum", "0.9", "--mixup", "0.2",
                                              "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    assert "into one plan head" in result.output
    assert not list(cache.glob("*/*.weights.h5")), "the heads' and the student's checkpoints are removed at the end"
    return out / "mobilenetv2_fer2013_1.tflite"


def test_distilled_run_serves_one_head_and_records_its_teacher(distilled: Path, trained: Path) -> None:
    meta = json.loads(distilled.with_suffix(".json").read_text())
    single = json.loads((trained / "mobilenetv2_fer2013_1.json").read_text())
    # One plan head at serving: the same parameter count as a plan model, no ensemble record.
    assert meta["architecture"]["parameters"] == single["architecture"]["parameters"]
    assert "ensemble" not in meta["architecture"]
    assert len(meta["training"]["heads"]) == 2
    distillation = meta["training"]["distillation"]
    assert distillation["teacher"] == {"name": "mobilenetv2_fer2013_1 heads", "heads": 2}
    assert distillation["hard_share"] == 0.3
    assert 0.0 <= distillation["teacher_accuracy_on_clean_train_faces"] <= 1.0
    assert distillation["student"]["epochs_run"] == meta["training"]["epochs_run"] == 1
    assert (distilled.parent / "mobilenetv2_fer2013_1_student_history.csv").is_file()
    assert meta["hyperparameters"]["augmentation"]["redrawn_share_per_epoch"] == 0.5
    assert meta["hyperparameters"]["label_smoothing"] == 0.1
    assert meta["hyperparameters"]["weight_average"]["momentum"] == 0.9
    assert meta["hyperparameters"]["mixup"]["alpha"] == 0.2
    assert meta["serving"]["temperature"]["value"] > 0 and 0 <= meta["metrics"]["test"]["accuracy"] <= 1


def test_distilling_from_a_saved_ensemble(ensemble: Path, imagenet_weights: Path, tmp_path: Path) -> None:
    data = next(ensemble.parent.parent.glob("data*/fer2013"))
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--epochs", "1", "--views", "2", "--val-fraction", "0.25",
                                              "--distill-from", str(ensemble.with_suffix(".h5")),
                                              "--output-dir", str(tmp_path), "--no-cache"])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "mobilenetv2_fer2013_1.json").read_text())
    assert meta["training"]["distillation"]["teacher"] == {"name": "mobilenetv2_fer2013_3", "heads": 2}
    assert meta["training"]["distillation"]["hard_share"] == 0.5


def test_distilling_from_a_model_of_another_trunk_is_a_clear_error(trained: Path, tmp_path: Path) -> None:
    """A teacher whose frozen layers hold other weights (here: the student starts from random weights)."""
    data = next(trained.parent.glob("data*/fer2013"))
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--no-pretrained", "--epochs", "1",
                                              "--views", "2", "--val-fraction", "0.25", "--distill-from",
                                              str(trained / "mobilenetv2_fer2013_1.h5"), "--output-dir", str(tmp_path),
                                              "--no-cache"])
    assert result.exit_code != 0
    assert "frozen layer" in result.output and "same ImageNet weights" in result.output
    assert not list(tmp_path.glob("*.h5")), "nothing is written when the teacher does not fit"


def test_distill_from_and_heads_together_are_refused(trained: Path, imagenet_weights: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--heads", "2", "--distill-from", str(trained / "mobilenetv2_fer2013_1.h5"),
                                              "--output-dir", str(tmp_path), "--no-cache"])
    assert result.exit_code != 0 and "Use one or the other" in result.output


def test_distill_without_a_teacher_is_refused(trained: Path, imagenet_weights: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--distill", "--output-dir", str(tmp_path), "--no-cache"])
    assert result.exit_code != 0 and "--distill needs a teacher" in result.output


def test_a_rotating_cache_needs_random_views(trained: Path, imagenet_weights: Path, tmp_path: Path) -> None:
    data = next(trained.parent.glob("data*/fer2013"))
    result = CliRunner().invoke(train_model, ["--data-dir", str(data), "--base-weights", str(imagenet_weights),
                                              "--views", "2", "--redraw-share", "0.2", "--output-dir", str(tmp_path),
                                              "--no-cache"])
    assert result.exit_code != 0 and "raise --views to 3 or more" in result.output
