"""Synthetic binary image datasets of the BiMoNN experiments (arXiv:2401.03830, DGMM 2022)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from skmorph.morphology.selem import _check_size

__all__ = ["make_diskorect", "make_noisy_sticks"]

_CHUNK = 512  # images generated at once; bounds memory to about _CHUNK * shapes * size**2 bytes


def _check_fraction(value, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def _random_shapes(rng, n_images, n_shapes, size, scale):
    """Masks of random rotated rectangles and ellipses, shape (n_images, n_shapes, size, size)."""
    shape = (n_images, n_shapes, 1, 1)

    def draw(low, high):
        return rng.uniform(low, high, shape).astype(np.float32)

    centre_row, centre_col = draw(0, size), draw(0, size)
    half_a, half_b = draw(*scale) * size, draw(*scale) * size
    theta = draw(0, np.pi)
    is_ellipse = rng.random_sample(shape) < 0.5
    cos, sin = np.cos(theta), np.sin(theta)
    d_row = np.arange(size, dtype=np.float32)[:, None] - centre_row
    d_col = np.arange(size, dtype=np.float32)[None, :] - centre_col
    u = np.abs((cos * d_col + sin * d_row) / half_a)
    v = np.abs((cos * d_row - sin * d_col) / half_b)
    # an ellipse is the unit ball of the 2-norm, a rectangle of the max-norm
    return np.where(is_ellipse, u * u + v * v, np.maximum(u, v)) <= 1.0


def make_diskorect(
    n_samples: int,
    size: int = 50,
    *,
    max_shapes: int = 6,
    max_holes: int = 3,
    noise: float = 0.02,
    invert_probability: float = 0.5,
    border_width: int = 3,
    random_state=None,
) -> np.ndarray:
    """Random "Diskorect" binary images: rotated rectangles and ellipses, with holes and noise.

    Each image is the union of 1 to ``max_shapes`` random rotated rectangles and ellipses, minus 0
    to ``max_holes`` smaller ones (holes); with probability ``invert_probability`` it is then
    complemented; a fraction ``noise`` of pixels is set to 1 (salt noise); finally a frame of
    ``border_width`` pixels is set to 0, so that operators with elements up to
    ``2 * border_width + 1`` wide see no border effect.

    Parameters
    ----------
    n_samples : int
        Number of images.
    size : int, default=50
        Side of the square images.
    max_shapes, max_holes : int
        Maximum numbers of shapes and holes per image.
    noise : float, default=0.02
        Fraction of pixels set to 1 after the shapes are drawn.
    invert_probability : float, default=0.5
        Probability that an image is complemented before the noise and the border are applied.
    border_width : int, default=3
        Width of the zeroed frame.
    random_state : int, RandomState or Generator-compatible seed, default=None
        Seed for reproducible images.

    Returns
    -------
    images : ndarray of bool, shape (n_samples, size, size)
    """
    n_samples = _check_size(n_samples, "n_samples")
    size = _check_size(size, "size", minimum=1)
    max_shapes = _check_size(max_shapes, "max_shapes", minimum=1)
    max_holes = _check_size(max_holes, "max_holes")
    border_width = _check_size(border_width, "border_width")
    noise = _check_fraction(noise, "noise")
    invert_probability = _check_fraction(invert_probability, "invert_probability")
    rng = check_random_state(random_state)
    images = np.empty((n_samples, size, size), dtype=bool)
    for start in range(0, n_samples, _CHUNK):
        n = min(_CHUNK, n_samples - start)
        shapes = _random_shapes(rng, n, max_shapes, size, scale=(0.06, 0.25))
        used = np.arange(max_shapes) < rng.randint(1, max_shapes + 1, n)[:, None]
        chunk = (shapes & used[:, :, None, None]).any(axis=1)
        if max_holes:
            holes = _random_shapes(rng, n, max_holes, size, scale=(0.03, 0.1))
            used = np.arange(max_holes) < rng.randint(0, max_holes + 1, n)[:, None]
            chunk &= ~(holes & used[:, :, None, None]).any(axis=1)
        chunk ^= (rng.random_sample(n) < invert_probability)[:, None, None]
        chunk |= rng.random_sample(chunk.shape) < noise
        images[start : start + n] = chunk
    if border_width:
        images[:, :border_width] = images[:, -border_width:] = False
        images[:, :, :border_width] = images[:, :, -border_width:] = False
    return images


# (row step, column step) of the 0, 45 and 90 degree sticks (rows go down, 45 degrees goes up-right)
_STICK_DIRECTIONS = np.array([[0, 1], [-1, 1], [1, 0]])


def make_noisy_sticks(
    n_samples: int,
    size: int = 70,
    *,
    n_sticks: int = 30,
    length_range: tuple[int, int] = (12, 15),
    noise: float = 0.1,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy sticks ("Noisti"): one-pixel-wide sticks at 0, 45 or 90 degrees, plus salt noise.

    The clean image has ``n_sticks`` sticks with lengths drawn uniformly in ``length_range``
    (inclusive), random directions among 0, 45 and 90 degrees, placed entirely inside the image.
    The noisy image adds salt noise: a fraction ``noise`` of the pixels is set to 1. The union of
    the openings by lines of length 5 at 0, 45 and 90 degrees recovers the sticks.

    Returns
    -------
    noisy : ndarray of bool, shape (n_samples, size, size)
    clean : ndarray of bool, shape (n_samples, size, size)
    """
    n_samples = _check_size(n_samples, "n_samples")
    size = _check_size(size, "size", minimum=1)
    n_sticks = _check_size(n_sticks, "n_sticks")
    low, high = (int(v) for v in length_range)
    if not 1 <= low <= high <= size:
        raise ValueError(
            f"length_range must satisfy 1 <= low <= high <= size={size}, got {length_range}"
        )
    noise = _check_fraction(noise, "noise")
    rng = check_random_state(random_state)
    lengths = rng.randint(low, high + 1, (n_samples, n_sticks))
    steps = _STICK_DIRECTIONS[rng.randint(0, 3, (n_samples, n_sticks))]
    # start positions keeping the whole stick inside the image
    reach = (lengths - 1)[..., None] * steps
    start_low = np.maximum(-reach, 0)
    start_high = size - 1 - np.maximum(reach, 0)
    span = start_high - start_low + 1
    starts = start_low + np.floor(rng.random_sample(reach.shape) * span).astype(int)
    t = np.arange(high)
    pixels = starts[:, :, None, :] + t[None, None, :, None] * steps[:, :, None, :]
    on_stick = t[None, None, :] < lengths[:, :, None]
    image_index = np.broadcast_to(np.arange(n_samples)[:, None, None], on_stick.shape)
    clean = np.zeros((n_samples, size, size), dtype=bool)
    clean[image_index[on_stick], pixels[..., 0][on_stick], pixels[..., 1][on_stick]] = True
    noisy = clean | (rng.random_sample(clean.shape) < noise)
    return noisy, clean
