"""One place to compile kernels: numba's njit with an on-disk cache that cannot go stale.

numba's own cache checks only the source file of the function it compiled, so a kernel that
calls kernels from other modules would keep stale machine code after those change. Every
kernel here is cached in a directory named after a hash of all kernel sources, so any change
anywhere gets a fresh compile.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

_KERNEL_PACKAGES = ("sim", "controllers")


def _fingerprint() -> str:
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(numba.__version__.encode())
    for package in _KERNEL_PACKAGES:
        for path in sorted((root / package).glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cache_dir() -> str:
    base = os.environ.get("SERRA_NUMBA_CACHE")
    if not base:
        import platformdirs

        base = platformdirs.user_cache_dir("serra")
    return str(Path(base) / f"numba-{_fingerprint()}")


numba.config.CACHE_DIR = _cache_dir()  # type: ignore[attr-defined]  # set at import by numba


def njit(function):
    """Compile `function` with numba (nopython mode), cached on disk per source fingerprint."""
    return numba.njit(cache=True)(function)


def njit_inline(function):
    """Like `njit`, and inlined into its numba callers (small helpers in hot loops)."""
    return numba.njit(cache=True, inline="always")(function)
