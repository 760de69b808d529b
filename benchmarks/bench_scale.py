"""Time and peak memory of every step at scale, on a corpus of N articles built for the run.

Builds a JSONL corpus of ``--docs`` articles by resampling sentences of any corpus it is given
(default: the repository's sample, cleaned), so that no two paragraphs repeat and cleaning's
duplicate detection keeps them: each article has 3-8 paragraphs of 2-5 sentences, a group
from ``--groups`` districts and a year from ``--years``, all drawn with a fixed seed. Then runs,
in one process as a researcher's script would: validate, load, clean, tokens (``--backend``,
``--workers``), keyness for all groups, similarity, trends of the lexicon's five most frequent
entries, and one LDA pass (K = 20), and prints each step's seconds and peak memory, sampled every
50 ms: used (this process's resident memory plus what each worker process adds, its unique
pages), the measure of the goals; and, for comparison, RSS summed over the processes (pages
forked workers share counted once per process) and PSS summed (shared pages divided, also
among other programs' processes); see ``PeakMemory``.

Baselines measured in the same run: seconds to read and parse the JSONL file (the floor of any
pass over the corpus) and resident memory after imports, before any data.

    python benchmarks/bench_scale.py --docs 10000 [--corpus PATH] [--workers 2] [--backend rjieba] [--store]

``--store``: the streaming path. The corpus is loaded without its texts
(``load_corpus(keep_texts=False)``), then cleaned and tokenised in one stream into a token
store (``tokenize(corpus, store=DIR)``, shards of ``--shard-units`` units; one step, "clean +
tokens"), every comparison reads the store shard by shard, and LDA streams its bag-of-words
from it (``fit_lda(store)``: the dictionary counted shard by shard, the bag-of-words spilled
to a temporary file and read back on every pass).

Goals (issue 16): peak memory at 1,000,000 articles no more than 1.3x the peak at 100,000 and
under 4 GB; 1,000,000 articles through tokens and every comparison in under 30 minutes.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil

import analysis
import analysis.store

ROOT = Path(__file__).resolve().parents[1]


def sentence_pool(corpus: Path) -> list[str]:
    """Every sentence of the cleaned corpus, in document order."""
    cleaned = analysis.clean(analysis.load_corpus(corpus, progress=False), progress=False)
    paragraphs = analysis.units(cleaned, "paragraph").text
    return [s for p in paragraphs for s in analysis.split_sentences(p) if len(s) >= 8]


def write_corpus(path: Path, docs: int, pool: list[str], groups: int, years: tuple[int, int], seed: int = 0) -> int:
    """Write ``docs`` articles to a JSONL corpus, one at a time; return its size in bytes."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8") as out:
        for d in range(docs):
            paragraphs = []
            for _ in range(rng.integers(3, 9)):
                picks = rng.integers(0, len(pool), rng.integers(2, 6))
                paragraphs.append("".join(pool[i] for i in picks))
            record = {"doc_id": f"a{d:07d}", "district": f"district{rng.integers(groups):02d}",
                      "year": int(rng.integers(years[0], years[1] + 1)), "text": "\n".join(paragraphs)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path.stat().st_size


class PeakMemory:
    """Largest memory of this process and its children, sampled in a thread, three ways:

    used: this process's resident memory (RSS) plus each worker's unique memory (USS: pages
    no other process maps). A worker forked from this process shares its pages until one of
    them writes a page; USS is what the worker adds. The measure of the goals: the memory the
    run takes from the machine, whatever else runs on it.
    RSS summed: counts the pages forked workers share with this process once per process.
    PSS summed: each shared page divided among the processes mapping it, other programs'
    processes included (it falls when other processes load the same libraries)."""

    def __init__(self, interval: float = 0.05):
        self.interval, self._stop = interval, threading.Event()
        self.peak = self.peak_pss = self.peak_used = 0
        self._me = psutil.Process()
        threading.Thread(target=self._run, daemon=True).start()

    def sample(self) -> tuple[int, int, int]:
        """(RSS summed, PSS summed, used), in bytes."""
        rss = pss = used = 0
        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except psutil.Error:  # a worker that just ended
                continue
            rss, pss = rss + info.rss, pss + info.pss
            used += info.rss if proc is self._me else info.uss
        return rss, pss, used

    def now(self) -> int:
        return self.sample()[2]

    def _run(self) -> None:
        while not self._stop.is_set():
            self._update(*self.sample())
            time.sleep(self.interval)

    def _update(self, rss: int, pss: int, used: int) -> None:
        self.peak, self.peak_pss, self.peak_used = max(self.peak, rss), max(self.peak_pss, pss), max(self.peak_used, used)

    def reset(self) -> None:
        self.peak, self.peak_pss, self.peak_used = self.sample()


@contextmanager
def step(name: str, rows: list, memory: PeakMemory):
    memory.reset()
    before = memory.peak_used
    start = time.perf_counter()
    yield
    memory._update(*memory.sample())
    rows.append((name, time.perf_counter() - start, memory.peak_used / 1e6, memory.peak / 1e6, memory.peak_pss / 1e6, before / 1e6))
    print(f"  {name}: {rows[-1][1]:.1f} s, peak used {rows[-1][2]:,.0f} MB (RSS summed {rows[-1][3]:,.0f} MB, "
          f"PSS {rows[-1][4]:,.0f} MB; {rows[-1][5]:,.0f} MB used at the start)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, required=True, help="articles in the generated corpus")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="corpus whose sentences are resampled")
    parser.add_argument("--lexicon", type=Path, default=ROOT / "corpus" / "lexicon.yaml")
    parser.add_argument("--groups", type=int, default=30)
    parser.add_argument("--years", default="2000-2025")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backend", default="rjieba", choices=["jieba", "rjieba"])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--store", action="store_true", help="tokens into a token store; comparisons from it")
    parser.add_argument("--shard-units", type=int, default=analysis.store.SHARD_UNITS)
    parser.add_argument("--keep", type=Path, default=None, help="folder for the generated corpus (default: a temporary one)")
    args = parser.parse_args()
    first, last = (int(y) for y in args.years.split("-"))

    memory = PeakMemory()
    idle = memory.now() / 1e6
    pool = sentence_pool(args.corpus)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "corpus.jsonl"
    start = time.perf_counter()
    size = write_corpus(path, args.docs, pool, args.groups, (first, last))
    print(f"corpus: {args.docs:,} articles, {size / 1e6:,.0f} MB of JSONL from {len(pool):,} sentences of {args.corpus} "
          f"({time.perf_counter() - start:.0f} s to write); {datetime.date.today()}, {platform.machine()}, "
          f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 1e9:.0f} GB; backend {args.backend}, {args.workers} workers; "
          f"load average {os.getloadavg()[0]:.1f}" + (f"; token store, shards of {args.shard_units:,} units" if args.store else ""))

    rows: list = []
    with step("read JSONL (baseline)", rows, memory):
        with path.open(encoding="utf-8") as f:
            for line in f:
                json.loads(line)
    with step("validate", rows, memory):
        problems = analysis.validate_corpus(path, progress=False)
    assert not problems, problems[:3]
    lexicon = analysis.load_lexicon(args.lexicon)
    options = {"lexicon": lexicon, "backend": args.backend, "workers": args.workers, "hmm": args.backend == "jieba",
               "cache": False, "progress": False}
    if args.store:  # the streaming path: texts read again from disk, cleaned and tokenised batch by batch
        with step("load (texts left on disk)", rows, memory):
            corpus = analysis.load_corpus(path, progress=False, keep_texts=False, cleaning={"max_loss": 1})
        shutil.rmtree(folder / "store", ignore_errors=True)  # a store left by an earlier run would be resumed, not measured
        with step("clean + tokens into the store", rows, memory):
            tokens = analysis.tokenize(corpus, store=folder / "store", shard_units=args.shard_units, **options)
        del corpus
    else:
        with step("load", rows, memory):
            corpus = analysis.load_corpus(path, progress=False)
        with step("clean", rows, memory):
            cleaned = analysis.clean(corpus, progress=False, max_loss=1)
        del corpus
        with step("tokens", rows, memory):
            tokens = analysis.tokenize(cleaned, **options)
        del cleaned
    with step("keyness, every group vs the rest", rows, memory):
        analysis.keyness_all(tokens, "district")
    with step("similarity", rows, memory):
        analysis.similarity(tokens, "district")
    terms = analysis.frequent_terms(tokens, lexicon, top=5)
    with step("trends of 5 lexicon entries", rows, memory):
        analysis.trends(tokens, terms, over="year", by="district")
    with step(f"LDA K={args.k}, one pass", rows, memory):
        analysis.fit_lda(tokens, k=args.k, passes=1, progress=False)

    base = rows[0][1]
    n_tokens = tokens.n_tokens if args.store else int(tokens.n_tokens.sum())
    print(f"\n{len(tokens):,} units, {n_tokens:,} tokens; resident memory after imports {idle:,.0f} MB")
    print(f"{'step':<36}{'seconds':>9}{'x read':>8}{'used MB':>9}{'x idle':>8}{'RSS sum':>9}{'PSS MB':>9}{'used at start':>15}")
    for name, seconds, used, rss, pss, before in rows:
        print(f"{name:<36}{seconds:>9.1f}{seconds / base:>8.1f}{used:>9,.0f}{used / idle:>8.1f}{rss:>9,.0f}{pss:>9,.0f}{before:>15,.0f}")
    through = sum(s for name, s, *_ in rows if not name.startswith(("read", "LDA")))
    print(f"validate -> every comparison: {through / 60:.1f} min; peak of all steps: used {max(r[2] for r in rows):,.0f} MB "
          f"(RSS summed {max(r[3] for r in rows):,.0f} MB, PSS {max(r[4] for r in rows):,.0f} MB); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
