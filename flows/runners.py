"""Where the flows' tasks run: threads in this process (default), a local Dask cluster of
N worker processes (`--workers N`), or an existing Dask cluster (`--dask-address`).

With no Prefect API configured, every Dask worker process would start its own temporary
Prefect server; `shared_api()` starts one API for the whole run instead and points every
process at it through PREFECT_API_URL (workers inherit the environment)."""

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


@contextlib.contextmanager
def shared_api(needed: bool):
    """One temporary Prefect API for the run's processes, unless one is configured."""
    if not needed or os.environ.get("PREFECT_API_URL"):
        yield None
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=120)
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield server.api_url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


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
