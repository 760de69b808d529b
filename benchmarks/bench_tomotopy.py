"""tomotopy LDAModel against gensim LdaModel on the same corpus and K: time and coherence.

Both fit the same units with the same filtered vocabulary (``topics.prepare``); gensim with
the toolkit's settings (``analysis.fit_lda``: variational Bayes, ``--passes``), tomotopy by
collapsed Gibbs sampling (``--iterations``) with one worker thread (reproducible) and with
two (faster, not reproducible across thread counts). Coherence is scored the same way for
both (gensim's CoherenceModel, c_v and c_npmi on each topic's top 10 terms), as
``topics.select_k`` scores it. Ratios are against gensim in the same run.

    python benchmarks/bench_tomotopy.py [--units 5000] [--k 10] [--passes 10] [--iterations 500]
    python benchmarks/bench_tomotopy.py --corpus corpus --k 5     # a real corpus, paragraphs
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import tomotopy as tp
from gensim.models import CoherenceModel

import analysis
from analysis.topics import prepare
from bench_compare import synthetic_tokens


def coherence(tops: list[list[str]], texts: list[list[str]], dictionary) -> dict[str, float]:
    return {m: float(CoherenceModel(topics=tops, texts=texts, dictionary=dictionary, coherence=m, topn=10,
                                    processes=1).get_coherence()) for m in ("c_v", "c_npmi")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000, help="Synthetic units (Zipf words, no topics: timing).")
    parser.add_argument("--corpus", default=None, help="Tokenise this corpus instead (coherence means something).")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()
    if args.corpus:
        corpus = analysis.load_corpus(args.corpus, progress=False)
        tokens = analysis.tokenize(analysis.clean(corpus, progress=False), progress=False)
    else:
        tokens = synthetic_tokens(args.units)
    units, dictionary, bow = prepare(tokens)
    texts = [[w for w in t if w in dictionary.token2id] for t in units["tokens"]]
    print(f"{len(units)} units, {sum(map(len, texts))} tokens, vocabulary {len(dictionary)}; K={args.k}; "
          f"tomotopy {tp.__version__} ({tp.isa})")
    results = []
    start = time.perf_counter()
    model = analysis.fit_lda(tokens, k=args.k, seed=0, passes=args.passes, progress=False)
    seconds = time.perf_counter() - start
    tops = [[dictionary[i] for i, _ in model.lda.get_topic_terms(t, topn=10)] for t in range(args.k)]
    results.append((f"gensim LdaModel, {args.passes} passes", seconds, coherence(tops, texts, dictionary)))
    for workers in (1, 2):
        start = time.perf_counter()
        lda = tp.LDAModel(k=args.k, alpha=0.1, eta=0.01, seed=0)
        for words in texts:
            lda.add_doc(words)
        lda.train(args.iterations, workers=workers, parallel=tp.ParallelScheme.NONE if workers == 1 else tp.ParallelScheme.DEFAULT)
        seconds = time.perf_counter() - start
        tops = [[w for w, _ in lda.get_topic_words(t, top_n=10)] for t in range(args.k)]
        results.append((f"tomotopy LDAModel, {args.iterations} it, {workers} thread{'s' * (workers > 1)}", seconds,
                        coherence(tops, texts, dictionary)))
    base = results[0][1]
    print(f"\n{'fit':<42}{'seconds':>9}{'x gensim':>10}{'c_v':>8}{'c_npmi':>9}")
    for name, seconds, scores in results:
        print(f"{name:<42}{seconds:>9.2f}{seconds / base:>10.2f}{scores['c_v']:>8.3f}{scores['c_npmi']:>9.3f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
