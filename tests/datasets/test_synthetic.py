import numpy as np
import pytest

from skmorph.datasets import make_diskorect, make_noisy_sticks
from skmorph.morphology import line, opening


def test_diskorect_shape_determinism_and_content():
    images = make_diskorect(40, size=32, random_state=0)
    assert images.shape == (40, 32, 32) and images.dtype == bool
    np.testing.assert_array_equal(images, make_diskorect(40, size=32, random_state=0))
    assert not np.array_equal(images, make_diskorect(40, size=32, random_state=1))
    assert not images[:, :3].any() and not images[:, :, -3:].any()  # zeroed border
    coverage = images.mean(axis=(1, 2))
    assert 0.05 < coverage.mean() < 0.8 and coverage.std() > 0.05


def test_diskorect_noise_and_inversion_parameters():
    plain = make_diskorect(30, noise=0.0, invert_probability=0.0, border_width=0, random_state=0)
    inverted = make_diskorect(30, noise=0.0, invert_probability=1.0, border_width=0, random_state=0)
    np.testing.assert_array_equal(plain, ~inverted)


def test_noisy_sticks_targets_are_clean_sticks_inside_noisy_images():
    noisy, clean = make_noisy_sticks(20, random_state=0)
    assert noisy.shape == clean.shape == (20, 70, 70)
    assert np.all(noisy >= clean)
    extra = (noisy & ~clean).sum() / (~clean).sum()
    assert 0.08 < extra < 0.12  # 10% salt noise on the background
    np.testing.assert_array_equal(noisy, make_noisy_sticks(20, random_state=0)[0])
    # every stick survives the union of openings by the three lines of length 5
    lines = [line(5, angle) for angle in (0, 45, 90)]
    recovered = np.logical_or.reduce([opening(clean, selem) for selem in lines])
    np.testing.assert_array_equal(recovered, clean)


@pytest.mark.parametrize(
    "call",
    [
        lambda: make_diskorect(-1),
        lambda: make_diskorect(5, noise=1.5),
        lambda: make_noisy_sticks(5, length_range=(10, 5)),
        lambda: make_noisy_sticks(5, size=10, length_range=(12, 15)),
    ],
)
def test_bad_parameters_raise(call):
    with pytest.raises(ValueError):
        call()
