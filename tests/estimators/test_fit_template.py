"""The fit both estimators share: all-or-nothing fits, parameter checks, warm starts, and
re-binarization that does not depend on hidden state."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.utils.validation import check_is_fitted

from skmorph import BiMoNNClassifier, MorphologicalTransformer, binarize
from skmorph.datasets import make_diskorect
from skmorph.estimators._params import InvalidParameterError
from skmorph.morphology import dilation, opening

SELEM = np.array([[0, 1, 0], [1, 1, 0], [0, 1, 1]], bool)
CLASSIFIER = {"hidden_layer_sizes": (16,), "max_epochs": 3, "random_state": 0, "device": "cpu"}
TRANSFORMER = {"kernel_size": 3, "max_epochs": 3, "finetune_epochs": 2, "random_state": 0,
               "start_programs": False,
               "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400], y[:400]


@pytest.fixture(scope="module")
def images():
    X = make_diskorect(60, size=24, random_state=0)
    return X, dilation(X, SELEM)


def _classifier_case(digits):
    X, y = digits
    return BiMoNNClassifier(**CLASSIFIER), (X, y), (X[:, :32], y)


def _transformer_case(images):
    X, Y = images
    two_channels = np.stack([X, X], axis=1)
    return MorphologicalTransformer(**TRANSFORMER), (X, Y), (two_channels, Y)


@pytest.fixture(params=["classifier", "transformer"])
def case(request, digits, images):
    """(unfitted estimator, training data, other data of another shape)."""
    if request.param == "classifier":
        return _classifier_case(digits)
    return _transformer_case(images)


def _predictions(model, X):
    return model.predict(X) if hasattr(model, "predict") else model.transform(X)


def _fail_at_step(monkeypatch, exception, after: int = 2):
    """Make the optimizer raise ``exception`` at its ``after + 1``-th step."""
    calls = {"n": 0}
    step = torch.optim.Adam.step

    def failing_step(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise exception
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", failing_step)


@pytest.mark.parametrize("exception", [KeyboardInterrupt(), RuntimeError("device lost")])
def test_an_interrupted_or_failed_refit_leaves_the_previous_model_intact(
    case, exception, monkeypatch
):
    model, data, other = case
    model.fit(*data)
    before = dict(vars(model))
    expected = _predictions(model, data[0])
    _fail_at_step(monkeypatch, exception)
    with pytest.raises(type(exception)):
        model.fit(*other)  # other features / channels: every fitted attribute would change
    assert vars(model).keys() == before.keys()
    assert all(vars(model)[key] is value for key, value in before.items())
    np.testing.assert_array_equal(_predictions(model, data[0]), expected)


def test_an_interrupted_first_fit_leaves_an_unfitted_estimator_that_warm_start_can_fit(
    case, monkeypatch
):
    model, data, _ = case
    model.set_params(warm_start=True)
    with monkeypatch.context() as patch:
        _fail_at_step(patch, KeyboardInterrupt)
        with pytest.raises(KeyboardInterrupt):
            model.fit(*data)
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(model)
    assert not hasattr(model, "n_features_in_")
    model.fit(*data)  # a fresh fit, not a continuation of nothing
    assert model.history_[0]["epoch"] == 1


def test_a_warm_start_that_fails_keeps_the_previous_network_and_history(case, monkeypatch):
    model, data, _ = case
    model.set_params(warm_start=True).fit(*data)
    weights = [p.detach().clone() for p in model.network_.parameters()]
    history = [dict(entry) for entry in model.history_]
    _fail_at_step(monkeypatch, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):
        model.fit(*data)
    for before, after in zip(weights, model.network_.parameters(), strict=True):
        assert torch.equal(before, after)
    assert model.history_ == history


@pytest.mark.parametrize(
    ("estimator", "params"),
    [
        ("classifier", {"hidden_layer_sizes": np.array([16]), "max_epochs": np.int64(2),
                        "learning_rate": np.float32(0.01), "n_thresholds": np.int32(2),
                        "early_stopping": np.bool_(False)}),
        ("classifier", {"input_shape": np.array([8, 8]), "hidden_channels": (np.int64(2),),
                        "kernel_size": np.int64(3), "batch_size": np.uint8(32)}),
        ("transformer", {"kernel_size": np.int64(3), "hidden_channels": np.array([1]),
                         "n_init": np.int64(1), "finetune_epochs": np.int16(1)}),
    ],
)
def test_numpy_scalars_and_arrays_are_accepted_as_parameters(digits, images, estimator,
                                                             params):
    if estimator == "classifier":
        model, data = BiMoNNClassifier(**{**CLASSIFIER, **params}), digits
    else:
        model, data = MorphologicalTransformer(**{**TRANSFORMER, **params}), images
    model.fit(*data)
    assert model.get_params()["max_epochs"] is model.max_epochs  # stored unchanged


def test_grid_search_over_numpy_kernel_sizes(images):
    X, Y = images
    search = GridSearchCV(MorphologicalTransformer(**{**TRANSFORMER, "n_init": 1}),
                          {"kernel_size": np.arange(3, 6, 2)}, cv=2, error_score="raise")
    search.fit(X, Y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("regularization_weight", np.nan, r"\[0, inf\)"),
        ("regularization_weight", -1.0, r"\[0, inf\)"),
        ("tol", np.nan, "tol"),
        ("learning_rate", np.inf, r"\(0, inf\)"),
        ("learning_rate", 0.0, r"\(0, inf\)"),
        ("validation_fraction", np.nan, r"\(0, 1\)"),
        ("validation_fraction", 1.0, r"\(0, 1\)"),
        ("max_epochs", 2.5, "an int"),
        ("max_epochs", True, "an int"),
        ("batch_size", 0, r"\[1, inf\)"),
        ("kernel_size", "3", "kernel_size"),
        ("kernel_size", (3, np.nan), "kernel_size"),
        ("hidden_channels", 3, "a sequence"),
        ("regularization", "l2", "'activable'"),
        ("binarization", "round", "'constant_exact'"),
        ("inference", "fast", "'binary'"),
        ("early_stopping", "yes", "a bool"),
        ("warm_start", 1, "a bool"),
        ("include_complement", None, "a bool"),
        ("padding", "reflect", "'replicate'"),
        ("threshold", "relu", "'tanh'"),
        ("input_shape", (8,), "input_shape"),
        ("threshold_strategy", "kmeans", "'quantile'"),
    ],
)
def test_bad_parameters_are_refused_with_an_error_naming_them(case, name, value, expected):
    model, data, _ = case
    model.set_params(**{name: value})
    with pytest.raises(InvalidParameterError if name != "input_shape" else ValueError,
                       match=expected) as error:
        model.fit(*data)
    assert name in str(error.value)
    assert isinstance(error.value, ValueError)


def test_invalid_parameter_error_is_also_a_type_error(digits):
    with pytest.raises(TypeError, match="batch_size"):
        BiMoNNClassifier(**{**CLASSIFIER, "batch_size": 2.5}).fit(*digits)


def test_a_diverging_fit_raises_floating_point_error_with_advice(case):
    model, data, _ = case
    model.set_params(learning_rate=1e6, max_epochs=5)
    if isinstance(model, MorphologicalTransformer):
        model.set_params(polish=False)  # the polish may repair a start before another diverges
    with pytest.raises(FloatingPointError, match="learning_rate"):
        model.fit(*data)


def test_early_stopping_without_training_samples_is_an_error(images):
    X, Y = images
    model = MorphologicalTransformer(**{**TRANSFORMER, "early_stopping": True})
    with pytest.raises(ValueError, match=r"early_stopping.*validation_fraction"):
        model.fit(X[:1], Y[:1])
    model.fit(X[:2], Y[:2])  # one training image, one validation image
    assert all(entry["validation_score"] is not None for entry in model.history_)


@pytest.mark.parametrize(
    ("estimator", "change"),
    [
        ("classifier", {"hidden_layer_sizes": (8,)}),
        ("classifier", {"include_complement": False}),
        ("classifier", {"n_thresholds": 2}),
        ("classifier", {"threshold_strategy": "uniform"}),
        ("classifier", {"output_layer": "binary"}),
        ("transformer", {"kernel_size": 5}),
        ("transformer", {"hidden_channels": (1,)}),
        ("transformer", {"padding": "replicate"}),
        ("transformer", {"include_complement": False}),
        ("transformer", {"weight_reparametrization": "positive"}),
    ],
)
def test_warm_start_with_a_changed_structure_is_an_error(digits, images, estimator, change):
    case = _classifier_case(digits) if estimator == "classifier" else _transformer_case(images)
    model, data, _ = case
    model.set_params(warm_start=True).fit(*data)
    before = dict(vars(model))
    (name,) = change
    with pytest.raises(ValueError, match=f"warm_start.*{name}"):
        model.set_params(**change).fit(*data)
    params = model.get_params()
    assert all(vars(model)[key] is value for key, value in before.items() if key not in params)
    model.set_params(warm_start=False).fit(*data)  # a fresh fit takes the new structure


def test_warm_start_may_change_the_training_parameters(digits):
    model = BiMoNNClassifier(**{**CLASSIFIER, "warm_start": True}).fit(*digits)
    model.set_params(learning_rate=1e-3, max_epochs=2, regularization="activable").fit(*digits)
    assert len(model.history_) == 3 + 2


def test_classifier_rebinarization_is_the_same_before_and_after_pickling(digits):
    X, y = digits
    model = BiMoNNClassifier(**{**CLASSIFIER, "max_epochs": 5}).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    for method in ("activable", "constant_exact"):
        for data in ((), (X, y)):
            before, report = model.binarize(method, *data, return_report=True)
            after = binarize(restored, method, *data)
            np.testing.assert_array_equal(before.predict_proba(X), after.predict_proba(X))
            assert ("refitted" in report["head"]) == bool(data)
    # the fitted predictor is the default binarization with the head refitted on the data
    again = model.binarize(model.binarization, X, y)
    np.testing.assert_array_equal(again.predict_proba(X), model.binarized_.predict_proba(X))


def test_classifier_rebinarization_checks_its_data(digits):
    X, y = digits
    model = BiMoNNClassifier(**CLASSIFIER).fit(X, y)
    with pytest.raises(ValueError, match="both X and y"):
        model.binarize("activable", X)
    with pytest.raises(ValueError, match="not in classes_"):
        model.binarize("activable", X, y + 100)
    with pytest.raises(ValueError, match="features"):
        model.binarize("activable", X[:, :10], y)
    with pytest.raises(ValueError, match="'method' parameter"):
        model.binarize("round")


def test_binarize_leaves_the_estimator_unchanged(images):
    X, _ = images
    model = MorphologicalTransformer(**TRANSFORMER).fit(X, opening(X, SELEM))
    before = dict(vars(model))
    binarized = model.binarize("constant_exact")
    assert binarized is not model.binarized_
    assert all(vars(model)[key] is value for key, value in before.items())
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.binarize("constant_exact").transform(X),
                                  binarized.transform(X))


def test_set_params_after_fit_does_not_change_what_the_model_means(images):
    X, Y = images
    model = MorphologicalTransformer(**TRANSFORMER).fit(X, Y)
    expected = model.describe()
    model.set_params(include_complement=False, padding="replicate")
    assert model.describe() == expected
    np.testing.assert_array_equal(model.binarize("activable").transform(X), model.transform(X))


def test_fitted_estimators_keep_no_reference_to_the_training_data(digits, images):
    X, y = digits
    classifier = BiMoNNClassifier(**CLASSIFIER).fit(X, y)
    transformer = MorphologicalTransformer(**TRANSFORMER).fit(*images)
    for model, data in ((classifier, X), (transformer, images[0])):
        for value in vars(model).values():
            assert not (isinstance(value, np.ndarray) and value.shape[0] == data.shape[0])
    clone(classifier)  # and both still clone
