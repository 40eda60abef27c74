"""Discrete search on binarized operators: incremental evaluation, and a polish that can only
raise the score."""

import numpy as np
import pytest

from skmorph.binary import BinaryConv, dice_scores
from skmorph.binary.search import PackedPairs, _apply, _moves, _Operator, polish, run_layers
from skmorph.datasets import make_diskorect
from skmorph.morphology import pack


def random_layers(rng, in_channels=2, hidden=3, sizes=(3, 5)):
    layers, channels = [], in_channels
    for index, (out, size) in enumerate(zip((hidden, 1), sizes, strict=True)):
        selems = rng.random((out, channels, size, size)) < 0.4
        selems[..., size // 2, size // 2] = True
        active = rng.random((out, channels)) < 0.7
        active[:, 0] = True
        layers.append(BinaryConv(selems, rng.choice(["erosion", "dilation"], (out, channels)),
                                 active, rng.choice(["or", "and"], out),
                                 ("zeros", "replicate")[index]))
        channels = out
    return layers


def random_pairs(rng, n=12, in_channels=2, height=10, width=70):
    inputs = rng.random((n, in_channels, height, width)) < 0.4
    targets = rng.random((n, 1, height, width)) < 0.3
    return PackedPairs(pack(inputs), pack(targets)), inputs, targets


@pytest.mark.parametrize("seed", range(4))
def test_dice_on_packed_bits_equals_dice_scores(seed):
    rng = np.random.default_rng(seed)
    pairs, _, targets = random_pairs(rng)
    output = run_layers(random_layers(rng), pairs.inputs)
    assert pairs.dice(output) == pytest.approx(dice_scores(output.unpack(), targets).mean())


@pytest.mark.parametrize("seed", range(4))
def test_incremental_evaluation_equals_a_full_run_after_every_move(seed):
    rng = np.random.default_rng(seed)
    pairs, _, _ = random_pairs(rng)
    layers = random_layers(rng)
    operator = _Operator(layers, pairs.inputs)
    moves = list(_moves(operator))
    for index in rng.permutation(len(moves))[:80]:
        if _apply(operator, moves[index]):
            expected = run_layers(operator.layers(), pairs.inputs)
            np.testing.assert_array_equal(operator.output().words, expected.words)


@pytest.mark.parametrize("seed", range(6))
def test_polish_never_lowers_the_score_and_reports_what_it_kept(seed):
    rng = np.random.default_rng(seed)
    pairs, _, _ = random_pairs(rng)
    layers = random_layers(rng)
    result = polish(layers, pairs, max_evaluations=300, random_state=seed)
    assert result.score_before == pytest.approx(pairs.dice(run_layers(layers, pairs.inputs)))
    assert result.score_after >= result.score_before
    assert result.score_after == pytest.approx(pairs.dice(run_layers(result.layers,
                                                                     pairs.inputs)))
    assert (result.score_after > result.score_before) == bool(result.moves)
    assert 0 < result.n_evaluated <= 300


def opening_layers(element):
    one = np.ones((1, 1), bool)
    return [BinaryConv(element[None, None], [["erosion"]], one, ["or"], "zeros"),
            BinaryConv(element[None, None], [["dilation"]], one, ["or"], "zeros")]


@pytest.mark.parametrize("defect", ["pixel", "operation"])
def test_polish_repairs_an_operator_one_move_away_from_the_target(defect):
    images = make_diskorect(30, size=32, random_state=0)[:, None]
    element = np.ones((3, 3), bool)
    element[0, 0] = element[2, 2] = False
    truth = opening_layers(element)
    pairs = PackedPairs(pack(images), run_layers(truth, pack(images)))
    broken = opening_layers(element)
    if defect == "pixel":
        broken[0].selems[0, 0, 1, 0] = False
    else:
        broken[1].operations[0, 0] = "erosion"
    assert pairs.dice(run_layers(broken, pairs.inputs)) < 0.99
    result = polish(broken, pairs, random_state=0)
    assert result.score_after == 1.0 and result.moves
    assert any(("pixel" if defect == "pixel" else "now a dilation") in move
               for move in result.moves)


def test_polish_keeps_every_output_reading_an_input():
    rng = np.random.default_rng(0)
    pairs, _, _ = random_pairs(rng)
    result = polish(random_layers(rng), pairs, random_state=0)
    for layer in result.layers:
        assert layer.active.any(axis=1).all()
