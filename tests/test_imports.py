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
    "module", ["skmorph", "skmorph.morphology", "skmorph.datasets", "skmorph.binary"]
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
