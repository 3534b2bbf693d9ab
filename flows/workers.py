"""Set-up of Dask worker processes, loaded with `distributed.worker.preload` (`--workers N`
sets it; for a cluster of your own: `dask worker --preload flows.workers …`): the
worker's reader process (flows/sandbox.py) starts with the worker, so its imports
overlap the cluster's start-up instead of delaying the first batch."""

from __future__ import annotations


def dask_setup(worker) -> None:  # called by distributed when the worker starts
    from flows.sandbox import default_sandbox

    default_sandbox().prestart()
