"""A learned two-layer operator on a gigapixel dask array, on a 2-worker LocalCluster, against
dask-image's binary_opening on the same array and skmorph's in-memory speed.

Run: python benchmarks/bench_dask.py [--side 32768] [--chunk 8192] [--repeats 3]
                                     [--input persisted|generated]

The operator is a MorphologicalTransformer fitted on Diskorect pairs of an opening by disk(3)
(7x7 kernels, two layers: reach 6); its torch-free ``binarized_`` runs on the workers (what a
user ships; workers import no torch). The image is generated chunk by chunk (Bernoulli 0.95
pixels), and every result is reduced to a pixel count, so no result is held whole. Boolean
chunks go through skmorph's packed path (each chunk packed before its margins are taken).

``--input persisted`` (the default) computes the image once and keeps its chunks in the
workers' memory (one byte per pixel, half of it on each worker) before anything is timed: each
row then times the operator and the count alone. ``--input generated`` regenerates the image
inside every timed run, never holding it whole, and subtracts the best time of generating and
counting it alone from each row: generation (a float draw per pixel, about 100 ms per 4096 x
4096 chunk) is then most of every run, and that difference varied 2.4x between invocations on
a 2-core machine (benchmarks/README.md).

Peak memory per worker is the maximum resident set size of each worker process so far
(skmorph's row runs first, so its peak is its own; with ``--input persisted`` it includes the
worker's half of the image). Every timing is the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=32768)
    # 8192 x 8192 booleans: 64 MiB chunks, within dask's advice (around 100 MB)
    parser.add_argument("--chunk", type=int, default=8192)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--input", choices=["persisted", "generated"], default="persisted")
    args = parser.parse_args()

    import dask.array as da
    import dask_image.ndmorph
    from distributed import Client, LocalCluster, wait

    from skmorph import MorphologicalTransformer
    from skmorph.datasets import make_diskorect
    from skmorph.morphology import disk, opening

    train = make_diskorect(300, random_state=0)
    model = MorphologicalTransformer((1,), kernel_size=7, random_state=0, device="cpu")
    model.fit(train, opening(train, disk(3)))
    print(f"# learned operator: {model.formula()[0]} (reach {model.binarized_.reach()})")
    pixels = args.side**2

    def image():
        return da.random.RandomState(0).random_sample((args.side, args.side),
                                                      chunks=args.chunk) < 0.95

    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit="8GiB") as cluster, \
            Client(cluster) as client:
        rows = []
        small = da.ones((256, 256), chunks=128, dtype=bool)  # warm up the workers' imports
        model.binarized_.transform(small[None]).sum().compute()
        dask_image.ndmorph.binary_opening(small, structure=disk(3)).sum().compute()

        def best(lazy):
            seconds = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                kept = int(lazy().sum().compute())
                seconds.append(time.perf_counter() - start)
            return kept, min(seconds)

        if args.input == "persisted":
            held = image().persist()
            wait(held)
            source, base = (lambda: held), 0.0
            setting = "image persisted in the workers' memory first"
        else:
            source = image
            _, base = best(image)
            setting = f"generating and counting the image alone: {base:.1f} s (subtracted)"
        for name, lazy in [
            ("skmorph learned operator (binarized_)",
             lambda: model.binarized_.transform(source()[None])),
            ("dask_image.ndmorph.binary_opening",
             lambda: dask_image.ndmorph.binary_opening(source(), structure=disk(3))),
        ]:
            kept, seconds = best(lazy)
            peaks = client.run(_peak_rss_mib)  # the largest so far: includes the rows above
            rows.append((name, kept, seconds - base, max(peaks.values())))
        print(f"# {args.side} x {args.side} = {pixels / 1e9:.2f} Gpixels, chunks {args.chunk}, "
              f"2 workers x 1 thread; best of {args.repeats}; {setting}")
        print("| operator | pixels kept | seconds | Mpixel/s | peak RSS per worker (MiB) |")
        print("|---|---:|---:|---:|---:|")
        for name, kept, seconds, peak in rows:
            print(f"| {name} | {kept:,} | {seconds:.1f} | {pixels / 1e6 / seconds:,.0f} | "
                  f"{peak:,.0f} |")
        print(f"speed-up over dask-image: {rows[1][2] / rows[0][2]:.1f}x; same pixels: "
              f"{rows[0][1] == rows[1][1]}")

    side = 8192  # in memory, one process
    array = np.random.default_rng(0).random((1, side, side)) < 0.95
    model.transform(array[:, :64, :64])
    start = time.perf_counter()
    model.transform(array)
    seconds = time.perf_counter() - start
    print(f"in memory, {side} x {side} image, one process: {seconds:.2f} s, "
          f"{side * side / 1e6 / seconds:,.0f} Mpixel/s")


if __name__ == "__main__":
    main()
