"""The convolutional classifier: automatic architecture, training on its binarized network,
pickled and loaded without torch."""

import math
import pickle
from contextlib import contextmanager
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skmorph import BiMoNNClassifier
from skmorph.binary import BinaryConv, BinaryPooling, LinearHead, Thresholds
from skmorph.estimators import _base as base_module
from skmorph.estimators import classifier as classifier_module
from skmorph.nn import BiSE, BlockPooling
from skmorph.nn.augmentation import random_horizontal_flip, random_shift
from tests.test_imports import run_without_torch


@pytest.fixture(scope="module")
def conv_fitted(digits):
    X_train, _, y_train, _ = digits
    return BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(8, 16), max_epochs=10,
                            hidden_outputs="binarized", learning_rate=1e-2,
                            learning_rate_schedule="plateau", random_state=0,
                            device="cpu").fit(X_train, y_train)


def test_input_shape_alone_builds_the_benchmarked_convolutional_network(digits):
    X_train, _, y_train, _ = digits
    model = BiMoNNClassifier(input_shape=(8, 8), max_epochs=1, random_state=0,
                             device="cpu").fit(X_train[:200], y_train[:200])
    network = model.network_
    assert [type(layer) for layer in network.conv_layers] == [BiSE, BiSE, BiSE]
    assert [layer.out_channels for layer in network.conv_layers] == [64, 128, 128]
    assert [layer.kernel_size for layer in network.conv_layers] == [(5, 5), (3, 3), (3, 3)]
    assert all(isinstance(pool, BlockPooling) for pool in network.conv_pools())
    assert len(network.dense_layers) == 0 and network.hidden_outputs == "binary"
    assert network.conv_layers[0].neurons.weight_reparametrization == "projected"
    fit_params = model._fit_params
    assert fit_params["learning_rate"] == 1e-3
    assert fit_params["learning_rate_schedule"] == "cosine"
    # the benchmark's training: 7 uniform levels, a data start, layer-by-layer calibration
    assert (fit_params["n_thresholds"], fit_params["threshold_strategy"]) == (7, "uniform")
    assert fit_params["conv_start"] == "data"
    assert fit_params["binarization"] == "calibrated" and fit_params["layerwise_epochs"] == 2
    assert fit_params["teacher"] == "cnn"  # distilled from a float CNN of its shape
    assert model.binarization_report_["n_exact"] == model.binarization_report_["n_neurons"]
    assert [type(layer) for layer in model.binarized_.layers] == [
        Thresholds, *[BinaryConv, BinaryPooling] * 3, LinearHead]
    # the head reads the pooled maps of every layer (4x4, 2x2 and 1x1 for 8x8 images)
    assert network.conv_readout == "all" and model.binarized_.conv_readout == "all"
    assert network.head.in_features == 64 * 4 * 4 + 128 * 2 * 2 + 128
    assert model.binarization_report_["head"].startswith("refitted")
    tabular = BiMoNNClassifier(max_epochs=1, device="cpu").fit(X_train[:100], y_train[:100])
    assert not tabular.network_.conv_layers and tabular.network_.hidden_outputs == "smooth"
    assert tabular.network_.dense_layers[0].out_features == 512
    assert tabular._fit_params["learning_rate"] == 1e-2
    assert tabular._fit_params["teacher"] is None
    assert {name: tabular._fit_params[name] for name in (
        "n_thresholds", "threshold_strategy", "conv_start", "binarization", "layerwise_epochs")
    } == {"n_thresholds": 3, "threshold_strategy": "quantile", "conv_start": "random",
          "binarization": "activable", "layerwise_epochs": 0}


@pytest.mark.parametrize(("shape", "pooling", "channels"), [
    ((8, 8), "dilation", (64, 128, 128)),
    ((28, 28), "erosion", (64, 128, 128)),
    ((7, 9), "dilation", (64, 128)),  # a third pooling would leave no row
    ((3, 3), "dilation", (64,)),
    ((1, 4), "dilation", ()),  # smaller than a pooling block: a dense network
    ((1, 4), None, (64, 128, 128)),
])
def test_the_automatic_front_keeps_the_layers_the_image_size_allows(shape, pooling, channels):
    params = SimpleNamespace(input_shape=shape, pooling=pooling, pool_size=2)
    assert classifier_module._automatic_channels(params) == channels


def test_the_automatic_front_on_small_images_fits(digits):
    X_train, _, y_train, _ = digits
    crops = X_train[:150].reshape(-1, 8, 8)[:, :3, :3].reshape(150, 9)  # 3x3 images
    model = BiMoNNClassifier(input_shape=(3, 3), max_epochs=1, random_state=0,
                             device="cpu").fit(crops, y_train[:150])
    assert [layer.out_channels for layer in model.network_.conv_layers] == [64]
    assert model._fit_params["teacher"] == "cnn"
    tiny = BiMoNNClassifier(input_shape=(1, 9), max_epochs=1, random_state=0,
                            device="cpu").fit(crops, y_train[:150])
    assert not tiny.network_.conv_layers and tiny._fit_params["teacher"] is None


def test_partial_fit_does_not_distil_by_default(digits):
    X_train, _, y_train, _ = digits
    model = small_conv().partial_fit(X_train[:100], y_train[:100], classes=np.arange(10))
    assert model._fit_params["teacher"] is None
    labels_only = small_conv(teacher=None).partial_fit(X_train[:100], y_train[:100],
                                                        classes=np.arange(10))
    np.testing.assert_array_equal(model.predict_proba(X_train[:50]),
                                  labels_only.predict_proba(X_train[:50]))
    assert small_conv().fit(X_train[:100], y_train[:100])._fit_params["teacher"] == "cnn"


def test_binarized_predictor_is_the_trained_network(conv_fitted, digits):
    """Trained on its binarized network (hidden_outputs="binarized"), the float network's
    predictions are the binarized predictor's, neurons activated or not, and its head needs
    no refit."""
    _, X_test, _, y_test = digits
    report = conv_fitted.binarization_report_
    assert report["train_agreement"] == 1.0 and "refit_head='auto'" in report["head"]
    # nothing to calibrate or freeze afterwards: "auto" keeps the binarization trained on
    assert conv_fitted._fit_params["binarization"] == "activable"
    assert conv_fitted._fit_params["layerwise_epochs"] == 0 and "layerwise" not in report
    binarized = conv_fitted.predict_proba(X_test)
    floating = conv_fitted.set_params(inference="float").predict_proba(X_test)
    conv_fitted.set_params(inference="binary")
    np.testing.assert_allclose(binarized, floating, rtol=1e-4, atol=1e-5)
    assert conv_fitted.score(X_test, y_test) > 0.4  # learns (chance: 0.1)


def test_pooling_parameters(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match="pool_size"):
        BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(2, 2, 2, 2), max_epochs=1,
                         device="cpu").fit(X_train[:50], y_train[:50])
    with pytest.raises(ValueError, match="pooling"):
        BiMoNNClassifier(input_shape=(8, 8), pooling="average").fit(X_train[:50], y_train[:50])
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(3,), pooling=None,
                             hidden_layer_sizes=(8,), max_epochs=1, device="cpu")
    model.fit(X_train[:100], y_train[:100])
    assert model.network_.dense_layers[0].in_features == 3 * 8 * 8


@pytest.mark.parametrize(("conv_readout", "n_features"),
                         [("last", 4 * 2 * 2), ("all", 3 * 4 * 4 + 4 * 2 * 2)])
def test_conv_readout_sets_what_the_head_reads(digits, conv_readout, n_features):
    """The head (float and refitted) reads the last layer's pooled maps or every layer's; the
    binarized features are as many bits, and the float network's thresholded maps where its
    neurons are exact."""
    X_train, X_test, y_train, _ = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(3, 4), max_epochs=2,
                             conv_readout=conv_readout, random_state=0, device="cpu")
    model.fit(X_train[:150], y_train[:150])
    assert model.network_.head.in_features == n_features
    assert model.binarized_.transform(X_test[:7]).shape == (7, n_features)
    assert model.binarized_.layers[-1].weight.shape == (10, n_features)
    with pytest.raises(ValueError, match="conv_readout"):
        BiMoNNClassifier(input_shape=(8, 8), conv_readout="first").fit(X_train[:50],
                                                                        y_train[:50])


def test_pickled_convolutional_predictor_runs_where_torch_cannot_be_imported(
        conv_fitted, digits, tmp_path):
    _, X_test, _, _ = digits
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(conv_fitted.binarized_))
    conv_fitted.binarized_.save(tmp_path / "model.json")
    np.save(tmp_path / "X.npy", X_test)
    result = run_without_torch(
        f"""
        import pickle
        import numpy as np
        from skmorph.binary import BinarizedNetwork
        X = np.load({str(tmp_path / "X.npy")!r})
        pickled = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        loaded = BinarizedNetwork.load({str(tmp_path / "model.json")!r})
        assert (pickled.predict(X) == loaded.predict(X)).all()
        np.save({str(tmp_path / "out.npy")!r}, pickled.predict(X))
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), conv_fitted.predict(X_test))


def test_conv_complements(digits):
    """conv_complements: the second layer reads the first layer's maps and their complements,
    in the float network and in its binarized predictor (calibrated too), which loads and
    predicts alike after pickling; BiSEL layers refuse it."""
    X_train, X_test, y_train, y_test = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(4, 8), conv_complements=True,
                             max_epochs=3, random_state=0, device="cpu").fit(X_train, y_train)
    first, second = model.network_.conv_layers
    assert not first.complement_inputs and second.complement_inputs
    assert tuple(second.neurons.weight.shape) == (8, 8, 3, 3)  # 4 maps and their complements
    convs = [layer for layer in model.binarized_.layers if isinstance(layer, BinaryConv)]
    assert [(conv.in_channels, conv.complement_inputs) for conv in convs] == [
        (14, False), (8, True)]  # the 7 level sets of the first layer carry their complements
    assert model.score(X_test, y_test) > 0.4  # learns (chance: 0.1)
    calibrated, report = model.binarize("calibrated", X_train, y_train, return_report=True)
    assert [entry["layer"] for entry in report["calibration"]] == ["conv0", "conv1"]
    assert calibrated.layers[3].complement_inputs
    loaded = pickle.loads(pickle.dumps(calibrated))
    np.testing.assert_array_equal(loaded.predict(X_test), calibrated.predict(X_test))
    with pytest.raises(ValueError, match="conv_complements"):
        BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(2, 2), conv_layer="bisel",
                         conv_complements=True).fit(X_train[:50], y_train[:50])


class RecordingTeacher(LogisticRegression):
    """A logistic regression that records the number of samples of each fit."""

    fitted_sizes: ClassVar[list] = []

    def fit(self, X, y):
        RecordingTeacher.fitted_sizes.append(len(X))
        return super().fit(X, y)


def small_conv(**params):
    return BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(4, 8), max_epochs=2,
                            random_state=0, device="cpu", **params)


def test_distillation_from_a_float_cnn_trains_on_the_teachers_probabilities(digits):
    X_train, X_test, y_train, _ = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                       "eight", "nine"])[y_train]
    model = small_conv(teacher="cnn").fit(X_train, labels)
    plain = small_conv(teacher=None).fit(X_train, labels)
    assert model.predict(X_test[:5]).dtype == labels.dtype
    # the loss includes the teacher's term: it differs from the labels-only training's
    assert model.history_[0]["data_loss"] != pytest.approx(plain.history_[0]["data_loss"])
    again = small_conv(teacher="cnn").fit(X_train, labels)
    np.testing.assert_array_equal(model.predict_proba(X_test), again.predict_proba(X_test))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_an_estimator_teacher_is_cloned_and_fitted_on_the_training_part(digits):
    X_train, _, y_train, _ = digits
    RecordingTeacher.fitted_sizes.clear()
    teacher = RecordingTeacher(max_iter=50)
    small_conv(teacher=teacher, early_stopping=True, validation_fraction=0.2).fit(
        X_train, y_train)
    assert RecordingTeacher.fitted_sizes == [len(X_train) - math.ceil(0.2 * len(X_train))]
    assert not hasattr(teacher, "coef_")  # cloned, not fitted in place
    frozen = FrozenEstimator(LogisticRegression(max_iter=50).fit(X_train, y_train))
    model = small_conv(teacher=frozen, distillation_weight=1.0).fit(X_train, y_train)
    assert model.score(X_train, y_train) > 0.3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_distillation_parameters_are_checked(digits):
    X_train, _, y_train, _ = digits
    X, y = X_train[:100], y_train[:100]
    with pytest.raises(ValueError, match=r"'teacher' parameter.*'cnn'"):
        small_conv(teacher="mlp").fit(X, y)
    with pytest.raises(ValueError, match=r"'distillation_weight' parameter.*0, 1"):
        small_conv(teacher="cnn", distillation_weight=1.5).fit(X, y)
    with pytest.raises(ValueError, match="'learning_rate_warmup' parameter"):
        small_conv(learning_rate_warmup=1.0).fit(X, y)
    with pytest.raises(ValueError, match="teacher='cnn' needs convolutional layers"):
        BiMoNNClassifier(max_epochs=1, teacher="cnn", device="cpu").fit(X, y)
    with pytest.raises(ValueError, match="teacher needs output_layer='linear'"):
        small_conv(teacher="cnn", output_layer="binary").fit(X, y)
    with pytest.raises(ValueError, match="partial_fit does not distil"):
        small_conv(teacher="cnn").partial_fit(X, y, classes=np.arange(10))
    model = small_conv()
    with pytest.raises(ValueError, match="the teacher predicts classes that y does not have"):
        model.set_params(teacher=FrozenEstimator(
            LogisticRegression(max_iter=20).fit(X_train, y_train))).fit(X[y < 5], y[y < 5])
    assert not hasattr(model, "network_")  # nothing half-fitted


def test_batch_normalized_network_folds_into_its_binarized_predictor(digits):
    """normalization="batch": trained on its binarized network, the float network (in
    evaluation: the running statistics folded into each neuron's bias and scale) predicts
    what the binarized predictor predicts."""
    X_train, X_test, y_train, _ = digits
    model = small_conv(normalization="batch", hidden_outputs="binarized").fit(X_train, y_train)
    banks = model.network_.neuron_banks()
    assert all(bank.normalization == "batch" for bank in banks)
    assert model.binarization_report_["train_agreement"] == 1.0
    binarized = model.predict_proba(X_test)
    floating = model.set_params(inference="float").predict_proba(X_test)
    np.testing.assert_allclose(binarized, floating, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="'normalization' parameter"):
        small_conv(normalization="layer").fit(X_train[:50], y_train[:50])


@pytest.mark.parametrize("input_shape", [(8, 8), None])
def test_a_signed_first_layer_starts_dense_where_the_default_starts_sparse(digits, input_shape):
    X_train, _, y_train, _ = digits
    # without layer-by-layer binarization, which leaves the trained weights 0/1 elements
    options = dict(input_shape=input_shape, max_epochs=1, layerwise_epochs=0, random_state=0,
                   device="cpu")
    if input_shape is not None:
        options["hidden_channels"] = (8,)
    shares = {}
    for start in (None, "signed"):
        model = BiMoNNClassifier(first_layer_start=start, **options)
        model.fit(X_train[:200], y_train[:200])
        first = [*model.network_.conv_layers, *model.network_.dense_layers][0]
        weights = first.neurons.weight.detach().flatten(1)
        shares[start] = (weights > 0.1 * weights.max(1, keepdim=True).values).float().mean()
        assert model.score(X_train[:200], y_train[:200]) > 0.3
    # each (input, complement) pair holds one large weight: about half of all the weights
    assert shares["signed"] > 0.35 and shares[None] < shares["signed"] / 2


@pytest.mark.parametrize("change, message", [
    ({"include_complement": False}, "needs include_complement=True"),
    ({"conv_layer": "bisel"}, "needs conv_layer='bise'"),
])
def test_a_signed_first_layer_needs_complements_and_bise_layers(digits, change, message):
    X_train, _, y_train, _ = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(4,), max_epochs=1,
                             first_layer_start="signed", device="cpu", **change)
    with pytest.raises(ValueError, match=message):
        model.fit(X_train[:50], y_train[:50])
    assert not hasattr(model, "network_")


def test_a_data_start_begins_with_small_elements_that_fire(digits):
    X_train, _, y_train, _ = digits
    options = dict(input_shape=(8, 8), hidden_channels=(8, 8), kernel_size=3, max_epochs=1,
                   learning_rate=1e-9, layerwise_epochs=0, random_state=0,
                   device="cpu")  # weights stay put
    model = BiMoNNClassifier(conv_start="data", **options).fit(X_train[:200], y_train[:200])
    network = model.network_
    for layer, size in zip(network.conv_layers, [2, 4], strict=True):
        result = layer.neurons.activation()
        assert result.activated.all() and (result.selem.sum(axis=1) == size).all()
    levels = model.binarized_.layers[0].images(X_train[:200].reshape(-1, 1, 8, 8))
    rates = network.conv_firing_rates(torch.as_tensor(levels))
    constant = [int(((rate < 0.05) | (rate > 0.95)).sum()) for rate in rates]
    assert constant == [0, 0]
    random = BiMoNNClassifier(conv_start="random", **options).fit(X_train[:200], y_train[:200])
    sizes = random.network_.conv_layers[1].neurons.activation().selem.sum(axis=1)
    assert sizes.mean() > 1  # the random start's elements: 2% of the window, at least one
    with pytest.raises(ValueError, match="conv_start='data' needs conv_layer='bise'"):
        BiMoNNClassifier(conv_start="data", conv_layer="bisel", **options).fit(
            X_train[:50], y_train[:50])
    # "auto" starts BiSEL layers at random (a data start draws across all channels)
    bisel = BiMoNNClassifier(conv_layer="bisel", **options).fit(X_train[:50], y_train[:50])
    assert bisel._fit_params["conv_start"] == "random"


def test_hflip_augmentation_teaches_the_mirrored_images_too(digits):
    X_train, X_test, y_train, y_test = digits
    mirrored = X_test.reshape(-1, 8, 8)[:, :, ::-1].reshape(len(X_test), 64)
    scores = {}
    for augmentation in (None, "hflip"):
        model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(8,), max_epochs=6,
                                 augmentation=augmentation, random_state=0, device="cpu")
        model.fit(X_train, y_train)
        scores[augmentation] = (model.score(X_test, y_test),
                                model.set_params(inference="float").score(mirrored, y_test))
    # digits change in a mirror: only the network that saw mirrored digits reads them (the
    # binarized predictor's head is refitted on the images as given)
    assert scores["hflip"][1] > scores[None][1] + 0.2
    assert scores["hflip"][0] > 0.8


def test_hflip_augmentation_is_reproducible_and_needs_images(digits):
    X_train, _, y_train, _ = digits
    options = dict(hidden_channels=(4,), max_epochs=1, augmentation="hflip", random_state=0,
                   device="cpu")
    weights = [BiMoNNClassifier(input_shape=(8, 8), **options).fit(X_train[:100], y_train[:100])
               .network_.conv_layers[0].neurons.raw_weight for _ in range(2)]
    assert torch.equal(*weights)
    model = BiMoNNClassifier(hidden_layer_sizes=(8,), max_epochs=1, augmentation="hflip")
    with pytest.raises(ValueError, match="augmentation='hflip' needs input_shape"):
        model.fit(X_train[:50], y_train[:50])
    assert not hasattr(model, "network_")
    for wrong in ("rotate", (), ("hflip", "zoom")):
        model.set_params(input_shape=(8, 8), augmentation=wrong)
        with pytest.raises(ValueError, match="'augmentation' parameter"):
            model.fit(X_train[:50], y_train[:50])


def test_augmentations_compose_in_the_order_given(digits):
    X_train, _, y_train, _ = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(4,), max_epochs=1,
                             augmentation=("hflip", "shift"), random_state=0, device="cpu")
    assert model.fit(X_train[:100], y_train[:100]).score(X_train[:100], y_train[:100]) > 0.2
    batch = torch.rand(8, 2, 8, 8)
    made = model._augmentation(SimpleNamespace(augmentation=("hflip", "shift")))
    generator = torch.Generator().manual_seed(0)
    expected = random_shift(random_horizontal_flip(batch, generator), generator)
    assert torch.equal(made(batch, torch.Generator().manual_seed(0)), expected)


@pytest.mark.parametrize(("output_layer", "precision"),
                         [("linear", "float32"), ("binary", "float32"), ("linear", "bfloat16")])
def test_layerwise_binarization_leaves_every_neuron_activated(digits, output_layer, precision):
    """Each layer frozen in turn as its (calibrated) binarization: the binarized predictor is
    the float network with thresholded hidden outputs, prediction for prediction (trained in
    bfloat16 too: the float network and its binarization are float32), and the training
    history says what was frozen when."""
    X_train, X_test, y_train, _ = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(6, 8), kernel_size=3,
                             hidden_layer_sizes=(16,), hidden_outputs="binary",
                             output_layer=output_layer, binarization="calibrated",
                             refit_head=False, max_epochs=2, layerwise_epochs=1,
                             precision=precision, random_state=0,
                             device="cpu").fit(X_train[:400], y_train[:400])
    report = model.binarization_report_
    # a binary output layer is trained after the others are frozen, never frozen itself
    hidden = report["layers"][:-1] if output_layer == "binary" else report["layers"]
    assert all(entry["n_exact"] == entry["n_neurons"] for entry in hidden)
    assert f"{len(hidden)} layers frozen" in report["layerwise"]
    frozen = [entry.get("frozen_layers", 0) for entry in model.history_]
    assert frozen == [0, 0, *range(1, len(hidden) + 1)]
    assert all(parameter.requires_grad for parameter in model.network_.parameters())
    binarized = model.predict_proba(X_test)
    floating = model.set_params(inference="float").predict_proba(X_test)
    # where no binary output unit fires, the predictor's probabilities are uniform and the
    # float network's are its near-zero smooth outputs normalized: uniform to about 1e-4
    tolerance = 1e-3 if output_layer == "binary" else 1e-5
    np.testing.assert_allclose(binarized, floating, rtol=1e-4, atol=tolerance)


def test_head_dropout_trains_with_dropped_features_and_predicts_with_all(digits):
    """The dropout changes training (another network than without it), not the predictor's
    contract: with every layer binarized layer by layer, the binarized predictor still equals
    the float network (which reads every feature outside training)."""
    X_train, X_test, y_train, _ = digits
    options = dict(input_shape=(8, 8), hidden_channels=(6,), kernel_size=3,
                   hidden_outputs="binary", binarization="calibrated", refit_head=False,
                   max_epochs=2, random_state=0, device="cpu")
    plain = BiMoNNClassifier(**options).fit(X_train[:300], y_train[:300])
    dropped = BiMoNNClassifier(head_dropout=0.5, layerwise_epochs=1,
                               **options).fit(X_train[:300], y_train[:300])
    assert dropped.network_.head_dropout == 0.5 and not dropped.network_.training
    assert plain.history_[0]["data_loss"] != dropped.history_[0]["data_loss"]
    binarized = dropped.predict_proba(X_test)
    floating = dropped.set_params(inference="float").predict_proba(X_test)
    np.testing.assert_allclose(binarized, floating, rtol=1e-4, atol=1e-5)
    # a warm start trains with the value it is given
    dropped.set_params(warm_start=True, head_dropout=0.0, max_epochs=1, layerwise_epochs=0)
    assert dropped.fit(X_train[:300], y_train[:300]).network_.head_dropout == 0.0


def test_head_dropout_is_checked(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match=r"head_dropout=0\.5 needs output_layer=.linear."):
        BiMoNNClassifier(head_dropout=0.5, output_layer="binary",
                         max_epochs=1).fit(X_train[:50], y_train[:50])
    with pytest.raises(ValueError, match="head_dropout"):
        BiMoNNClassifier(head_dropout=1.0, max_epochs=1).fit(X_train[:50], y_train[:50])


def test_layerwise_binarization_refits_the_head_once_at_the_end(digits, monkeypatch):
    """The head is refitted on the features of the last binarization only: the features
    before the layers are frozen change, so a refit on them would be thrown away."""
    from skmorph.estimators import classifier

    X_train, _, y_train, _ = digits
    heads = []

    def counted(binarized, *args, **kwargs):
        heads.append(binarized)
        return refit(binarized, *args, **kwargs)

    refit = classifier._refit_head
    monkeypatch.setattr(classifier, "_refit_head", counted)
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(6, 8), kernel_size=3,
                             hidden_outputs="binary", refit_head=True, max_epochs=1,
                             layerwise_epochs=1, random_state=0,
                             device="cpu").fit(X_train[:300], y_train[:300])
    assert len(heads) == 1 and heads[0] is model.binarized_
    assert model.binarization_report_["head"].startswith("refitted")


@pytest.mark.parametrize("augmentation", [None, "hflip"])
def test_layerwise_binarization_reads_the_frozen_layers_outputs_computed_once(
        digits, monkeypatch, augmentation):
    """The layers after frozen ones train on the frozen layers' outputs computed once
    (MorphologicalNetwork.frozen_prefix): the same network as when every step computes them
    from the images. Augmented images change at every step: then they are not cached."""
    X_train, X_test, y_train, _ = digits
    options = dict(input_shape=(8, 8), hidden_channels=(6, 8), kernel_size=3,
                   hidden_outputs="binary", max_epochs=1, layerwise_epochs=1,
                   augmentation=augmentation, random_state=0, device="cpu")
    cached = BiMoNNClassifier(**options).fit(X_train[:300], y_train[:300])
    frozen = []
    original = classifier_module._frozen_prefix

    @contextmanager
    def counted(params, network, n_layers, data):
        with original(params, network, n_layers, data) as trained_on:
            frozen.append((n_layers, trained_on.inputs.dim()))
        yield data  # the images, at every step

    monkeypatch.setattr(classifier_module, "_frozen_prefix", counted)
    plain = BiMoNNClassifier(**options).fit(X_train[:300], y_train[:300])
    assert frozen == ([(1, 2), (2, 2)] if augmentation is None else [(1, 4), (2, 4)])
    assert [entry["loss"] for entry in cached.history_] == \
        [entry["loss"] for entry in plain.history_]
    for name, value in plain.network_.state_dict().items():
        assert torch.equal(cached.network_.state_dict()[name], value), name
    np.testing.assert_array_equal(cached.predict_proba(X_test), plain.predict_proba(X_test))


def test_layerwise_binarization_is_skipped_when_off_or_by_partial_fit(digits):
    X_train, _, y_train, _ = digits
    options = dict(input_shape=(8, 8), hidden_channels=(4,), kernel_size=3, max_epochs=1,
                   random_state=0, device="cpu")
    plain = BiMoNNClassifier(layerwise_epochs=0, **options).fit(X_train[:200], y_train[:200])
    assert "layerwise" not in plain.binarization_report_
    tabular = BiMoNNClassifier(max_epochs=1, random_state=0, device="cpu").fit(X_train[:200],
                                                                               y_train[:200])
    assert "layerwise" not in tabular.binarization_report_  # "auto": on images only
    partial = BiMoNNClassifier(layerwise_epochs=2, **options)
    partial.partial_fit(X_train[:200], y_train[:200], classes=np.arange(10))
    assert len(partial.history_) == 1 and "layerwise" not in partial.binarization_report_
    with pytest.raises(ValueError, match="layerwise_epochs"):
        BiMoNNClassifier(layerwise_epochs=-1, **options).fit(X_train[:50], y_train[:50])


def test_the_float_network_predicts_in_passes_sized_by_its_widest_layer():
    from skmorph.estimators.classifier import FLOAT_BATCH, FLOAT_VALUES, _float_batch
    from skmorph.nn import build_network

    dense = build_network(n_features=784, hidden_layer_sizes=[4096], n_outputs=10)
    assert _float_batch(dense, None) == min(FLOAT_BATCH, FLOAT_VALUES // 4096)
    conv = build_network(in_channels=14, conv_channels=[64, 128], kernel_sizes=[5, 3],
                         pooling="dilation", conv_layer="bise", n_features=128 * 7 * 7,
                         n_outputs=10)
    assert _float_batch(conv, (28, 28)) == FLOAT_VALUES // (128 * 28 * 28)
    assert _float_batch(conv, (2048, 2048)) == 1  # never less than one sample


@pytest.mark.parametrize(("n_samples", "batch_size", "conv", "expected"), [
    (60_000, 64, True, 10),  # the Fashion-MNIST benchmark's budget
    (60_000, 128, True, 20),  # as many steps at twice the batch
    (1_347, 64, True, 60),  # the digits' training part: at most 60
    (60_000, 64, False, 60),  # without convolutional layers: 60
])
def test_automatic_epochs_make_the_benchmarks_steps(n_samples, batch_size, conv, expected):
    params = SimpleNamespace(hidden_channels=(4,) if conv else (), batch_size=batch_size)
    assert classifier_module._automatic_epochs(params, n_samples) == expected


def test_fit_trains_the_automatic_epochs(digits, monkeypatch):
    X_train, _, y_train, _ = digits
    monkeypatch.setattr(classifier_module, "CONV_STEPS", 12)  # 6 steps an epoch below: 2
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(3,), batch_size=10,
                             layerwise_epochs=0, teacher=None, n_iter_no_change=50,
                             random_state=0, device="cpu").fit(X_train[:60], y_train[:60])
    assert model.max_epochs == "auto"  # the parameter stays as given
    assert model._fit_params["max_epochs"] == 2 and len(model.history_) == 2
    # partial_fit is one pass, whatever max_epochs says
    model.partial_fit(X_train[60:90], y_train[60:90])
    assert len(model.history_) == 3


@pytest.mark.parametrize(("native", "conv", "expected"), [
    (True, True, "bfloat16"), (False, True, "float32"), (True, False, "float32")])
def test_automatic_precision_is_bfloat16_for_convolutional_networks_where_native(
        digits, monkeypatch, native, conv, expected):
    """precision="auto" trains the network and its CNN teacher in bfloat16 where the device
    computes it natively, with convolutional layers only."""
    X_train, _, y_train, _ = digits
    monkeypatch.setattr(classifier_module, "native_bfloat16", lambda device: native)
    trained, taught = [], []
    real_train, real_teacher = base_module.train, classifier_module.fit_float_cnn

    def recording_train(*args, **kwargs):
        trained.append(kwargs["options"].precision)
        return real_train(*args, **kwargs)

    def recording_teacher(*args, **kwargs):
        taught.append(kwargs["precision"])
        return real_teacher(*args, **kwargs)

    monkeypatch.setattr(base_module, "train", recording_train)
    monkeypatch.setattr(classifier_module, "fit_float_cnn", recording_teacher)
    architecture = (dict(input_shape=(8, 8), hidden_channels=(3,), teacher_epochs=1) if conv
                    else dict(hidden_layer_sizes=(8,)))
    model = BiMoNNClassifier(max_epochs=1, layerwise_epochs=0, random_state=0, device="cpu",
                             **architecture).fit(X_train[:60], y_train[:60])
    assert model.precision == "auto" and model._fit_params["precision"] == expected
    assert trained == [expected]
    assert taught == ([expected] if conv else [])


def test_precision_is_checked(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(ValueError, match="'precision' parameter"):
        BiMoNNClassifier(precision="float16").fit(X_train[:60], y_train[:60])
