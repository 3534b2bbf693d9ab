"""A progress hook the CLI sets and tasks call (in-process task runners only; on a Dask
cluster the workers have no terminal and the CLI shows a spinner instead)."""

from __future__ import annotations

from collections.abc import Callable

_hook: Callable[[int], None] | None = None


def set_hook(hook: Callable[[int], None] | None) -> None:
    global _hook
    _hook = hook


def advance(n: int = 1) -> None:
    if _hook is not None:
        _hook(n)
