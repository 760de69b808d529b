"""The Dask path against the local path: clean, tokens into a store, counts from the store.

For each ``--docs`` size, builds a corpus as ``bench_scale.py`` does, then runs in this
process: clean and tokenise into a token store with ``--workers`` local processes, and count
the store per district (``count_groups``); then the same with ``dask`` on a LocalCluster of
``--workers`` processes of one thread each (started once, its start-up timed apart). Checks
that the two stores are byte-identical (every shard and the manifest) and the counts equal,
and prints each step's seconds, the ratio Dask / local (the baseline, measured in the same
run), and peak memory (PSS of this process and its worker processes together).

    python benchmarks/bench_dask.py --docs 5000 10000 [--workers 2] [--backend rjieba] [--shard-units 5000]

On one machine Dask cannot be faster than local processes (the same cores, plus sending texts
and tokens between processes); the point is identical results with memory bounded by the
tasks in flight, and the same code on a cluster of many machines.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

import analysis
from analysis import cluster, compare

from bench_scale import ROOT, PeakMemory, sentence_pool, write_corpus


def tree_hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def run(path: Path, folder: Path, name: str, dask, args, memory: PeakMemory) -> tuple[dict, compare.GroupCounts]:
    """clean, tokens, counts on one engine; seconds and peak PSS (MB) of each."""
    lexicon = analysis.load_lexicon(args.lexicon)
    corpus = analysis.load_corpus(path, progress=False)
    times = {}
    memory.reset()
    start = time.perf_counter()
    cleaned = analysis.clean(corpus, progress=False, max_loss=1, workers=args.workers, dask=dask)
    times["clean"] = (time.perf_counter() - start, memory.peak_pss / 1e6)
    memory.reset()
    start = time.perf_counter()
    analysis.tokenize(cleaned, lexicon=lexicon, backend=args.backend, hmm=args.backend == "jieba", workers=args.workers,
                      cache=False, progress=False, store=folder / name, shard_units=args.shard_units, dask=dask)
    times["tokens"] = (time.perf_counter() - start, memory.peak_pss / 1e6)
    del cleaned, corpus
    memory.reset()
    start = time.perf_counter()
    with analysis.open_store(folder / name, dask=dask) as store:
        counts = compare.count_groups(store, "district")
    times["counts"] = (time.perf_counter() - start, memory.peak_pss / 1e6)
    return times, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[5000, 10000])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--lexicon", type=Path, default=ROOT / "corpus" / "lexicon.yaml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="rjieba", choices=["jieba", "rjieba"])
    parser.add_argument("--shard-units", type=int, default=5000)
    args = parser.parse_args()

    memory = PeakMemory()
    pool = sentence_pool(args.corpus)
    folder = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    print(f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 1e9:.0f} GB; "
          f"backend {args.backend}, {args.workers} workers, shards of {args.shard_units:,} units; load average {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    with cluster.dask_client("local", args.workers) as client:
        print(f"LocalCluster of {args.workers} processes started in {time.perf_counter() - start:.1f} s")
        rows = []
        for docs in args.docs:
            path = folder / f"corpus-{docs}.jsonl"
            write_corpus(path, docs, pool, 30, (2000, 2025))
            local, a = run(path, folder, f"local-{docs}", None, args, memory)
            remote, b = run(path, folder, f"dask-{docs}", client, args, memory)
            same = tree_hashes(folder / f"local-{docs}") == tree_hashes(folder / f"dask-{docs}")
            equal = all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("terms", "counts", "doc_freq", "n_docs", "unit_group"))
            assert same and equal, (same, equal)
            units = sum(e["n_units"] for e in analysis.open_store(folder / f"local-{docs}").manifest["shards"])
            for step in local:
                rows.append((docs, units, step, local[step], remote[step]))
            print(f"{docs:,} articles: stores byte-identical, counts equal", flush=True)
    print(f"\n{'articles':>9}{'units':>9}  {'step':<8}{'local s':>9}{'dask s':>8}{'ratio':>7}{'local PSS MB':>14}{'dask PSS MB':>13}")
    for docs, units, step, (ls, lm), (ds, dm) in rows:
        print(f"{docs:>9,}{units:>9,}  {step:<8}{ls:>9.1f}{ds:>8.1f}{ds / ls:>7.2f}{lm:>14,.0f}{dm:>13,.0f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
