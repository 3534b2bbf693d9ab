"""The one way xxgk replaces a file: write it under a temporary name in its final
directory, sync it, rename it over the target. A reader (or a crash) sees the old file or
the new one, never half of one. Temporaries are named `.<name>.<hex>.tmp`, which is what
`load.clean_temporaries` removes after a killed writer."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def temporary_for(path: Path) -> Path:
    """A fresh temporary name beside `path`."""
    return path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"


def atomic_write(path: Path, fill: Callable[[Path], object]) -> Path:
    """`fill(tmp)` writes the new content to a temporary file; it is synced and renamed over
    `path` (directories created as needed). If `fill` raises, nothing changes at `path` and
    the temporary is removed. Returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_for(path)
    try:
        fill(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
