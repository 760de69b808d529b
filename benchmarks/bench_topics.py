"""LDA overhead: analysis.fit_lda against a bare gensim fit with the same parameters, same run.

Builds a synthetic 100,000-paragraph token table (as bench_compare.py) and fits K=20 with
gensim's LdaModel directly (Dictionary, filter_extremes, doc2bow, LdaModel), with
LdaMulticore (2 workers; not reproducible, for reference) and with analysis.fit_lda.
Target: fit_lda within 1.2x of the bare LdaModel fit.

    python benchmarks/bench_topics.py [--units 100000] [--passes 1]
"""
from __future__ import annotations

import argparse
import time

from gensim.corpora import Dictionary
from gensim.models import LdaModel, LdaMulticore

import analysis
from bench_compare import synthetic_tokens

PARAMS = {"iterations": 50, "chunksize": 2000, "alpha": "symmetric", "eta": None}


def bare(tokens, k, seed, passes, model_class, **extra):
    lists = [list(t) for t in tokens["tokens"]]
    dictionary = Dictionary(lists)
    dictionary.filter_extremes(no_below=2, no_above=0.5, keep_n=100_000)
    bow = [b for b in (dictionary.doc2bow(t) for t in lists) if b]
    return model_class(corpus=bow, id2word=dictionary, num_topics=k, random_state=seed, passes=passes, eval_every=None, **PARAMS, **extra)


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()
    tokens = synthetic_tokens(args.units)
    print(f"{len(tokens)} paragraphs, {int(tokens.n_tokens.sum())} tokens; K={args.k}, passes={args.passes}, {PARAMS}")
    base = timed(lambda: bare(tokens, args.k, 0, args.passes, LdaModel))
    multi = timed(lambda: bare(tokens, args.k, 0, args.passes, LdaMulticore, workers=2))
    ours = timed(lambda: analysis.fit_lda(tokens, k=args.k, seed=0, passes=args.passes, progress=False, **PARAMS))
    print(f"\n{'fit':<34}{'seconds':>9}{'x LdaModel':>12}")
    for name, seconds in (("bare gensim LdaModel", base), ("bare gensim LdaMulticore, 2 workers", multi), ("analysis.fit_lda", ours)):
        print(f"{name:<34}{seconds:>9.2f}{seconds / base:>12.2f}")
    print(f"\n{'PASS' if ours / base <= 1.2 else 'MISS'}  fit_lda within 1.2x of LdaModel: {ours / base:.2f}")


if __name__ == "__main__":
    main()
