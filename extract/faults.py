"""Crash points, for the crash-safety tests: with `XXGK_KILL_AT=name[:n]` in the
environment, the process kills itself with SIGKILL the n-th time (default 1st) it passes
`kill_point(name)`. Names: `fetch` (a fetched file was stored), `extract` (a document was
read), `write` (a Parquet file is written under its temporary name, not yet renamed),
`commit` (a load's documents file was written, old rows not yet vacuumed). Unset, a
kill point costs one dictionary lookup."""

from __future__ import annotations

import os
import signal
from collections import Counter

_SPEC = os.environ.get("XXGK_KILL_AT", "")
_NAME, _, _N = _SPEC.partition(":")
_AT = int(_N or 1) if _NAME else 0
_seen: Counter = Counter()


def kill_point(name: str) -> None:
    if name != _NAME:
        return
    _seen[name] += 1
    if _seen[name] == _AT:
        os.kill(os.getpid(), signal.SIGKILL)
