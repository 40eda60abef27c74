import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmorph import BiMoNNClassifier, binarize
from skmorph.binary import BinarizedNetwork

FAST = {"hidden_layer_sizes": (32,), "max_epochs": 15, "device": "cpu"}


@pytest.fixture(scope="module")
def fitted(digits):
    X_train, _, y_train, _ = digits
    return BiMoNNClassifier(random_state=0).fit(X_train, y_train)


def test_default_parameters_reach_95_percent_binarized_on_digits(digits, fitted):
    _, X_test, _, y_test = digits
    assert fitted.score(X_test, y_test) >= 0.95  # binarized predictor (inference="binary")
    assert fitted.binarized_.score(X_test, y_test) == fitted.score(X_test, y_test)
    report = fitted.binarization_report_
    assert report["n_neurons"] == 512 and 0 < report["n_exact"] <= 512
    assert set(report["layers"][0]) >= {"n_exact", "n_approximated", "mean_distance"}
    assert len(fitted.history_) >= 1 and "activated_fraction" in fitted.history_[0]


def test_float_inference_uses_the_torch_network(digits, fitted):
    _, X_test, _, y_test = digits
    float_model = copy.copy(fitted).set_params(inference="float")  # read when predicting
    assert float_model.score(X_test, y_test) > 0.9
    assert not np.allclose(float_model.predict_proba(X_test), fitted.predict_proba(X_test))


def test_string_labels_and_probability_columns():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    labels = np.array(["cat", "dog", "emu"])[y]
    model = BiMoNNClassifier(random_state=0, **FAST).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["cat", "dog", "emu"])
    assert set(model.predict(X)) <= set(model.classes_)
    proba = model.predict_proba(X)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))
    assert model.score(X, labels) > 0.6


def test_binary_problem_and_fully_binarized_output():
    X, y = make_classification(n_samples=150, n_features=5, random_state=1)
    for output_layer in ("linear", "binary"):
        model = BiMoNNClassifier(output_layer=output_layer, random_state=0, **FAST).fit(X, y)
        assert model.predict_proba(X).shape == (150, 2)
        assert model.score(X, y) > 0.6


def test_random_state_is_local_and_reproducible():
    X, y = make_classification(n_samples=80, n_features=5, random_state=2)
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.random.get_rng_state()
    first = BiMoNNClassifier(random_state=3, **FAST).fit(X, y)
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    second = BiMoNNClassifier(random_state=3, **FAST).fit(X, y)
    for a, b in zip(first.network_.parameters(), second.network_.parameters(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, bool])
def test_input_dtypes_are_accepted(dtype):
    rng = np.random.default_rng(4)
    X = (rng.random((60, 6)) < 0.5).astype(dtype)
    y = X[:, 0].astype(int) ^ X[:, 1].astype(int)
    model = BiMoNNClassifier(random_state=0, **FAST).fit(X, y)
    assert model.predict(X).shape == (60,)


def test_binarize_post_fit_with_every_method(fitted, digits):
    _, X_test, _, y_test = digits
    for method in ("activable", "constant_exact", "constant_uniform", "constant_normal"):
        network, report = binarize(fitted, method, return_report=True)
        assert isinstance(network, BinarizedNetwork) and report["method"] == method
        assert network.score(X_test, y_test) > 0.5
    n_exact = fitted.binarization_report_["n_exact"]
    if n_exact < fitted.binarization_report_["n_neurons"]:
        with pytest.raises(ValueError, match="not activated"):
            binarize(fitted, "exact")


def test_grid_search_in_a_pipeline_scores_the_binarized_predictor(digits):
    X_train, X_test, y_train, y_test = digits
    model = BiMoNNClassifier(regularization="constant_exact", random_state=0, **FAST)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), model),
        {"bimonnclassifier__regularization_weight": [1e-4, 1e-2]},
        cv=2,
        n_jobs=2,
    ).fit(X_train[:600], y_train[:600])
    best = search.best_estimator_
    assert search.best_params_["bimonnclassifier__regularization_weight"] in (1e-4, 1e-2)
    classifier = best[-1]
    scaled = best[0].transform(X_test)
    assert best.score(X_test, y_test) == classifier.binarized_.score(scaled, y_test)


def test_clone_set_params_and_pickle(fitted, digits):
    _, X_test, _, _ = digits
    assert clone(fitted).get_params() == fitted.get_params()
    assert clone(fitted).set_params(max_epochs=3).max_epochs == 3
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
    for tensor in restored.network_.state_dict().values():
        assert tensor.device.type == "cpu"
    assert not any(isinstance(value, np.ndarray) and value.shape[0] >= 1000
                   for value in vars(fitted).values())  # no reference to the training data


def test_pickled_binarized_predictor_runs_where_torch_cannot_be_imported(fitted, digits, tmp_path):
    _, X_test, _, _ = digits
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(fitted.binarized_))
    np.save(tmp_path / "X.npy", X_test)
    code = textwrap.dedent(
        f"""
        import sys
        class BlockTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")
        sys.meta_path.insert(0, BlockTorch())
        import pickle
        import numpy as np
        model = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        np.save({str(tmp_path / "out.npy")!r}, model.predict(np.load({str(tmp_path / "X.npy")!r})))
        assert "torch" not in sys.modules
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), fitted.predict(X_test))


def test_warm_start_continues_training():
    X, y = make_classification(n_samples=80, n_features=5, random_state=5)
    model = BiMoNNClassifier(warm_start=True, random_state=0, **{**FAST, "max_epochs": 2,
                                                                   "n_iter_no_change": 50})
    model.fit(X, y)
    first_weights = model.network_.dense_layers[0].neurons.raw_weight.detach().clone()
    model.fit(X, y)
    assert [h["epoch"] for h in model.history_] == [1, 2, 3, 4]
    assert not torch.equal(first_weights, model.network_.dense_layers[0].neurons.raw_weight)


def test_early_stopping_uses_a_validation_split():
    X, y = make_classification(n_samples=200, n_features=6, random_state=6)
    model = BiMoNNClassifier(early_stopping=True, validation_fraction=0.2, random_state=0, **FAST)
    model.fit(X, y)
    assert all(h["validation_score"] is not None for h in model.history_)


def test_convolutional_front_on_flat_images():
    X, y = load_digits(return_X_y=True)
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(2,), kernel_size=3,
                             hidden_layer_sizes=(32,), max_epochs=5, random_state=0)
    model.fit(X[:300], y[:300])
    assert model.binarized_.image_shape == (1, 8, 8)
    assert model.score(X[300:400], y[300:400]) > 0.3
    with pytest.raises(ValueError, match="input_shape"):
        BiMoNNClassifier(input_shape=(7, 7), **FAST).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="input_shape"):
        BiMoNNClassifier(hidden_channels=(2,), **FAST).fit(X[:50], y[:50])


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), [0, 1], "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), [0, 1], "infinity"),
        (np.zeros((0, 3)), [], "0 sample"),
        (np.zeros((4, 2, 2)), [0, 1, 0, 1], "dim 3"),
        (np.arange(8.0).reshape(4, 2), [1, 1, 1, 1], "1 class"),
    ],
)
def test_bad_input_gives_clear_errors(X, y, message):
    with pytest.raises(ValueError, match=message):
        BiMoNNClassifier(**FAST).fit(X, y)


def test_wrong_number_of_features_at_predict(fitted):
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.zeros((2, 63)))


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"regularization": "l2"}, ValueError),
        ({"binarization": "round"}, ValueError),
        ({"inference": "fast"}, ValueError),
        ({"max_epochs": 0}, ValueError),
        ({"learning_rate": -1.0}, ValueError),
        ({"batch_size": 2.5}, TypeError),
        ({"hidden_layer_sizes": (0,)}, ValueError),
        ({"device": "tpu"}, ValueError),
        ({"output_layer": "softmax"}, ValueError),
    ],
)
def test_bad_parameters_are_rejected_at_fit(params, error):
    X, y = make_classification(n_samples=20, n_features=4, random_state=0)
    with pytest.raises(error):
        BiMoNNClassifier(**{**FAST, **params}).fit(X, y)


def test_feature_names_come_from_dataframes():
    pandas = pytest.importorskip("pandas")
    X, y = make_classification(n_samples=60, n_features=4, random_state=7)
    frame = pandas.DataFrame(X, columns=["a", "b", "c", "d"])
    model = BiMoNNClassifier(random_state=0, **FAST).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, ["a", "b", "c", "d"])
    assert model.n_features_in_ == 4
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X)


def test_images_without_a_convolutional_front_take_level_sets_per_channel(tmp_path):
    X, y = load_digits(return_X_y=True)
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(), **FAST).fit(X[:300],
                                                                                y[:300])
    assert model.binarized_.n_features_in_ == 64
    assert model.score(X[300:500], y[300:500]) > 0.5
    model.binarized_.save(tmp_path / "model.json")
    loaded = BinarizedNetwork.load(tmp_path / "model.json")
    np.testing.assert_array_equal(loaded.predict(X[300:500]), model.predict(X[300:500]))


def test_partial_fit_over_chunks_reaches_the_accuracy_of_fit(digits):
    X_train, X_test, y_train, y_test = digits
    full = BiMoNNClassifier(random_state=0).fit(X_train, y_train)
    model = BiMoNNClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X_train[:10], y_train[:10])
    chunks = np.array_split(np.arange(len(X_train)), 5)
    for _ in range(15):
        for chunk in chunks:
            model.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
            assert model.binarized_.n_features_in_ == 64  # usable after every call
    assert len(model.history_) == 75
    assert "float network's head" in model.binarization_report_["head"]
    # the predictor after each call keeps the float network's head (see partial_fit): the
    # float networks compare, and the head refitted on all the data, as fit does, catches up
    target = full.score(X_test, y_test) - 0.02
    refitted = model.binarize("activable", X_train, y_train)
    assert refitted.score(X_test, y_test) >= target
    assert (model.set_params(inference="float").score(X_test, y_test)
            >= full.set_params(inference="float").score(X_test, y_test) - 0.02)
    model.set_params(inference="binary")
    with pytest.raises(ValueError, match="differs"):
        model.partial_fit(X_train[:10], y_train[:10], classes=np.arange(11))
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X_train[:10, :20], y_train[:10])


def test_train_agreement_is_measured_on_a_bounded_sample(digits, monkeypatch):
    """Both networks predict at most AGREEMENT_SAMPLES training rows for the report, so that
    its cost does not grow with the training set."""
    from skmorph.estimators import classifier

    X_train, _, y_train, _ = digits
    monkeypatch.setattr(classifier, "AGREEMENT_SAMPLES", 100)
    sizes = []
    float_predict = BiMoNNClassifier._float_predict

    def recorded(self, network, context, X):
        sizes.append(X.shape[0])
        return float_predict(self, network, context, X)

    monkeypatch.setattr(BiMoNNClassifier, "_float_predict", recorded)
    model = BiMoNNClassifier(**{**FAST, "max_epochs": 2}, random_state=0).fit(X_train, y_train)
    assert sizes == [100]
    agreement = model.binarization_report_["train_agreement"]
    assert np.isclose(agreement * 100, round(agreement * 100))  # a fraction of 100 samples


def test_a_head_refit_needs_every_class(digits):
    X_train, _, y_train, _ = digits
    model = BiMoNNClassifier(**{**FAST, "max_epochs": 2}, random_state=0).fit(X_train, y_train)
    some = y_train < 7
    with pytest.raises(ValueError, match=r"y lacks the classes \[7, 8, 9\]"):
        model.binarize("activable", X_train[some], y_train[some])
    kept = model.binarize("activable")  # the float network's head: no data needed
    assert kept.predict(X_train[:5]).shape == (5,)
