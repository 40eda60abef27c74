"""Bit-packed erosion/dilation against scipy.ndimage on a large image.

Run: python benchmarks/bench_morphology.py [--size 2048]

Times are best-of-5, image to image (boolean in, boolean out: packing and unpacking included),
plus the packed-to-packed time that chained operations pay.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy
from _timing import best_time, machine_line
from scipy import ndimage as ndi

from skmorph.morphology import dilation, disk, erosion, line, pack, square


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    image = rng.random((args.size, args.size)) < 0.5
    packed = pack(image)
    print(f"# {machine_line()}, scipy {scipy.__version__}, image {args.size}x{args.size}")
    print("| operation | element | scipy (ms) | skmorph (ms) | speed-up | packed->packed (ms) |")
    print("|---|---|---:|---:|---:|---:|")
    cases = [("3x3 square", square(3)), ("5x5 disk", disk(2)), ("7x7 line 0deg", line(7, 0))]
    for op_name, ours, theirs in [
        ("erosion", erosion, ndi.binary_erosion),
        ("dilation", dilation, ndi.binary_dilation),
    ]:
        for selem_name, selem in cases:
            assert np.array_equal(ours(image, selem), theirs(image, selem))
            t_scipy = best_time(lambda: theirs(image, selem))  # noqa: B023
            t_ours = best_time(lambda: ours(image, selem))  # noqa: B023
            t_packed = best_time(lambda: ours(packed, selem))  # noqa: B023
            print(
                f"| {op_name} | {selem_name} | {t_scipy * 1e3:.2f} | {t_ours * 1e3:.3f} "
                f"| {t_scipy / t_ours:.1f}x | {t_packed * 1e3:.3f} |"
            )


if __name__ == "__main__":
    main()
