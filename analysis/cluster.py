"""Running the clean -> tokens -> counts path on a Dask cluster.

``dask`` (``--dask``) names the cluster: ``"local"`` starts a dask.distributed LocalCluster of
``workers`` processes on this machine; an address (``tcp://HOST:8786``) connects to a running
scheduler; a ``distributed.Client`` is used as it is (and left open). ``engine(dask, workers)``
gives what ``parallel.imap_ordered`` runs on: ``workers`` (processes here) when ``dask`` is
None, else a ``DaskEngine``.

A DaskEngine sends each chunk of work as a task and yields the results in order, with at most
a few tasks per worker thread in flight, so memory does not grow with the corpus. The worker
setup (the segmenter with its lexicon and stopwords, the cleaning rules) is sent to the workers
once per run (scattered to every worker) and applied once per worker process; tasks carry only
their texts. Workers run the installed ``analysis``, jieba and rjieba: a worker whose versions
differ from this machine's refuses to work, since its tokens could differ.

Dask sends pickled functions and data between the client, the scheduler and the workers, so a
cluster must be one the user controls (see the README).
"""
from __future__ import annotations

import importlib.metadata
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .errors import AnalysisError

#: Seconds to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 10
#: Tasks in flight per worker thread: enough to keep workers busy, few enough to bound memory.
TASKS_PER_THREAD = 2
_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):\d{1,5}$")
_VERSIONED = ("analysis", "jieba", "rjieba", "pyarrow", "pandas", "numpy")


def check_dask(dask) -> None:
    """Raise AnalysisError unless ``dask`` is None, ``"local"``, a scheduler address or a Client."""
    if dask is None or dask == "local" or (isinstance(dask, str) and _ADDRESS.match(dask)) or isinstance(dask, DaskEngine):
        return
    if not isinstance(dask, str) and isinstance(dask, _import_distributed().Client):
        return
    raise AnalysisError(f"dask={dask!r} (--dask) is not valid; use 'local' (a cluster of worker processes on this machine), "
                        "a scheduler's address such as tcp://HOST:8786, or a distributed.Client.")


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise AnalysisError("dask needs the optional packages dask and distributed; install them with: "
                            "pip install 'analysis[dask]'.") from None
    return distributed


@contextmanager
def dask_client(dask, workers: int | None = 1) -> Iterator[Any]:
    """The ``distributed.Client`` that ``dask`` names (see the module docstring), closed on
    exit if it was opened here; ``workers``: processes of a ``"local"`` cluster (None: one per
    core). Raises AnalysisError if a scheduler cannot be reached within
    ``CONNECT_TIMEOUT`` seconds."""
    check_dask(dask)
    if isinstance(dask, DaskEngine):
        yield dask.client
        return
    if not isinstance(dask, str):
        yield dask
        return
    distributed = _import_distributed()
    if dask == "local":
        import logging

        # Worker processes, one thread each: the segmenter is Python, so threads would only
        # wait for each other. No dashboard, and the scheduler's own web routes on a free port
        # of 127.0.0.1, not on 8787, which another cluster may hold.
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                                           scheduler_kwargs={"dashboard": False}, silence_logs=logging.ERROR)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(dask, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError):
        raise AnalysisError(f"no Dask scheduler answered at {dask} within {CONNECT_TIMEOUT} s; start one there "
                            "(`dask scheduler`, then `dask worker` on each machine), check the address and port, "
                            "or use --dask local.") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError):
            raise AnalysisError(f"the Dask scheduler at {dask} has no workers (none joined within {CONNECT_TIMEOUT} s); start "
                                f"them with `dask worker {dask} --nthreads 1` on each machine.") from None
        yield client


@contextmanager
def engine(dask, workers: int | None = 1) -> Iterator[int | DaskEngine]:
    """What the work runs on: ``workers`` (processes on this machine) when ``dask`` is None,
    else a DaskEngine on the cluster ``dask`` names, released on exit."""
    if dask is None:
        yield workers
        return
    if isinstance(dask, DaskEngine):
        yield dask
        return
    with dask_client(dask, workers) as client:
        runner = DaskEngine(client)
        try:
            yield runner
        finally:
            runner.release()


def versions() -> dict[str, str | None]:
    """The installed versions of the packages whose results a worker must share with us."""
    found = {}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


class DaskEngine:
    """Work mapped over a Dask cluster through ``client``, results in order (see the module
    docstring). ``imap`` is ``parallel.imap_ordered``'s Dask path; ``map`` runs a plain
    function of one item (no worker setup), e.g. counting one shard of a token store."""

    def __init__(self, client):
        self.client = client
        self._setups: dict[Callable, tuple[tuple, Any]] = {}  # initializer -> (initargs, scattered)

    def __repr__(self) -> str:
        return f"DaskEngine({self.client.scheduler.address})"

    def _in_flight(self) -> int:
        return max(2, TASKS_PER_THREAD * sum(self.client.nthreads().values()))

    def _setup(self, initializer: Callable | None, initargs: tuple):
        """``initargs`` on every worker, scattered once for as long as they stay the same."""
        if initializer is None:
            return None
        known = self._setups.get(initializer)
        if known is None or known[0] != initargs:
            # In a list: a tuple would be scattered item by item.
            [scattered] = self.client.scatter([(versions(), initargs)], broadcast=True, hash=False)
            known = self._setups[initializer] = (initargs, scattered)
        return known[1]

    def imap(self, func: Callable[[Any], Any], items: Iterable[Any], *, initializer: Callable | None = None,
             initargs: tuple = ()) -> Iterator[Any]:
        """``func(item)`` for each item on the workers, in order, after ``initializer(*initargs)``
        has run once in each worker process."""
        setup = self._setup(initializer, initargs)
        key = setup.key if setup is not None else None
        return self._ordered(lambda item: self.client.submit(_run, func, initializer, key, setup, item, pure=False), items)

    def map(self, func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """``func(item)`` for each item on the workers, in order."""
        return self._ordered(lambda item: self.client.submit(func, item, pure=False), items)

    def _ordered(self, submit: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Submit a task per item, at most ``_in_flight()`` at once; yield results in order.
        Tasks not yet collected are cancelled when the caller stops or an error is raised."""
        limit = self._in_flight()
        pending: deque = deque()
        try:
            for item in items:
                pending.append(submit(item))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            if pending:
                self.client.cancel(list(pending))

    def release(self) -> None:
        """Let the workers drop the scattered setups."""
        for _, scattered in self._setups.values():
            scattered.release()
        self._setups.clear()


# ---------------------------------------------------------------- in a worker process

_LOCK = threading.Lock()
_DONE: dict[str, str] = {}  # initializer -> key of the setup it last ran with in this process


def _run(func: Callable[[Any], Any], initializer: Callable | None, key: str | None, setup: tuple | None, item: Any) -> Any:
    """In a worker: run ``initializer`` with the scattered setup if this process has not yet
    (checking the versions first), then ``func(item)``. One task at a time per process: the
    initializers set module globals (e.g. ``segment._WORKER``) that a second thread would share."""
    with _LOCK:
        if initializer is not None:
            name = f"{initializer.__module__}.{initializer.__qualname__}"
            if _DONE.get(name) != key:
                wanted, initargs = setup
                here = versions()
                if here != wanted:
                    differ = ", ".join(f"{k} {here[k]} (client {wanted[k]})" for k in wanted if here.get(k) != wanted[k])
                    raise AnalysisError(f"a Dask worker runs other package versions than this machine: {differ}; install the "
                                        "same versions on every worker (pip install -c constraints.txt ...) so that they give the same tokens.")
                initializer(*initargs)
                _DONE[name] = key
        return func(item)
