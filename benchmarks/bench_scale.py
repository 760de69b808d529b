"""Time and peak memory of every step at scale, on a corpus of N articles built for the run.

Builds a JSONL corpus of ``--docs`` articles by resampling sentences of any corpus it is given
(default: the repository's sample, cleaned), so that no two paragraphs repeat and cleaning's
duplicate detection keeps them: each article has 3-8 paragraphs of 2-5 sentences, a group
from ``--groups`` districts and a year from ``--years``, all drawn with a fixed seed. Then runs,
in one process as a researcher's script would: validate, load, clean, tokens (``--backend``,
``--workers``), keyness for all groups, similarity, trends of the lexicon's five most frequent
entries, and one LDA pass (K = 20), and prints each step's seconds and peak memory (resident
memory of the process and its worker processes together, sampled every 50 ms; and PSS, which
counts the pages forked workers share with this process once, not once per process).

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
    """Largest memory of this process and its children, sampled in a thread: resident memory
    (RSS) summed, and proportional memory (PSS: each shared page divided among the processes
    sharing it) summed. Worker processes forked from a process holding the corpus share its
    pages, and each one's RSS counts all of them; PSS counts them once."""

    def __init__(self, interval: float = 0.05):
        self.interval, self.peak, self.peak_pss, self._stop = interval, 0, 0, threading.Event()
        self._me = psutil.Process()
        threading.Thread(target=self._run, daemon=True).start()

    def sample(self) -> tuple[int, int]:
        rss = pss = 0
        for proc in [self._me, *self._me.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except psutil.Error:  # a worker that just ended
                continue
            rss, pss = rss + info.rss, pss + info.pss
        return rss, pss

    def now(self) -> int:
        return self.sample()[0]

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, pss = self.sample()
            self.peak, self.peak_pss = max(self.peak, rss), max(self.peak_pss, pss)
            time.sleep(self.interval)

    def reset(self) -> None:
        self.peak, self.peak_pss = self.sample()


@contextmanager
def step(name: str, rows: list, memory: PeakMemory):
    memory.reset()
    before = memory.peak_pss
    start = time.perf_counter()
    yield
    rss, pss = memory.sample()
    rows.append((name, time.perf_counter() - start, max(memory.peak, rss) / 1e6, max(memory.peak_pss, pss) / 1e6, before / 1e6))
    print(f"  {name}: {rows[-1][1]:.1f} s, peak {rows[-1][2]:,.0f} MB (PSS {rows[-1][3]:,.0f} MB, "
          f"{rows[-1][4]:,.0f} MB at the start)", flush=True)


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
    print(f"{'step':<36}{'seconds':>9}{'x read':>8}{'peak MB':>9}{'x idle':>8}{'PSS MB':>9}{'PSS at start':>14}")
    for name, seconds, peak, pss, before in rows:
        print(f"{name:<36}{seconds:>9.1f}{seconds / base:>8.1f}{peak:>9,.0f}{peak / idle:>8.1f}{pss:>9,.0f}{before:>14,.0f}")
    through = sum(s for name, s, *_ in rows if not name.startswith(("read", "LDA")))
    print(f"validate -> every comparison: {through / 60:.1f} min; peak of all steps {max(r[2] for r in rows):,.0f} MB "
          f"(PSS {max(r[3] for r in rows):,.0f} MB); "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
