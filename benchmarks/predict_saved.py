"""Load a binarized predictor saved as JSON where torch cannot be imported, and predict the test
set of an MNIST-format dataset with it: the check that a predictor trained elsewhere (on a GPU,
say) runs here, in NumPy alone, and predicts what it predicted there.

Run::

    python benchmarks/predict_saved.py --model gpu_s0.json \\
        --data /usr/share/datasets/fashion-mnist --expected gpu_s0_predictions.npy

``--model`` and ``--expected`` come from ``benchmarks/bench_classification.py --conv
--save-binarized ... --save-predictions ...`` (the predictions made, on the machine that
trained it, by the fitted estimator's binarized predictor). Prints the test accuracy, and with
``--expected`` how many predictions differ; exits with status 1 when any does.
"""

from __future__ import annotations

import argparse
import sys
import time


class BlockTorch:
    """An import hook that makes ``import torch`` fail, as on a machine without torch."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked by benchmarks/predict_saved.py")
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the binarized predictor (JSON)")
    parser.add_argument("--data", required=True, help="folder with the four IDX files")
    parser.add_argument("--expected", help="predictions saved where the model was trained (.npy)")
    args = parser.parse_args()
    sys.meta_path.insert(0, BlockTorch())
    import numpy as np

    from skmorph.binary import BinarizedNetwork
    from skmorph.datasets import load_mnist

    images, labels = load_mnist(args.data, "test")
    X = images.reshape(len(images), -1).astype(np.float32) / 255
    model = BinarizedNetwork.load(args.model)
    start = time.perf_counter()
    predicted = model.predict(X)
    seconds = time.perf_counter() - start
    print(f"{args.model}: test accuracy {np.mean(predicted == labels):.4f} on {len(labels)} "
          f"images, predicted in {seconds:.2f} s; torch imported: {'torch' in sys.modules}")
    if args.expected is None:
        return 0
    expected = np.load(args.expected)
    if expected.shape != predicted.shape:
        print(f"--expected holds {expected.shape} predictions, the test set {predicted.shape}")
        return 1
    differ = int(np.sum(expected != predicted))
    print(f"predictions that differ from {args.expected}: {differ} of {len(expected)}")
    return int(differ > 0)


if __name__ == "__main__":
    sys.exit(main())
