"""Peak memory of a call, for tests of memory-lean code (no timing)."""

import tracemalloc


def peak_memory(call):
    """``(result, peak bytes allocated by Python and NumPy during the call)``."""
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak
