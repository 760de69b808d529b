"""Comparison speed on a 100,000-unit corpus, measured in one run.

Builds a synthetic token table (Zipf-distributed vocabulary of 50,000 terms, ~50 tokens a
unit, 10 districts x 8 years, fixed seed) and prints the seconds for: vectorising alone
(the baseline every comparison pays), all keyness tables (each district against the rest),
Fightin' Words for one pair, TF-IDF terms, the similarity matrix, and trends.

    python benchmarks/bench_compare.py [--units 100000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import analysis
from analysis.compare import count_groups


def synthetic_tokens(units: int, vocab: int = 50_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array([f"词{k:05d}" for k in range(vocab)], dtype=object)
    lengths = rng.poisson(50, units) + 1
    ids = np.minimum(rng.zipf(1.3, lengths.sum()) - 1, vocab - 1)
    splits = np.split(words[ids], np.cumsum(lengths)[:-1])
    docs = np.arange(units) // 20  # 20 paragraphs a document
    return pd.DataFrame({
        "doc_id": [f"d{d:06d}" for d in docs],
        "unit_id": [f"u{u:07d}" for u in range(units)],
        "district": [f"district{d % 10}" for d in docs],
        "year": 2018 + (docs // 10) % 8,
        "n_tokens": lengths,
        "tokens": [list(s) for s in splits],
    })


def timed(func):
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    args = parser.parse_args()
    tokens = synthetic_tokens(args.units)
    print(f"{len(tokens)} units, {int(tokens.n_tokens.sum())} tokens, {tokens.doc_id.nunique()} documents")
    base, _ = timed(lambda: count_groups(tokens, "district"))
    rows = [
        ("vectorise + group counts (baseline)", base),
        ("keyness, all 10 districts vs rest", timed(lambda: analysis.keyness_all(tokens, "district"))[0]),
        ("log-odds, one pair", timed(lambda: analysis.log_odds(tokens, "district", target="district0", reference="district1"))[0]),
        ("tfidf terms, top 20 per district", timed(lambda: analysis.tfidf_terms(tokens, "district"))[0]),
        ("similarity matrix, 80 district-years", timed(lambda: analysis.similarity(tokens, ["district", "year"]))[0]),
        ("trends of 10 terms over years", timed(lambda: analysis.trends(tokens, [f"词{k:05d}" for k in range(10)], by="district"))[0]),
    ]
    print(f"\n{'step':<40}{'seconds':>9}{'x baseline':>12}")
    for name, seconds in rows:
        print(f"{name:<40}{seconds:>9.2f}{seconds / base:>12.2f}")


if __name__ == "__main__":
    main()
