"""Tokeniser throughput against raw jieba, measured in the same run.

Builds a large corpus by replicating the cleaned sample (default ~20 MB of UTF-8 text) and
prints MB/s for: raw ``jieba.lcut``; ``analysis.tokenize`` with 1 and 2 workers; the rjieba
backend; a cold and a warm cache; and peak memory for half and full size. Every tokenise run
protects the sample's lexicon entries (the replicated corpus is not in the sample's folder,
so the lexicon is passed by path).

Then the rjieba path side by side with bare ``rjieba.cut`` on the same paragraphs, one
worker, alternating ``--repeats`` times (process CPU time, so other programs on a shared
machine disturb it less; the wall-clock ratio is printed too): the median ratio and its range.

    python benchmarks/bench_tokenize.py [--mb 20] [--repeats 7]

Targets (issue 3): >= 0.8x raw jieba with 1 worker, >= 1.5x with 2 workers, >= 10x with
rjieba, warm cache >= 20x faster than cold, memory not growing beyond the output.
Issue 16, item 3: the rjieba path >= 0.8x the throughput of bare rjieba.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

import analysis

ROOT = Path(__file__).resolve().parents[1]
LEXICON = ROOT / "corpus" / "lexicon.yaml"


def big_corpus(megabytes: float) -> analysis.Corpus:
    """The cleaned sample replicated until its UTF-8 text reaches ``megabytes``."""
    base = analysis.clean(analysis.load_corpus(ROOT / "corpus", progress=False), progress=False)
    size = sum(len(t.encode()) for _, t in base)
    copies = max(1, round(megabytes * 1e6 / size))
    rows, texts = [], {}
    for k in range(copies):
        for record in base.metadata.to_dict("records"):
            doc_id = f"{record['doc_id']}-{k:05d}"
            rows.append({**record, "doc_id": doc_id})
            texts[doc_id] = base.text(record["doc_id"])
    meta = pd.DataFrame(rows).sort_values("doc_id").reset_index(drop=True)
    return replace(base, metadata=meta, texts=texts, hash=f"bench-{copies}", source="benchmark")


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


MEMORY_PROBE = """
import resource, sys
sys.path.insert(0, {here!r})
import bench_tokenize as b, analysis

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

corpus = b.big_corpus({mb})
before = rss_mb()
table = analysis.tokenize(corpus, lexicon=b.LEXICON, cache=False, progress=False, backend="rjieba", hmm=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(peak - before, rss_mb() - before)
"""


def memory_mb(megabytes: float) -> tuple[float, float]:
    """(peak growth while tokenising, memory still held by the result) in a fresh process."""
    code = MEMORY_PROBE.format(here=str(Path(__file__).parent), mb=megabytes)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    peak, held = out.stdout.split()
    return float(peak), float(held)


def side_by_side(corpus: analysis.Corpus, paragraphs: list[str], repeats: int) -> list[tuple[float, float]]:
    """(CPU-time ratio, wall-clock ratio) of bare rjieba over the rjieba path, per repeat."""
    import rjieba
    rjieba.cut("预热", hmm=False)  # rjieba loads its dictionary on first use
    ratios = []
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        [rjieba.cut(p, hmm=False) for p in paragraphs]
        bare = (time.process_time() - cpu, time.perf_counter() - wall)
        cpu, wall = time.process_time(), time.perf_counter()
        analysis.tokenize(corpus, lexicon=LEXICON, backend="rjieba", hmm=False, cache=False, progress=False)
        ours = (time.process_time() - cpu, time.perf_counter() - wall)
        ratios.append((bare[0] / ours[0], bare[1] / ours[1]))
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB of UTF-8 text")
    parser.add_argument("--repeats", type=int, default=7, help="alternating runs of bare rjieba and the rjieba path")
    args = parser.parse_args()
    corpus = big_corpus(args.mb)
    mb = sum(len(t.encode()) for _, t in corpus) / 1e6
    print(f"corpus: {len(corpus)} documents, {mb:.1f} MB; machine: {os.cpu_count()} cores")

    import jieba
    jieba.initialize()
    paragraphs = analysis.units(corpus, "paragraph").text.tolist()
    raw = timed(lambda: [jieba.lcut(p) for p in paragraphs])
    results = {"raw jieba.lcut": raw}
    run = dict(lexicon=LEXICON, cache=False, progress=False)
    results["tokenize, 1 worker"] = timed(lambda: analysis.tokenize(corpus, **run))
    results["tokenize, 2 workers"] = timed(lambda: analysis.tokenize(corpus, workers=2, **run))
    results["tokenize, rjieba"] = timed(lambda: analysis.tokenize(corpus, backend="rjieba", hmm=False, **run))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["ANALYSIS_CACHE_DIR"] = cache
        cold = timed(lambda: analysis.tokenize(corpus, lexicon=LEXICON, progress=False))
        warm = timed(lambda: analysis.tokenize(corpus, lexicon=LEXICON, progress=False))
    results["tokenize, cold cache"] = cold
    results["tokenize, warm cache"] = warm

    print(f"\n{'step':<24}{'seconds':>9}{'MB/s':>8}{'x raw jieba':>13}")
    for name, seconds in results.items():
        print(f"{name:<24}{seconds:>9.2f}{mb / seconds:>8.2f}{raw / seconds:>13.2f}")
    checks = [
        ("1 worker >= 0.8x raw jieba", raw / results["tokenize, 1 worker"], 0.8),
        ("2 workers >= 1.5x raw jieba", raw / results["tokenize, 2 workers"], 1.5),
        ("rjieba >= 10x raw jieba", raw / results["tokenize, rjieba"], 10),
        ("warm cache >= 20x faster than cold", cold / warm, 20),
    ]
    print("\nmemory while tokenising (rjieba, fresh process; the corpus text is already loaded):")
    for size in (args.mb / 2, args.mb):
        peak, held = memory_mb(size)
        print(f"  {size:5.1f} MB of text: peak growth {peak:6.0f} MB, held by the token table afterwards {held:6.0f} MB")
    ratios = side_by_side(corpus, paragraphs, args.repeats)
    cpu = sorted(r[0] for r in ratios)
    wall = sorted(r[1] for r in ratios)
    print(f"\nrjieba path / bare rjieba.cut, 1 worker, {args.repeats} alternating runs:")
    print(f"  CPU time:   median {cpu[len(cpu) // 2]:.2f}x, range {cpu[0]:.2f}-{cpu[-1]:.2f}")
    print(f"  wall clock: median {wall[len(wall) // 2]:.2f}x, range {wall[0]:.2f}-{wall[-1]:.2f}")
    checks.append(("rjieba path >= 0.8x bare rjieba (median, CPU time)", cpu[len(cpu) // 2], 0.8))
    print()
    for name, value, target in checks:
        print(f"{'PASS' if value >= target else 'MISS'}  {name}: {value:.2f}")


if __name__ == "__main__":
    main()
