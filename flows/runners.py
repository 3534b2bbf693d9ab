"""Where the flows' tasks run: threads in this process (default), a local Dask cluster of
N worker processes (`--workers N`), or an existing Dask cluster (`--dask-address`).

With no Prefect API configured, every Dask worker process would start its own temporary
Prefect server; `owned_api()` starts one API for the whole run instead and points every
process at it through PREFECT_API_URL (workers inherit the environment). The run owns that
server: it is stopped when the run ends and killed by a watchdog process when the run is
killed (flows/watchdog.py)."""

from __future__ import annotations

import contextlib
import os


def task_runner(workers: int | None = None, address: str | None = None):
    """The Prefect task runner for these options (None: Prefect's default thread pool)."""
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    if workers and workers > 1:
        import multiprocessing

        import dask
        from prefect_dask import DaskTaskRunner

        if "forkserver" in multiprocessing.get_all_start_methods():
            # workers forked from a fork server that has Prefect and the extractors imported
            # start about 4 s faster than spawned ones (which import them again). Not plain
            # fork: forking this threaded process can deadlock a worker on a held lock.
            import multiprocessing.forkserver

            # (pandas: pyarrow imports it on the first Parquet write)
            multiprocessing.set_forkserver_preload(["flows.run", "pandas"])
            multiprocessing.forkserver.ensure_running()  # it imports while the caller goes on
            dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"})
        # each worker starts its reader process as it starts (flows/workers.py); no
        # statistical profiler sampling the worker's threads every 10 ms (no dashboard here)
        dask.config.set({"distributed.worker.preload": ["flows.workers"],
                         "distributed.worker.profile.enabled": False})
        kwargs = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
        return DaskTaskRunner(cluster_class=PrestartedCluster(kwargs), cluster_kwargs=kwargs)
    return None


class PrestartedCluster:
    """A LocalCluster that starts in a background thread as soon as this is created, so its
    start-up overlaps the Prefect API's and the flow's own (prefect-dask would only start
    it at the first submission). Called by DaskTaskRunner in place of a cluster class: the
    first call hands over the cluster started here (DaskTaskRunner closes it when the flow
    ends); a later call starts a new one."""

    _starting: dict = {}
    """id → Future of the cluster being started; kept out of the object, which Prefect
    pickles along with the task runner."""

    def __init__(self, kwargs: dict) -> None:
        import threading
        import uuid
        from concurrent.futures import Future

        from distributed import LocalCluster

        self.__qualname__ = type(self).__qualname__  # prefect-dask logs the cluster "class" by name
        self._id = uuid.uuid4().hex
        future: Future = Future()
        self._starting[self._id] = future

        def start() -> None:
            try:
                future.set_result(LocalCluster(**kwargs))
            except BaseException as exc:  # noqa: BLE001 - raised in the flow, where it is needed
                future.set_exception(exc)

        threading.Thread(target=start, name="xxgk-cluster-start", daemon=True).start()

    def __call__(self, **kwargs):
        from distributed import LocalCluster

        future = self._starting.pop(self._id, None)
        return future.result() if future is not None else LocalCluster(**kwargs)


class Watchdog:
    """A process (flows/watchdog.py, in its own session) that kills the processes it is
    told to watch once this process is gone without saying `done`: the run's temporary
    API server dies with the run, SIGKILL included (a child's PR_SET_PDEATHSIG cannot be
    set through Prefect's Popen; a pipe's end and the parent's id can be watched)."""

    def __init__(self) -> None:
        import subprocess
        import sys
        from pathlib import Path

        script = Path(__file__).with_name("watchdog.py")
        self.proc = subprocess.Popen([sys.executable, "-I", "-S", str(script), str(os.getpid())],
                                     stdin=subprocess.PIPE, start_new_session=True)

    def _say(self, line: str) -> None:
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # it is gone: nothing it could do now

    def watch(self, pid: int) -> None:
        self._say(f"watch {pid}")

    def done(self) -> None:
        """The watched processes were stopped here: end without killing anything."""
        self._say("done")
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - a watchdog that does not end is killed
            self.proc.kill()
            self.proc.wait()


def _owned_server(watchdog: Watchdog):
    """A temporary Prefect API server (Prefect's own SubprocessASGIServer) whose process is
    handed to `watchdog` the moment it is started (also when Prefect restarts it on
    another port)."""
    import socket

    from prefect.server.api.server import SubprocessASGIServer

    class OwnedServer(SubprocessASGIServer):
        def _run_uvicorn_command(self):
            proc = super()._run_uvicorn_command()
            watchdog.watch(proc.pid)
            return proc

    with socket.socket() as s:  # a port of our own: not Prefect's shared ephemeral instance
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return OwnedServer(port)


@contextlib.contextmanager
def owned_api():
    """The run's own temporary Prefect API, unless one is configured (PREFECT_API_URL in the
    environment, profile or prefect.toml): every process of the run (Dask workers inherit
    the environment) uses it, and it dies with the run however the run ends (stopped here
    on return, an exception, Ctrl-C or SIGTERM; killed by the watchdog after a SIGKILL)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield None
        return
    watchdog = Watchdog()
    server = None
    try:
        server = _owned_server(watchdog)
        server.start(timeout=120)
        os.environ["PREFECT_API_URL"] = server.api_url
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        if server is not None:
            server.stop()
        watchdog.done()


@contextlib.contextmanager
def cli_settings():
    """Prefect settings for flows started from the command line: no flow-run heartbeats.
    Heartbeats let a server notice crashed runs of served deployments (`xxgk serve` keeps
    them); for a run the CLI waits on they only add up to 1 s to every flow call."""
    from prefect.settings import temporary_settings

    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


def with_runner(flow_fn, workers: int | None = None, address: str | None = None):
    runner = task_runner(workers, address)
    return flow_fn.with_options(task_runner=runner) if runner is not None else flow_fn
