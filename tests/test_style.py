import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the [test] extra; install it with pip install -e '.[test]'")
    folders = [f for f in ("skmorph", "tests", "benchmarks", "examples") if (ROOT / f).is_dir()]
    result = subprocess.run(
        [ruff, "check", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
