"""Kill the processes a run started when the run is gone, however it ended.

`python flows/watchdog.py PARENT_PID` runs in its own session (a Ctrl-C or a signal to the
run's process group does not reach it) with a pipe from the run on stdin, on which the run
writes `watch PID` for every process it owns (its temporary Prefect API server) and `done`
when it has stopped them itself. When the pipe ends without `done` (the run exited or was
killed, SIGKILL included) or the watchdog's parent is no longer PARENT_PID (the run died
and the watchdog was handed to init), every watched process and its descendants get
SIGTERM, and SIGKILL 5 s later. A process is killed only while it is still the one that
was named (same start time), never a later process that reused its id.

Plain Python, standard library only, and no project imports: it starts in a few
hundredths of a second (started with `-I -S`)."""

from __future__ import annotations

import os
import select
import signal
import sys
import time

POLL_SECONDS = 0.5
KILL_AFTER = 5.0


def started(pid: int) -> str | None:
    """The start time of `pid` (Linux: field 22 of /proc/PID/stat), "" where /proc does not
    exist, None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return ""
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2:].split()
    return None if fields[0] == b"Z" else fields[19].decode()


def descendants(pid: int) -> list[int]:
    """`pid`'s children, their children, … (Linux; [] without /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_all(watched: dict[int, str]) -> None:
    """SIGTERM every watched process still alive (and its descendants), SIGKILL after
    KILL_AFTER seconds what is left."""
    targets = {}
    for pid, start in watched.items():
        if started(pid) == start:
            for p in [pid, *descendants(pid)]:
                targets[p] = started(p)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, start in targets.items():
            if start is not None and started(pid) == start:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        deadline = time.monotonic() + KILL_AFTER
        while time.monotonic() < deadline and any(started(p) == s for p, s in targets.items() if s is not None):
            time.sleep(0.05)


def main(argv: list[str]) -> None:
    parent = int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the run's end ends the watch
    watched: dict[int, str] = {}
    buf = b""
    while True:
        ready, _, _ = select.select([0], [], [], POLL_SECONDS)
        if ready:
            chunk = os.read(0, 4096)
            if not chunk:
                break  # the run closed its end without `done`: it is gone
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                word, _, arg = line.decode().partition(" ")
                if word == "done":
                    return
                if word == "watch" and arg.strip().isdigit():
                    start = started(int(arg))
                    if start is not None:
                        watched[int(arg)] = start
        if os.getppid() != parent:
            break  # the run died; this process was handed to init (or a subreaper)
    kill_all(watched)


if __name__ == "__main__":
    main(sys.argv)
