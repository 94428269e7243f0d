"""Running tasks on Dask, shared by the robustness runs (:mod:`analysis.scorecard.robustness`,
:mod:`analysis.scorecard.resample`): a client on a new ``LocalCluster`` or a running scheduler, a text
progress bar, and :func:`run_tasks`, which submits ``(function, *args)`` tuples and gathers their results as
they finish.
"""
from __future__ import annotations

import logging
import os
import sys
import time
from typing import Callable

__all__ = ["Progress", "client_for", "run_tasks", "text_progress"]

Progress = Callable[[int, int], None]


def client_for(workers: int | None = None, scheduler: str | None = None):
    """A Dask client and the cluster it owns: on ``scheduler`` when given (cluster ``None``), else on a new
    ``LocalCluster`` of ``workers`` single-threaded processes (default: one per CPU).

    Close the client, then the cluster (when not ``None``), when done.

    Examples
    --------
    >>> client, cluster = client_for(workers=1)  # doctest: +SKIP
    """
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    n = int(workers or os.cpu_count() or 1)
    # dashboard on a free port (":0"): the default 8787 may be taken by another cluster, and Dask then warns
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    return Client(cluster), cluster


def text_progress(stream=None, width: int = 30) -> Progress:
    """A progress callback drawing ``[#####-----] 12/40 tasks`` on ``stream`` (stderr), one line, redrawn.

    Examples
    --------
    >>> import io
    >>> s = io.StringIO(); bar = text_progress(s, width=4); bar(1, 2); bar(2, 2)
    >>> s.getvalue().splitlines()[-1].strip()
    '[####] 2/2 tasks, 100%'
    """
    stream = stream if stream is not None else sys.stderr
    t0 = time.perf_counter()

    def draw(done: int, total: int) -> None:
        filled = int(round(width * done / total)) if total else width
        elapsed = time.perf_counter() - t0
        eta = f", about {elapsed / done * (total - done):.0f} s left" if 0 < done < total else ""
        try:
            stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {done}/{total} tasks, "
                         f"{100 * done / total if total else 100:.0f}%{eta}   ")
            if done >= total:
                stream.write("\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    return draw


def _gather(futures, progress: Progress | None) -> list:
    from dask.distributed import as_completed

    results, total = [], len(futures)
    if progress:
        progress(0, total)
    for done, future in enumerate(as_completed(futures), start=1):
        results.append(future.result())
        if progress:
            progress(done, total)
    return results


def run_tasks(tasks: list[tuple], *, client=None, workers: int | None = None, scheduler: str | None = None,
              progress: Progress | None = None, shared: dict | None = None) -> list:
    """Run ``tasks`` (each ``(function, *args)``) on Dask and return their results as they finish.

    On ``client`` when given (left open), else on a client of :func:`client_for` (``scheduler``'s cluster or a
    new LocalCluster of ``workers`` processes), closed at the end, also on error.

    ``shared`` (name -> object) is sent to every worker once (``Client.scatter``, broadcast); an argument of a
    task that is the string ``"<shared:name>"`` is replaced by that object in the worker.

    Examples
    --------
    >>> run_tasks([(max, 1, 2)], workers=1)  # doctest: +SKIP
    [2]
    """
    own = client is None
    cluster = None
    if own:
        client, cluster = client_for(workers, scheduler)
    try:
        sent = {}
        if shared:
            sent = {f"<shared:{k}>": client.scatter(v, broadcast=True) for k, v in shared.items()}
        futures = [client.submit(fn, *[sent.get(a, a) if isinstance(a, str) else a for a in args], pure=False)
                   for fn, *args in tasks]
        return _gather(futures, progress)
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
