"""How many CPU threads the native libraries of one process may use.

Unset, each takes every core (ONNX Runtime, DuckDB, BLAS). On a machine with several workers, NIGHTSHIFT_THREADS
gives each its share, so that two workers on two cores do not each start two threads that take turns.
BLAS and LanceDB read their own variables at start (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, LANCE_CPU_THREADS):
`pinned` sets them for a process about to be started.
"""

import os

THREADS = "NIGHTSHIFT_THREADS"


def threads() -> int | None:
    """The configured thread count, or None: the library's own default (every core)."""
    value = os.environ.get(THREADS)
    return max(1, int(value)) if value else None


def pinned(env: dict[str, str], count: int) -> dict[str, str]:
    """``env`` for a process whose every native library uses ``count`` threads."""
    return {**env, THREADS: str(count), "OMP_NUM_THREADS": str(count), "OPENBLAS_NUM_THREADS": str(count),
            "MKL_NUM_THREADS": str(count), "LANCE_CPU_THREADS": str(count)}
