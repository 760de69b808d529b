"""Worker pools finish cleanly: closed and joined when done, terminated only when stopped early."""
from __future__ import annotations

import multiprocessing.pool

from analysis.parallel import imap_ordered


def _square(x: int) -> int:
    return x * x


def test_results_in_order_and_a_finished_pool_is_closed_not_terminated(monkeypatch):
    calls = []
    original = multiprocessing.pool.Pool.terminate
    monkeypatch.setattr(multiprocessing.pool.Pool, "terminate", lambda self: (calls.append("terminate"), original(self)))
    assert list(imap_ordered(_square, range(50), 2)) == [x * x for x in range(50)]
    assert calls == []  # workers got the end-of-work sentinel; none was sent SIGTERM


def test_a_pool_stopped_early_is_terminated(monkeypatch):
    calls = []
    original = multiprocessing.pool.Pool.terminate
    monkeypatch.setattr(multiprocessing.pool.Pool, "terminate", lambda self: (calls.append("terminate"), original(self)))
    results = imap_ordered(_square, range(50), 2)
    assert next(results) == 0
    results.close()
    assert calls == ["terminate"]
