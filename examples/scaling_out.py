"""
Scale out with Dask: a grid search on a cluster, an image larger than memory
============================================================================

A ``distributed.LocalCluster`` stands in for a real cluster (point ``Client`` at a scheduler's
address instead). The grid search runs scikit-learn's ``GridSearchCV`` under joblib's dask
backend, one fit per worker task, each worker's torch on one thread; the scores equal those of
``n_jobs=1``. The large image is generated lazily, chunk by chunk, opened by a disk on packed
bits chunk by chunk (each chunk read with the opening's 6-pixel margin), and reduced to a pixel
count: it is never held whole (40 000 x 40 000 pixels without ``--quick``). Only a corner of
the result is computed to be drawn.

The worker processes re-import this file, so the work sits under
``if __name__ == "__main__":``, as in any script that starts processes.

Run: ``python examples/scaling_out.py [--quick]``
"""

import argparse
import time

if __name__ == "__main__":
    import dask.array as da
    import joblib
    import matplotlib.pyplot as plt
    from distributed import Client, LocalCluster
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from skmorph import BiMoNNClassifier
    from skmorph.morphology import disk, opening

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (used by the tests)")
    args = parser.parse_args()

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster):
        # A grid search: each fit is a task on a worker.
        X, y = load_digits(return_X_y=True)
        X, y = (X[:400], y[:400]) if args.quick else (X, y)
        model = BiMoNNClassifier(hidden_layer_sizes=(64,), regularization="constant_exact",
                                 max_epochs=5 if args.quick else 30, random_state=0)
        search = GridSearchCV(model, {"regularization_weight": [1e-3, 1e-2, 1e-1]}, cv=3)
        with joblib.parallel_config(backend="dask"):
            search.fit(X, y)
        for weight, score in zip(search.cv_results_["param_regularization_weight"],
                                 search.cv_results_["mean_test_score"], strict=True):
            print(f"regularization_weight {weight:g}: binarized accuracy {score:.4f}")

        # An image that is never held whole: generated, opened and counted chunk by chunk.
        side = 2_000 if args.quick else 40_000
        image = da.random.RandomState(0).random_sample((side, side), chunks=1_000) < 0.95
        opened = opening(image, disk(3))
        start = time.perf_counter()
        kept = int(opened.sum().compute())
        print(f"opening of a lazily generated {side} x {side} image by disk(3): {kept} pixels "
              f"kept of {side * side} ({time.perf_counter() - start:.1f} s on 2 workers)")

        # Slicing the lazy result computes only the chunks it needs.
        corner = slice(960, 1040)  # across a chunk border, at 1000
        figure, axes = plt.subplots(1, 2, figsize=(6, 3))
        for ax, array, title in zip(axes, (image, opened), ("input", "opening by disk(3)"),
                                    strict=True):
            ax.imshow(array[corner, corner].compute(), cmap="gray_r", interpolation="nearest")
            ax.axhline(39.5, color="tab:red", linewidth=0.8)
            ax.axvline(39.5, color="tab:red", linewidth=0.8)
            ax.set_title(f"{title} (chunk borders in red)", fontsize=8)
            ax.set_axis_off()
        figure.tight_layout()
        plt.show()
