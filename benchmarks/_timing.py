"""Small timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable


def best_time(function: Callable[[], object], repeat: int = 5, min_seconds: float = 0.2) -> float:
    """Best wall-clock time of one call, over ``repeat`` rounds of enough calls to last a while."""
    function()  # warm up
    start = time.perf_counter()
    function()
    single = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(min_seconds / single))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def machine_line() -> str:
    import numpy

    return (
        f"python {platform.python_version()}, numpy {numpy.__version__}, "
        f"{os.cpu_count()} cpus, {platform.machine()}"
    )
