"""Cleaning over worker processes against one process, measured in the same run.

Builds a corpus of ``--docs`` documents by replicating the raw sample (its boilerplate,
split paragraphs and repeats give every step work), cleans it with 1 and ``--workers``
processes, alternating ``--repeats`` times, checks that the results are identical, and
prints the seconds and the speed-up (median and range). On a machine shared with other
programs, it first measures how many cores it is given: the same busy loop twice, one after
the other and in two processes at once.

    python benchmarks/bench_clean.py [--docs 3000] [--workers 2] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

import analysis
from analysis.parallel import imap_ordered

ROOT = Path(__file__).resolve().parents[1]


def raw_corpus(docs: int) -> analysis.Corpus:
    """The raw sample's documents repeated until there are ``docs``."""
    base = analysis.load_corpus(ROOT / "corpus", progress=False)
    records = base.metadata.to_dict("records")
    rows, texts = [], {}
    for n in range(docs):
        record = records[n % len(records)]
        doc_id = f"{record['doc_id']}-{n:06d}"
        rows.append({**record, "doc_id": doc_id})
        texts[doc_id] = base.text(record["doc_id"])
    meta = pd.DataFrame(rows).sort_values("doc_id").reset_index(drop=True)
    return replace(base, metadata=meta, texts=texts, hash=f"bench-clean-{docs}", source="benchmark")


def _busy(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def cores_given(workers: int, n: int = 10_000_000) -> float:
    """Serial time of ``workers`` busy loops over their time in ``workers`` processes at once."""
    start = time.perf_counter()
    for _ in range(workers):
        _busy(n)
    serial = time.perf_counter() - start
    start = time.perf_counter()
    list(imap_ordered(_busy, [n] * workers, workers))
    return serial / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    corpus = raw_corpus(args.docs)
    mb = sum(len(t.encode()) for _, t in corpus) / 1e6
    print(f"clean: {args.docs} documents, {mb:.1f} MB; {os.cpu_count()} cores; "
          f"cores given now (a busy loop in {args.workers} processes): {cores_given(args.workers):.2f}")
    times: dict[int, list[float]] = {1: [], args.workers: []}
    results = {}
    for _ in range(args.repeats):
        for workers in times:
            start = time.perf_counter()
            results[workers] = analysis.clean(corpus, workers=workers, progress=False)
            times[workers].append(time.perf_counter() - start)
    one, many = results[1], results[args.workers]
    same = one.texts == many.texts and one.removed.equals(many.removed) and one.hash == many.hash
    ratios = sorted(a / b for a, b in zip(times[1], times[args.workers]))
    print(f"\n{'workers':<9}{'median s':>10}{'min s':>8}{'max s':>8}")
    for workers, seconds in times.items():
        ordered = sorted(seconds)
        print(f"{workers:<9}{ordered[len(ordered) // 2]:>10.2f}{ordered[0]:>8.2f}{ordered[-1]:>8.2f}")
    print(f"\nspeed-up with {args.workers} workers: median {ratios[len(ratios) // 2]:.2f}x, range {ratios[0]:.2f}-{ratios[-1]:.2f}; "
          f"identical to 1 worker: {same}")


if __name__ == "__main__":
    main()
