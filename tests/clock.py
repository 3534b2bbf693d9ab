"""A clock set wrong, for the tests, kept out of production code:

    python tests/clock.py DAYS -- ARGS...

runs `xxgk ARGS...` in this process with the clock the warehouse reads (`load.layout`,
which names batches, and `flows.work`, which stamps runs) DAYS days ahead (negative:
behind), as on a machine whose clock is wrong. Everything else runs exactly as `xxgk` does.
"""

from __future__ import annotations

import datetime as dt
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def shifted(days: float) -> types.ModuleType:
    """A stand-in for the `datetime` module whose `datetime.now()` is `days` off."""

    class WrongDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.now(tz) + dt.timedelta(days=days)

    module = types.ModuleType("datetime")
    module.__dict__.update(dt.__dict__)
    module.datetime = WrongDatetime
    return module


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] != "--":
        raise SystemExit(__doc__)
    clock = shifted(float(argv[0]))
    import flows.work
    import load.layout

    load.layout.dt = clock
    flows.work.dt = clock
    from flows.cli import main as xxgk

    sys.argv = ["xxgk", *argv[2:]]
    xxgk()


if __name__ == "__main__":
    main(sys.argv[1:])
