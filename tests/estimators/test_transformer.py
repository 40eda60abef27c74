import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from skmorph import MorphologicalTransformer
from skmorph.binary import dice_scores
from skmorph.datasets import make_diskorect
from skmorph.estimators.transformer import start_patterns
from skmorph.morphology import dilation, erosion, opening
from skmorph.preprocessing import learn_thresholds

SELEM = np.array([[0, 1, 0], [1, 1, 0], [0, 1, 1]], bool)  # asymmetric on purpose
FAST = {"kernel_size": 3, "random_state": 0, "max_epochs": 60, "n_iter_no_change": 30,
        "device": "cpu", "n_init": 1, "start_programs": False}  # tested on their own


@pytest.fixture(scope="module")
def images():
    return make_diskorect(200, size=32, random_state=0)


@pytest.fixture(scope="module")
def dilation_model(images):
    model = MorphologicalTransformer(include_complement=False, regularization="activable",
                                     regularization_weight=1e-1, **{**FAST, "n_init": "auto"})
    return model.fit(images, dilation(images, SELEM))


def test_a_dilation_is_learned_and_binarized_exactly(dilation_model):
    report = dilation_model.binarization_report_
    assert report["exact_network"] and report["n_exact"] == report["n_neurons"]
    (layer,) = dilation_model.learned_operations()
    (output,) = layer
    ((source, operation, selem, exact),) = output["terms"]
    assert (source, operation, exact) == (0, "dilation", True)
    np.testing.assert_array_equal(selem, SELEM)
    held_out = make_diskorect(20, size=32, random_state=1)
    np.testing.assert_array_equal(dilation_model.transform(held_out), dilation(held_out, SELEM))
    assert dilation_model.score(held_out, dilation(held_out, SELEM)) == 1.0


def test_transform_on_larger_images_equals_morphology_with_the_learned_elements(
    dilation_model,
):
    large = make_diskorect(3, size=97, random_state=2)
    (layer,) = dilation_model.learned_operations()
    ((_, operation, selem, _),) = layer[0]["terms"]
    expected = {"dilation": dilation, "erosion": erosion}[operation](large, selem)
    np.testing.assert_array_equal(dilation_model.transform(large), expected)
    # layouts: (n, H, W) in, (n, H, W) out; (n, 1, H, W) in, (n, 1, H, W) out
    assert dilation_model.transform(large[:, None]).shape == (3, 1, 97, 97)


def test_two_layers_with_complements_learn_an_opening(images):
    model = MorphologicalTransformer(hidden_channels=(1,), **FAST)
    model.fit(images, opening(images, SELEM))
    assert model.start_operations_ == ("erosion", "dilation")
    held_out = make_diskorect(20, size=32, random_state=3)
    assert model.score(held_out, opening(held_out, SELEM)) > 0.9
    text = model.describe()
    assert "layer 1" in text and ("union" in text or "intersection" in text)


def test_start_patterns_put_opening_and_closing_first_and_cover_all():
    assert start_patterns(1, 2) == [("erosion",), ("dilation",)]
    patterns = start_patterns(2, 4)
    assert patterns[:2] == [("erosion", "dilation"), ("dilation", "erosion")]
    assert sorted(patterns) == sorted(
        (a, b) for a in ("erosion", "dilation") for b in ("erosion", "dilation")
    )
    assert len(set(start_patterns(3, 8))) == 8
    assert start_patterns(1, 3) == [("erosion",), ("dilation",), ("erosion",)]


def test_restarts_keep_the_best_binarized_operator(images):
    noise = np.random.default_rng(0).random(images.shape) < 0.01  # no start can be perfect
    target = erosion(images, SELEM) ^ noise
    model = MorphologicalTransformer(**{**FAST, "max_epochs": 15, "n_init": 2}).fit(images, target)
    assert len(model.init_scores_) == 2
    assert model.start_operations_ in start_patterns(1, 2)
    kept = dice_scores(model.transform(images), target).mean()
    assert kept == pytest.approx(max(model.init_scores_))
    assert model.score(images, target) == pytest.approx(kept)
    reference = clone(model).set_params(init="reference", n_init="auto").fit(images, target)
    assert len(reference.init_scores_) == 1 and reference.start_operations_ is None
    given = clone(model).set_params(init=["dilation"], n_init="auto").fit(images, target)
    assert len(given.init_scores_) == 1 and given.start_operations_ == ("dilation",)


def test_warm_start_continues_the_kept_training(images):
    target = dilation(images, SELEM)
    model = MorphologicalTransformer(warm_start=True, **{**FAST, "max_epochs": 3, "n_init": 2})
    model.fit(images, target)
    scores, start, epochs = list(model.init_scores_), model.start_operations_, len(model.history_)
    model.fit(images, target)
    assert len(model.history_) == epochs + 3
    assert model.init_scores_ == scores and model.start_operations_ == start


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"init": "sparse"}, "'init' parameter"),
        ({"init": ("erosion", "dilation")}, "one operation in"),
        ({"init": ("opening",)}, "'init' parameter"),
        ({"n_init": 0}, "'n_init' parameter"),
        ({"n_init": 1.5}, "'n_init' parameter .* an int"),
        ({"hidden_outputs": "hard"}, "'hidden_outputs' parameter"),
        ({"finetune_epochs": -1}, "'finetune_epochs' parameter .* \\[0, inf\\)"),
        ({"start_elements": "lines"}, "'start_elements' parameter"),
    ],
)
def test_bad_init_parameters(images, params, message):
    with pytest.raises(ValueError, match=message):
        MorphologicalTransformer(**{**FAST, **params}).fit(images[:4], images[:4])


def test_flat_inputs_with_input_shape_and_float_inference(images, dilation_model):
    flat = images.reshape(len(images), -1)
    model = clone(dilation_model).set_params(input_shape=(32, 32), max_epochs=5)
    model.fit(flat, dilation(images, SELEM).reshape(len(images), -1))
    assert model.transform(flat).shape == flat.shape
    model.set_params(inference="float")
    assert model.transform(flat).dtype == bool


def test_gray_images_through_level_sets():
    rng = np.random.default_rng(4)
    gray = rng.random((60, 24, 24))
    target = dilation(gray > 0.7, SELEM)
    model = MorphologicalTransformer(n_thresholds=3, **{**FAST, "max_epochs": 10})
    model.fit(gray, target)
    assert model.thresholds_.shape == (1, 3)
    assert model.transform(gray).shape == gray.shape
    with pytest.raises(ValueError, match="boolean-like"):
        MorphologicalTransformer(**FAST).fit(gray, target)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_threshold_strategy_places_the_levels(strategy):
    # mostly background, as Fashion-MNIST: quantiles collapse onto it, uniform levels do not
    rng = np.random.default_rng(5)
    gray = np.where(rng.random((20, 16, 16)) < 0.7, 0.0, rng.random((20, 16, 16)))
    model = MorphologicalTransformer(n_thresholds=3, threshold_strategy=strategy,
                                     **{**FAST, "max_epochs": 1})
    model.fit(gray, gray > 0.5)
    pixels = gray.reshape(-1, 1)
    np.testing.assert_array_equal(model.thresholds_, learn_thresholds(pixels, 3, strategy))
    # two quantiles fall on the background (one level), uniform levels all lie in the objects
    assert np.isfinite(model.thresholds_).sum() == (2 if strategy == "quantile" else 3)


def test_multichannel_targets(images):
    targets = np.stack([dilation(images, SELEM), erosion(images, SELEM)], axis=1)
    model = MorphologicalTransformer(**{**FAST, "max_epochs": 10}).fit(images, targets)
    assert model.n_output_channels_ == 2
    assert model.transform(images[:5]).shape == (5, 2, 32, 32)


def test_pickling_round_trips(dilation_model, images):
    expected = dilation_model.transform(images[:5])
    restored = pickle.loads(pickle.dumps(dilation_model))
    np.testing.assert_array_equal(restored.transform(images[:5]), expected)
    binarized = pickle.loads(pickle.dumps(dilation_model.binarized_))
    np.testing.assert_array_equal(binarized.transform(images[:5]), expected)


@pytest.mark.parametrize(
    ("X", "Y", "message"),
    [
        (np.zeros((4, 8, 8)), np.zeros((4, 9, 8)), "same height and width"),
        (np.zeros((4, 8, 8)), np.zeros((3, 8, 8)), "same number"),
        (np.zeros((4, 8, 8)), np.full((4, 8, 8), 0.5), "boolean-like"),
        (np.full((4, 8, 8), np.nan), np.zeros((4, 8, 8)), "NaN"),
        (np.zeros((4, 8)), np.zeros((4, 8)), "input_shape"),
        (np.zeros((0, 8, 8)), np.zeros((0, 8, 8)), "0 samples"),
        (np.zeros((2, 2, 2, 2, 2)), np.zeros((2, 2, 2, 2, 2)), "images of shape"),
        (np.zeros((4, 2, 2)), np.zeros((4, 2, 2)), "larger than the images"),
    ],
)
def test_bad_input_gives_clear_errors(X, Y, message):
    with pytest.raises(ValueError, match=message):
        MorphologicalTransformer(**FAST).fit(X, Y)


def test_transform_checks_channels(dilation_model):
    with pytest.raises(ValueError, match="channels"):
        dilation_model.transform(np.zeros((2, 3, 16, 16)))


def test_tags_say_that_fit_needs_target_images():
    tags = MorphologicalTransformer().__sklearn_tags__()
    assert tags.target_tags.required and tags.input_tags.three_d_array


def test_fit_is_deterministic_and_idempotent(images):
    model = MorphologicalTransformer(include_complement=False, **{**FAST, "max_epochs": 5})
    target = erosion(images[:40], SELEM)
    first = clone(model).fit(images[:40], target)
    second = clone(model).fit(images[:40], target)
    refit = clone(model).fit(images[40:80], erosion(images[40:80], SELEM)).fit(images[:40], target)
    for other in (second, refit):
        for a, b in zip(first.network_.parameters(), other.network_.parameters(), strict=True):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        held_out = images[80:90]
        np.testing.assert_array_equal(first.transform(held_out), other.transform(held_out))


def test_grid_search_picks_the_regularization_weight_on_the_binarized_dice(images):
    target = opening(images[:60], SELEM)
    model = MorphologicalTransformer((1,), include_complement=False, regularization="activable",
                                     init=("erosion", "dilation"), **{**FAST, "max_epochs": 8})
    search = GridSearchCV(model, {"regularization_weight": [1e-3, 1e-1]}, cv=2)
    search.fit(images[:60], target)
    assert search.best_params_["regularization_weight"] in (1e-3, 1e-1)
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores >= 0) & (scores <= 1))
    best = search.best_estimator_
    assert search.score(images[60:80], opening(images[60:80], SELEM)) == pytest.approx(
        best.score(images[60:80], opening(images[60:80], SELEM))
    )


def test_fine_tuning_with_binary_hidden_outputs_never_lowers_the_kept_score(images):
    target = opening(images[:80], SELEM)
    model = MorphologicalTransformer((1,), include_complement=False, init=("erosion", "dilation"),
                                     **{**FAST, "max_epochs": 6})
    smooth = clone(model).set_params(finetune_epochs=0).fit(images[:80], target)
    tuned = clone(model).set_params(finetune_epochs=6).fit(images[:80], target)
    assert {entry["hidden_outputs"] for entry in smooth.history_} == {"smooth"}
    assert not any(bank.straight_through for bank in smooth.network_.neuron_banks())
    assert tuned.init_scores_[0] >= smooth.init_scores_[0]
    phases = [entry["hidden_outputs"] for entry in tuned.history_]
    kept_binary = phases[-1] == "binary"
    assert phases[: len(smooth.history_)] == ["smooth"] * len(smooth.history_)
    assert any(b.straight_through for b in tuned.network_.neuron_banks()) == kept_binary
    assert not tuned.network_.neuron_banks()[-1].straight_through  # the output stays smooth
    predicted = tuned.transform(images[:80])
    assert dice_scores(predicted, target).mean() == pytest.approx(tuned.init_scores_[0])


def test_transform_of_a_large_boolean_image_stays_lean(dilation_model):
    from tests.memory import peak_memory

    image = np.random.default_rng(0).random((1, 1500, 1500)) < 0.5
    dilation_model.transform(image[:, :64, :64])  # warm up caches
    output, peak = peak_memory(lambda: dilation_model.transform(image))
    np.testing.assert_array_equal(output, dilation_model.binarized_.transform(image))
    assert peak <= 3 * image.nbytes


def test_transform_of_an_empty_batch_is_empty(dilation_model):
    assert dilation_model.transform(np.zeros((0, 16, 16), bool)).shape == (0, 16, 16)


@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_float_inference_in_tiles_equals_the_whole_image(images, padding, monkeypatch):
    from skmorph.estimators import transformer

    model = MorphologicalTransformer((2,), padding=padding, **{**FAST, "max_epochs": 2,
                                                               "finetune_epochs": 0})
    model.fit(images[:30], opening(images[:30], SELEM))
    model.set_params(inference="float")
    large = make_diskorect(2, size=45, random_state=5)
    whole = model.transform(large)
    monkeypatch.setattr(transformer, "FLOAT_TILE", 7)  # tiles smaller than the reach (2)
    np.testing.assert_array_equal(model.transform(large), whole)
