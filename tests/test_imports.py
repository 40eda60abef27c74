"""The NumPy side of skmorph must import (and unpickle) without torch."""

import subprocess
import sys
import textwrap

import pytest

BLOCK_TORCH = textwrap.dedent(
    """
    import sys

    class BlockTorch:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ImportError("torch is blocked in this test")
            return None

    sys.meta_path.insert(0, BlockTorch())
    """
)


def run_without_torch(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "module",
    ["skmorph", "skmorph.morphology", "skmorph.datasets", "skmorph.binary",
     "skmorph.binary.search", "skmorph.binary.programs"],
)
def test_numpy_side_imports_without_torch(module):
    result = run_without_torch(
        f"""
        import {module}
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_morphology_runs_without_torch():
    result = run_without_torch(
        """
        import numpy as np
        from skmorph.morphology import disk, erosion
        erosion(np.ones((8, 8), bool), disk(1))
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_a_pickled_binarized_network_loads_and_predicts_without_torch(tmp_path):
    import pickle

    import numpy as np

    from skmorph.binary import BinarizedNetwork, BinaryDense, LinearHead, Thresholds

    rng = np.random.default_rng(0)
    network = BinarizedNetwork(
        [
            Thresholds(rng.random((6, 2))),
            BinaryDense(rng.random((5, 12)) < 0.4, [1, 1, 2, 1, 1]),
            LinearHead(rng.normal(size=(3, 5)), rng.normal(size=3)),
        ],
        classes=np.array(["a", "b", "c"]),
    )
    X = rng.random((20, 6))
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(network))
    np.save(tmp_path / "X.npy", X)
    result = run_without_torch(
        f"""
        import pickle
        import numpy as np
        network = pickle.loads(open({str(tmp_path / "model.pkl")!r}, "rb").read())
        X = np.load({str(tmp_path / "X.npy")!r})
        print(",".join(network.predict(X)))
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ",".join(network.predict(X))
