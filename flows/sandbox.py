"""`process_file` in an isolated reader process with hard limits.

A hostile document (a PDF whose content stream inflates to gigabytes, a page that takes
minutes) must not take the run down with it. `Sandbox.process` sends the document to a
long-lived child process (`python -m flows.sandbox`) that reads it under

- an address-space limit of `max_memory_mb` on top of its own baseline (Linux
  `RLIMIT_AS`; a document that needs more fails with a `MemoryError` → reason names
  `max_memory_mb`), and
- a wall-clock limit of `max_seconds`: past it the child is killed and restarted, and
  the document gets a reason naming `max_seconds`.

A child that dies (segfault, out-of-memory killer) costs only its document. Requests
and results are pickled frames on the child's stdin/stdout; anything a library prints
goes to stderr. The child is plain Python (no Prefect, no multiprocessing), so it can be
started from a Dask worker process too; one child per process, started on first use.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the parent starts its reader before importing them
    from extract import ExtractSettings
    from transform.records import ExtractionResult, SourceContext

_HEADER = struct.Struct(">Q")
GRACE_SECONDS = 2.0
"""Beyond max_seconds, time given to a child before it is killed (it may be writing)."""
START_SECONDS = 60.0
"""Time a new child may take to import the readers."""
_ROOT = Path(__file__).resolve().parent.parent


class ReaderDied(Exception):
    pass


def _write_frame(fh, obj) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEADER.pack(len(payload)))
    fh.write(payload)
    fh.flush()


def _read_exact(fh, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = fh.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_frame(fh):
    (n,) = _HEADER.unpack(_read_exact(fh, _HEADER.size))
    return pickle.loads(_read_exact(fh, n))


class Sandbox:
    """One isolated reader process, restarted whenever a document kills it."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._ready = False
        self._lock = threading.Lock()

    # -- child lifecycle

    def prestart(self) -> None:
        """Start the child now without waiting for it (its imports overlap the caller's work)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._spawn()

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self._proc = subprocess.Popen([sys.executable, "-m", "flows.sandbox"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env, cwd=str(_ROOT))
        self._ready = False

    def _ensure_ready(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._spawn()
        if self._ready:
            return
        # the child says it is ready once the readers are imported
        if not select.select([self._proc.stdout], [], [], START_SECONDS)[0]:
            self._kill()
            raise ReaderDied("the reader process did not start")
        _read_frame(self._proc.stdout)
        self._ready = True

    def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        self._ready = False
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        for fh in (proc.stdin, proc.stdout):
            try:
                fh.close()
            except OSError:
                pass
        return proc.wait()

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            self._ready = False
            if proc is None:
                return
            try:
                proc.stdin.close()  # end of input: the child exits
                proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    # -- work

    def process(self, path: Path | str, settings: ExtractSettings | dict | None = None, source: str | None = None,
                data: bytes | None = None, context: SourceContext | None = None) -> ExtractionResult:
        """Like `process_file` (never raises for a bad document), with the limits enforced."""
        from extract import ExtractSettings

        path = Path(path)
        settings = ExtractSettings.resolve(settings)
        with self._lock:
            try:
                self._ensure_ready()
                # the reader runs in the project folder: a path relative to the caller's folder
                # is made absolute, the source keeps the name the caller gave
                _write_frame(self._proc.stdin, (str(path.absolute()), settings, source if source is not None else str(path),
                                                data, context))
                ready = select.select([self._proc.stdout], [], [], settings.max_seconds + GRACE_SECONDS)[0]
                if not ready:
                    self._kill()
                    return _failed(path, data, source, "failed", f"still reading after max_seconds={settings.max_seconds:g} s: "
                                                         "stopped (time limit)")
                kind, value = _read_frame(self._proc.stdout)
            except (EOFError, BrokenPipeError, ConnectionError, ReaderDied, pickle.UnpicklingError) as exc:
                code = self._kill()
                return _failed(path, data, source, "failed", _death_reason(code, exc))
            if kind == "restart":  # the child ran out of memory: start a fresh one next time
                self._kill()
            return value


def _failed(path: Path, data: bytes | None, source: str | None, status: str, reason: str) -> ExtractionResult:
    if data is None:
        try:
            data = path.read_bytes()
        except OSError:
            data = str(path).encode()
    from extract import sniff_format
    from transform.pipeline import failed_result

    fmt = sniff_format(path, data[:8192]) if data else "unknown"
    return failed_result(path, hashlib.sha256(data).hexdigest(), len(data), fmt, status, reason, source)


def _death_reason(code: int | None, exc: Exception) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the reader process died ({name}{hint}) while reading the document"
    if isinstance(exc, ReaderDied):
        return str(exc)
    return f"the reader process exited ({code}) while reading the document"


_default: Sandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> Sandbox:
    """This process's reader process (started on first use, closed at exit)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Sandbox()
            atexit.register(_default.close)
        return _default


def process_isolated(path: Path | str, settings: ExtractSettings | dict | None = None, source: str | None = None,
                     data: bytes | None = None, context: SourceContext | None = None) -> ExtractionResult:
    return default_sandbox().process(path, settings, source, data, context)


# ---------------------------------------------------------------- the child


def _vm_bytes() -> int:
    """This process's current address-space size."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _limit_memory(max_mb: int | None) -> None:
    try:
        import resource
    except ImportError:  # not on this platform: nothing to enforce
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        if max_mb is None:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            return
        limit = _vm_bytes() + max_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        return  # no /proc, or a platform that refuses the limit (macOS): the time limit still holds


def _exit_with_parent(interval: float = 0.5) -> None:
    """End this process as soon as the command that started it is gone (a SIGKILL of the
    command closes the pipe, but a reader busy in OCR or pdfminer only reads it after its
    document: up to max_seconds of CPU for nobody). A daemon thread polls the parent id."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="xxgk-parent-watch", daemon=True).start()


def child_main() -> None:
    from .logs import route_python_logs

    _exit_with_parent()
    route_python_logs()  # pdfminer's font warnings to the log file, not between the results
    try:
        _serve()
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        pass  # the parent went away: nothing left to do


def _serve() -> None:
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints of libraries go to stderr, not into the protocol
    sys.stdout = sys.stderr
    proto_in = sys.stdin.buffer
    from transform.pipeline import process_file
    from transform.templates import load_templates

    load_templates()  # warm: the first document should not pay for it
    _write_frame(proto_out, ("ready", None))
    while True:
        try:
            path, settings, source, data, context = _read_frame(proto_in)
        except EOFError:
            return
        kind = "ok"
        _limit_memory(settings.max_memory_mb)
        started = time.monotonic()
        try:
            result = process_file(Path(path), settings, source, data, context)
        except MemoryError:
            result = None
        finally:
            _limit_memory(None)
        if result is None or (result.report.reason or "").startswith("ran out of memory"):
            kind = "restart"
            result = _failed(Path(path), data, source, "failed",
                             f"needed more than max_memory_mb={settings.max_memory_mb} MB of memory "
                             f"(memory limit; stopped after {time.monotonic() - started:.1f} s)")
        _write_frame(proto_out, (kind, result))


if __name__ == "__main__":
    child_main()
