"""How a flow run ended, for its `runs` row: finished, terminated (SIGTERM), interrupted
(Ctrl-C) or failed (an error), with a short text saying why. Imports nothing heavy: the
CLI's signal handler raises `Terminated` before any flow module is loaded."""

from __future__ import annotations

import signal

from common.errors import one_line

ERROR_CHARS = 300
"""The longest `error` text kept in a `runs` row (the rest is in the logs)."""


class Terminated(SystemExit):
    """SIGTERM: raised in the main thread so that everything unwinds (the run's Prefect API
    server and reader process are stopped, the writer lock released, the run's `runs` row
    written); exit 128 + the signal's number (143)."""


def outcome_of(exc: BaseException | None) -> tuple[str, str | None]:
    """(outcome, error) of a run that ended with `exc` (None: it finished)."""
    if exc is None:
        return "finished", None
    if isinstance(exc, Terminated) or _prefect_sigterm(exc):
        return "terminated", "stopped by SIGTERM"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "stopped by Ctrl-C (SIGINT)"
    # one line (an exception's text may hold a traceback or an engine's log), cut to ERROR_CHARS
    text = f"{type(exc).__name__}: {one_line(str(exc), ERROR_CHARS)}".rstrip(": ")
    return "failed", one_line(text, ERROR_CHARS - 1)


def _prefect_sigterm(exc: BaseException) -> bool:
    """Whether `exc` is Prefect's TerminationSignal for a SIGTERM: inside a flow run Prefect's
    own handler raises it instead of ours (then calls ours: the CLI still exits 143). Told by
    name: this module does not import Prefect."""
    return type(exc).__name__ == "TerminationSignal" and getattr(exc, "signal", None) == signal.SIGTERM
