"""Crash points for the crash-safety tests, kept out of production code:

    python tests/killer.py POINT[:N][@HOW] -- ARGS...

runs `xxgk ARGS...` in this process with one function wrapped so that the process kills
itself with SIGKILL the N-th time (default: the first) it passes POINT; with @TERM it sends
itself SIGTERM instead (as `kill` or systemd would), with @INT SIGINT (Ctrl-C), with @ERROR
the wrapped function raises RuntimeError (an internal error) after doing its work:

    discover  the given folders were walked (`flows.discover.discover` returned: the CLI's
              count of the files, before the flow begins)
    fetch     a fetched file was stored in the raw store (`RawStore.put` returned)
    extract   a document was read (the reader `flows.work` calls returned its result)
    write     a Parquet file was written under its temporary name, not yet renamed
              (`load.parquet.write_parquet` returned)
    commit    a load's documents file (its commit) was written, old rows not yet vacuumed
              (`write_atomic` of a `documents/` file in load/warehouse.py returned)

The wrapped functions are the real ones: everything else runs exactly as `xxgk` does.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class Countdown:
    """SIGKILL this process on the `at`-th call of `tick` (or `how`: TERM, INT, ERROR)."""

    def __init__(self, at: int, how: str = "KILL") -> None:
        self.at, self.seen, self.how = at, 0, how
        self._lock = threading.Lock()  # fetches and extract tasks may run in threads

    def tick(self) -> None:
        with self._lock:
            self.seen += 1
            if self.seen != self.at:
                return
        if self.how == "ERROR":
            raise RuntimeError(f"killer.py: an internal error at call {self.at}")
        os.kill(os.getpid(), getattr(signal, f"SIG{self.how}"))
        if self.how != "KILL" and threading.current_thread() is threading.main_thread():
            time.sleep(1.0)  # the handler runs here, at once: the call does not return


def _after(owner, name: str, countdown: Countdown, when=lambda *a, **k: True) -> None:
    """Wrap `owner.name` so that each call for which `when(*args)` holds ticks `countdown`
    once the real function has returned."""
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        out = real(*args, **kwargs)
        if when(*args, **kwargs):
            countdown.tick()
        return out

    setattr(owner, name, wrapped)


def arm(point: str, at: int, how: str = "KILL") -> None:
    if how not in ("KILL", "TERM", "INT", "ERROR"):
        raise SystemExit(f"unknown way to stop {how!r}: KILL, TERM, INT or ERROR")
    countdown = Countdown(at, how)
    if point == "fetch":
        from extract.crawl.store import RawStore

        _after(RawStore, "put", countdown)
    elif point == "discover":
        import flows.discover

        _after(flows.discover, "discover", countdown)
    elif point == "extract":
        import flows.work

        _after(flows.work, "process_isolated", countdown)
    elif point == "write":
        import load.parquet

        _after(load.parquet, "write_parquet", countdown)
    elif point == "commit":
        import load.warehouse

        def is_commit(path, *args, **kwargs) -> bool:
            return Path(path).parent.name == "documents"

        _after(load.warehouse, "write_atomic", countdown, when=is_commit)
    else:
        raise SystemExit(f"unknown crash point {point!r}: discover, fetch, extract, write or commit")


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] != "--":
        raise SystemExit(__doc__)
    spec, _, how = argv[0].partition("@")
    name, _, n = spec.partition(":")
    arm(name, int(n or 1), how or "KILL")
    from flows.cli import main as xxgk

    sys.argv = ["xxgk", *argv[2:]]
    xxgk()


if __name__ == "__main__":
    main(sys.argv[1:])
