"""Small morphological programs: found on packed pairs, laid out like a network, described as
formulas."""

import numpy as np
import pytest

from skmorph.binary import BinaryConv, Thresholds
from skmorph.binary.programs import (
    describe_operator,
    element_dictionary,
    program_layers,
    search_programs,
)
from skmorph.binary.search import PackedPairs, run_layers
from skmorph.datasets import make_diskorect, make_noisy_sticks
from skmorph.morphology import black_tophat, closing, disk, line, opening, pack, white_tophat


@pytest.fixture(scope="module")
def images():
    return make_diskorect(40, size=32, random_state=0)


def best_program(images, target, hidden, complement, size=5):
    encoder = Thresholds(np.full((1, 1), 0.5), complement=complement)
    pairs = PackedPairs.from_images(encoder, images[:, None].astype(float), target[:, None])
    sizes = [size] * (len(hidden) + 1)
    program = search_programs(pairs, n_layers=len(hidden) + 1,
                              n_branches=hidden[0] if hidden else 1, kernel_sizes=sizes,
                              padding="zeros")
    layers = program_layers(program, n_inputs=encoder.n_outputs, hidden_channels=hidden,
                            kernel_sizes=sizes, padding="zeros")
    assert pairs.dice(run_layers(layers, pairs.inputs)) == pytest.approx(program.score)
    names = ["X", "NOT X"] if complement else ["X"]
    return program, describe_operator(layers, names)


@pytest.mark.parametrize(
    ("operation", "element", "hidden", "complement", "formula"),
    [
        (opening, disk(2), (1,), False, "opening(X, disk(2))"),
        (closing, line(5, 90), (1,), False, "closing(X, line(5, 90))"),
        (white_tophat, disk(2), (2,), True, "X AND NOT opening(X, disk(2))"),
        (black_tophat, line(5, 0), (2,), True, "NOT X AND closing(X, line(5, 0))"),
    ],
)
def test_programs_find_known_operators_and_name_them(images, operation, element, hidden,
                                                     complement, formula):
    program, formulas = best_program(images, operation(images, element), hidden, complement)
    assert program.score == 1.0
    assert formulas == [formula]


def test_a_union_of_three_line_openings_is_found_on_the_noisy_sticks():
    noisy, clean = make_noisy_sticks(60, random_state=0)
    ideal = np.logical_or.reduce([opening(noisy, line(5, angle)) for angle in (0, 45, 90)])
    program, _ = best_program(noisy, clean, (3,), False)
    encoder = Thresholds(np.full((1, 1), 0.5))
    pairs = PackedPairs.from_images(encoder, noisy[:, None].astype(float), clean[:, None])
    assert program.score >= pairs.dice(pack(ideal[:, None])) - 1e-12
    assert program.combine == "or" and len(program.branches) == 3


def test_element_dictionary_holds_each_constructor_once_padded():
    elements = element_dictionary(5)
    names = [name for name, _ in elements]
    assert names[0] == "identity" and "disk(2)" in names and "line(5, 135)" in names
    assert all(element.shape == (5, 5) for _, element in elements)
    assert len({element.tobytes() for _, element in elements}) == len(elements)


def test_describe_operator_draws_elements_outside_the_dictionary():
    selems = np.zeros((1, 1, 3, 3), bool)
    selems[0, 0, 0, 0] = selems[0, 0, 1, 1] = True
    layer = BinaryConv(selems, [["erosion"]], [[True]], ["or"], "zeros")
    assert describe_operator([layer], ["X"]) == ["erosion(X, [#../.#./...])"]
