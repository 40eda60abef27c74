import numpy as np
import pytest
from scipy import ndimage as ndi

from skmorph.morphology import (
    PackedImage,
    black_tophat,
    closing,
    cross,
    diamond,
    dilation,
    disk,
    erosion,
    line,
    opening,
    pack,
    square,
    white_tophat,
)

SELEMS = {
    "disk3": disk(3),
    "disk2": disk(2),
    "square3": square(3),
    "diamond2": diamond(2),
    "cross5": cross(5),
    "diagonal_cross7": cross(7, diagonal=True),
    "line7_0": line(7, 0),
    "line5_45": line(5, 45),
    "line7_90": line(7, 90),
    "line5_135": line(5, 135),
    "line9_30": line(9, 30),
    "asym_3x5": np.array([[1, 0, 0, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1]], bool),
    "asym_corner": np.array([[0, 0, 1], [0, 0, 0], [0, 0, 0]], bool),
    "single": np.ones((1, 1), bool),
}


def scipy_reference(name, image, selem):
    ero = lambda x: ndi.binary_erosion(x, selem)  # noqa: E731
    dil = lambda x: ndi.binary_dilation(x, selem)  # noqa: E731
    return {
        "erosion": ero,
        "dilation": dil,
        "opening": lambda x: dil(ero(x)),
        "closing": lambda x: ero(dil(x)),
        "white_tophat": lambda x: x & ~dil(ero(x)),
        "black_tophat": lambda x: ero(dil(x)) & ~x,
    }[name](image)


OPERATIONS = {
    "erosion": erosion,
    "dilation": dilation,
    "opening": opening,
    "closing": closing,
    "white_tophat": white_tophat,
    "black_tophat": black_tophat,
}


@pytest.mark.parametrize("op_name", OPERATIONS)
@pytest.mark.parametrize("selem_name", SELEMS)
def test_scipy_parity_single_images(op_name, selem_name):
    rng = np.random.default_rng(abs(hash((op_name, selem_name))) % 2**32)
    selem = SELEMS[selem_name]
    for height, width in [(37, 53), (64, 64), (13, 129), (65, 200), (9, 7)]:
        image = rng.random((height, width)) < rng.uniform(0.2, 0.8)
        got = OPERATIONS[op_name](image, selem)
        assert got.dtype == bool and got.shape == image.shape
        np.testing.assert_array_equal(got, scipy_reference(op_name, image, selem))


@pytest.mark.parametrize("op_name", OPERATIONS)
def test_scipy_parity_on_batches(op_name):
    rng = np.random.default_rng(1)
    batch = rng.random((2, 3, 31, 71)) < 0.5
    selem = SELEMS["asym_3x5"]
    got = OPERATIONS[op_name](batch, selem)
    assert got.shape == batch.shape
    for index in np.ndindex(batch.shape[:2]):
        np.testing.assert_array_equal(got[index], scipy_reference(op_name, batch[index], selem))


def test_random_asymmetric_selems_and_widths():
    rng = np.random.default_rng(2)
    for _ in range(150):
        height, width = rng.integers(1, 140, size=2)
        image = rng.random((height, width)) < rng.random()
        sh, sw = rng.integers(0, 8, size=2) * 2 + 1
        selem = rng.random((sh, sw)) < 0.4
        selem[rng.integers(sh), rng.integers(sw)] = True
        np.testing.assert_array_equal(erosion(image, selem), ndi.binary_erosion(image, selem))
        np.testing.assert_array_equal(dilation(image, selem), ndi.binary_dilation(image, selem))


def test_selem_as_large_as_the_image_and_wider_than_a_word():
    rng = np.random.default_rng(3)
    image = rng.random((31, 131)) < 0.9
    for selem in [square(31), line(131), line(129, 0), np.ones((1, 131), bool)]:
        np.testing.assert_array_equal(erosion(image, selem), ndi.binary_erosion(image, selem))
        np.testing.assert_array_equal(dilation(image, selem), ndi.binary_dilation(image, selem))


def test_replicate_padding_matches_edge_padded_scipy():
    rng = np.random.default_rng(4)
    selem = SELEMS["asym_3x5"]
    for shape in [(20, 70), (33, 64), (5, 5)]:
        image = rng.random(shape) < 0.6
        padded = np.pad(image, 2, mode="edge")
        for ours, theirs in [(erosion, ndi.binary_erosion), (dilation, ndi.binary_dilation)]:
            expected = theirs(padded, selem)[2:-2, 2:-2]
            np.testing.assert_array_equal(ours(image, selem, padding="replicate"), expected)


def _staircase():
    """Rows reading columns {0, 1}, {1, 2}, {2, 3}: no row pattern contains another."""
    selem = np.zeros((3, 5), bool)
    for row in range(3):
        selem[row, row + 1 : row + 3] = True
    return selem


@pytest.mark.parametrize("selem", [disk(3), square(5), _staircase(), disk(2) ^ np.pad(disk(1), 1)],
                         ids=["disk3", "square5", "staircase", "ring"])
@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_nested_and_unnested_row_patterns_in_both_paddings(selem, padding):
    # combine_shifts grows one horizontal combination when the element's row patterns are
    # nested (disk, square) and keeps every shift otherwise (staircase, ring)
    rng = np.random.default_rng(5)
    ry, rx = selem.shape[0] // 2, selem.shape[1] // 2
    for shape in [(9, 7), (40, 64), (37, 131)]:
        image = rng.random(shape) < 0.7
        mode = "edge" if padding == "replicate" else "constant"
        padded = np.pad(image, ((ry, ry), (rx, rx)), mode=mode)
        for ours, theirs in [(erosion, ndi.binary_erosion), (dilation, ndi.binary_dilation)]:
            expected = theirs(padded, selem, border_value=0)[ry : ry + shape[0],
                                                             rx : rx + shape[1]]
            np.testing.assert_array_equal(ours(image, selem, padding=padding), expected)


def test_packed_images_chain_without_repacking():
    rng = np.random.default_rng(5)
    image = rng.random((40, 100)) < 0.5
    packed = pack(image)
    result = dilation(erosion(packed, disk(2)), disk(2))
    assert isinstance(result, PackedImage)
    np.testing.assert_array_equal(result.unpack(), opening(image, disk(2)))
    assert isinstance(white_tophat(packed, disk(1)), PackedImage)
    np.testing.assert_array_equal((~packed).unpack(), ~image)
    np.testing.assert_array_equal((packed & ~packed).unpack(), np.zeros_like(image))
    np.testing.assert_array_equal(packed.count(), image.sum())


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, np.float64])
def test_numeric_zero_one_images_are_accepted(dtype):
    image = (np.arange(35).reshape(5, 7) % 3 == 0).astype(dtype)
    np.testing.assert_array_equal(
        erosion(image, square(3)), ndi.binary_erosion(image.astype(bool), square(3))
    )


@pytest.mark.parametrize(
    ("image", "selem", "message"),
    [
        (np.full((5, 5), 0.5), square(3), "boolean-like"),
        (np.full((5, 5), np.nan), square(3), "NaN"),
        (np.ones(5, bool), square(3), "at least 2 dimensions"),
        (np.ones((5, 5), bool), np.ones((2, 3), bool), "odd sides"),
        (np.ones((5, 5), bool), np.zeros((3, 3), bool), "empty"),
        (np.ones((5, 5), bool), np.ones((3, 3, 3), bool), "2-D"),
        (np.ones((5, 5), bool), np.full((3, 3), 2), "boolean-like"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(image, selem, message):
    with pytest.raises(ValueError, match=message):
        erosion(image, selem)


def test_unknown_padding_is_rejected():
    with pytest.raises(ValueError, match="padding"):
        dilation(np.ones((5, 5), bool), square(3), padding="reflect")
