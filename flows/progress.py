"""A progress hook the CLI sets and the flows call with the number of documents done.
In-process, tasks advance it document by document; on a Dask cluster (whose workers have
no terminal) the flow advances it by a whole batch as each batch finishes."""

from __future__ import annotations

from collections.abc import Callable

_hook: Callable[[int], None] | None = None


def set_hook(hook: Callable[[int], None] | None) -> None:
    global _hook
    _hook = hook


def advance(n: int = 1) -> None:
    if _hook is not None:
        _hook(n)
