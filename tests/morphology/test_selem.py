import numpy as np
import pytest

from skmorph.morphology import cross, diamond, disk, line, pad_selem, square


def test_disk_matches_euclidean_definition():
    np.testing.assert_array_equal(
        disk(1), np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    )
    selem = disk(3)
    assert selem.shape == (7, 7) and selem.sum() == 29
    assert disk(0).shape == (1, 1) and disk(0).all()


def test_diamond_square_and_crosses():
    assert diamond(2).sum() == 13 and diamond(2)[0, 2] and not diamond(2)[0, 1]
    assert square(5).all() and square(5).shape == (5, 5)
    plus = cross(5)
    assert plus.sum() == 9 and plus[2].all() and plus[:, 2].all()
    diagonal = cross(7, diagonal=True)
    assert diagonal.sum() == 13
    np.testing.assert_array_equal(diagonal, np.eye(7, dtype=bool) | np.eye(7, dtype=bool)[::-1])


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (0, lambda n: (np.arange(n)[:, None] == n // 2).repeat(n, 1)),
        (90, lambda n: (np.arange(n)[None, :] == n // 2).repeat(n, 0)),
        (45, lambda n: np.eye(n, dtype=bool)[::-1]),
        (135, lambda n: np.eye(n, dtype=bool)),
    ],
)
def test_lines_exact_at_multiples_of_45_degrees(angle, expected):
    for length in (1, 3, 5, 7):
        selem = line(length, angle)
        assert selem.sum() == length
        np.testing.assert_array_equal(selem, expected(length))


def test_rasterized_lines_are_symmetric_and_connected():
    for angle in (10, 30, 60, 100, 170, -20, 200):
        selem = line(9, angle)
        assert selem.sum() == 9
        np.testing.assert_array_equal(selem, selem[::-1, ::-1])  # symmetric about the centre
        rows, cols = np.nonzero(selem)
        assert selem[4, 4]
        order = np.argsort(cols if np.ptp(cols) >= np.ptp(rows) else rows)
        steps = np.abs(np.diff(np.stack([rows[order], cols[order]]), axis=1))
        assert steps.max() <= 1  # 8-connected


def test_pad_selem_centres_the_element():
    padded = pad_selem(line(3, 0), (7, 7))
    assert padded.shape == (7, 7) and padded[3, 2:5].all() and padded.sum() == 3
    with pytest.raises(ValueError, match="odd"):
        pad_selem(square(3), (6, 7))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: square(4), ValueError),
        (lambda: cross(2), ValueError),
        (lambda: line(6), ValueError),
        (lambda: disk(-1), ValueError),
        (lambda: disk(1.5), TypeError),
        (lambda: line(5, float("nan")), ValueError),
    ],
)
def test_bad_sizes_are_rejected(call, error):
    with pytest.raises(error):
        call()
