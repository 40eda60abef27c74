"""The transformer's discrete side: program starts, the polish, the activated network of a
binary operator, and the recovered formula."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skmorph import MorphologicalTransformer
from skmorph.binary import BinaryConv, Thresholds
from skmorph.binary.search import PackedPairs, run_layers
from skmorph.datasets import make_diskorect
from skmorph.estimators.conversion import binarize_network, exactness_levels, set_operator
from skmorph.morphology import disk, line, opening, white_tophat
from skmorph.nn import build_network

FAST = {"kernel_size": 5, "max_epochs": 4, "finetune_epochs": 2, "random_state": 0,
        "device": "cpu"}


@pytest.fixture(scope="module")
def images():
    return make_diskorect(60, size=32, random_state=0)


@pytest.mark.parametrize("seed", range(5))
def test_set_operator_gives_an_activated_network_that_binarizes_back_exactly(seed):
    rng = np.random.default_rng(seed)
    network = build_network(in_channels=2, conv_channels=[3, 1], kernel_sizes=[3, 5])
    layers = []
    for (c_in, c_out), size in zip(((2, 3), (3, 1)), (3, 5), strict=True):
        selems = rng.random((c_out, c_in, size, size)) < 0.4
        selems[..., size // 2, size // 2] = True
        active = rng.random((c_out, c_in)) < 0.7
        active[:, 0] = True
        layers.append(BinaryConv(selems, rng.choice(["erosion", "dilation"], (c_out, c_in)),
                                 active, rng.choice(["or", "and"], c_out), "replicate"))
    set_operator(network, layers, torch.Generator().manual_seed(seed))
    assert all(not np.isnan(v1) for v1, _ in exactness_levels(network))
    binarized, report = binarize_network(network, [Thresholds(np.full((2, 1), 0.5))],
                                         task="image")
    assert report["n_exact"] == report["n_neurons"]
    inputs = rng.random((6, 2, 20, 20)) < 0.5
    expected = run_layers(layers, PackedPairs.from_images(
        Thresholds(np.full((2, 1), 0.5)), inputs.astype(float), inputs[:, :1]).inputs)
    np.testing.assert_array_equal(binarized.transform(inputs.astype(float)), expected.unpack())
    with torch.no_grad():
        floating = network(torch.as_tensor(inputs, dtype=torch.float32)).numpy() > 0.5
    np.testing.assert_array_equal(floating, expected.unpack())


@pytest.mark.parametrize(
    ("operation", "element", "hidden", "complement", "formula"),
    [
        (opening, line(5, 0), (1,), False, "opening(X, line(5, 0))"),
        (white_tophat, disk(2), (2,), True, "X AND NOT opening(X, disk(2))"),
    ],
)
def test_a_known_operator_is_found_exactly_and_named(images, operation, element, hidden,
                                                     complement, formula):
    model = MorphologicalTransformer(hidden, include_complement=complement, **FAST)
    model.fit(images, operation(images, element))
    assert model.formula() == [formula]
    assert model.start_operations_ == "program" and model.init_scores_ == [1.0]
    assert model.binarization_report_["exact_network"]
    held_out = make_diskorect(10, size=48, random_state=1)
    np.testing.assert_array_equal(model.transform(held_out), operation(held_out, element))
    assert formula in model.describe()
    model.set_params(inference="float")  # the float network is the same operator
    np.testing.assert_array_equal(model.transform(held_out), operation(held_out, element))


def test_the_polish_raises_each_start_and_never_lowers_it(images):
    noise = np.random.default_rng(1).random(images.shape) < 0.02  # nothing is perfect
    target = opening(images, disk(2)) ^ noise
    model = MorphologicalTransformer((1,), start_programs=False, **{**FAST, "max_epochs": 2})
    plain = clone(model).set_params(polish=False).fit(images, target)
    polished = clone(model).fit(images, target)
    assert len(plain.init_scores_) == len(polished.init_scores_) == 4
    assert all(after >= before for before, after in zip(plain.init_scores_,
                                                         polished.init_scores_, strict=True))
    assert max(polished.init_scores_) > max(plain.init_scores_)
    report = polished.binarization_report_["polish"]
    assert report["kept"] and report["moves"]
    assert report["train_dice_after"] > report["train_dice_before"]
    assert polished.binarization_report_["exact_network"]


def test_formula_names_level_sets_and_channels():
    gray = np.random.default_rng(2).random((30, 20, 20))
    model = MorphologicalTransformer(n_thresholds=2, include_complement=False,
                                     **{**FAST, "max_epochs": 1})
    model.fit(gray, gray > 0.5)
    (formula,) = model.formula()
    assert "(X > " in formula
