"""How one pass of online LDA scales with the corpus: time and memory at two or more sizes.

For each ``--docs`` size, builds a corpus as ``bench_scale.py`` does, cleans it and tokenises
it into a token store (rjieba, ``--workers`` processes), then fits gensim's LdaModel (K =
``--k``, one pass, the toolkit's defaults: chunksize 2000, iterations 400, no_below 2,
no_above 0.5) on a bag-of-words corpus streamed from the store, unit by unit, so that the
corpus is never held in memory. Prints seconds, seconds per 1,000 articles, the vocabulary,
and the fit's peak memory above what the process held before it (RSS of this process).

    python benchmarks/bench_lda_scale.py --docs 10000 20000 [--k 20] [--workers 2]

Online LDA (Hoffman, Blei & Bach 2010) reads ``chunksize`` documents at a time and keeps only
the topics x vocabulary statistics, so its memory depends on K and the vocabulary, not on the
number of documents; its time grows with the tokens.
"""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import psutil
from gensim.corpora import Dictionary
from gensim.models import LdaModel

import analysis
from analysis.topics import DEFAULTS

from bench_scale import ROOT, PeakMemory, sentence_pool, write_corpus


class StreamedBow:
    """Each unit's bag of words, read shard by shard from a token store on every pass."""

    def __init__(self, store: analysis.TokenStore, dictionary: Dictionary):
        self.store, self.dictionary = store, dictionary

    def __iter__(self):
        for tokens in self.store.token_lists():
            bow = self.dictionary.doc2bow(tokens)
            if bow:
                yield bow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[10000, 20000])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("gensim").setLevel(logging.WARNING)

    memory = PeakMemory()
    pool = sentence_pool(args.corpus)
    folder = Path(tempfile.mkdtemp(prefix="bench-lda-"))
    lexicon = analysis.load_lexicon(ROOT / "corpus" / "lexicon.yaml")
    print(f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 1e9:.0f} GB; "
          f"K={args.k}, one pass, chunksize {DEFAULTS['chunksize']}; load average {os.getloadavg()[0]:.1f}")
    rows = []
    for docs in args.docs:
        path = folder / f"corpus-{docs}.jsonl"
        write_corpus(path, docs, pool, 30, (2000, 2025))
        cleaned = analysis.clean(analysis.load_corpus(path, progress=False), progress=False, max_loss=1, workers=args.workers)
        store = analysis.tokenize(cleaned, lexicon=lexicon, backend="rjieba", hmm=False, workers=args.workers, cache=False,
                                  progress=False, store=folder / f"store-{docs}")
        del cleaned
        dictionary = Dictionary(store.token_lists())
        dictionary.filter_extremes(no_below=DEFAULTS["no_below"], no_above=DEFAULTS["no_above"], keep_n=DEFAULTS["keep_n"])
        bow = StreamedBow(store, dictionary)
        memory.reset()
        before = memory.now()
        start = time.perf_counter()
        LdaModel(corpus=bow, id2word=dictionary, num_topics=args.k, random_state=0, passes=1, iterations=DEFAULTS["iterations"],
                 chunksize=DEFAULTS["chunksize"], eval_every=None)
        seconds = time.perf_counter() - start
        rows.append((docs, len(store), store.n_tokens, len(dictionary), seconds, (max(memory.peak, memory.now()) - before) / 1e6))
        print(f"  {docs:,} articles: {seconds:.1f} s", flush=True)
    print(f"\n{'articles':>9}{'units':>9}{'tokens':>12}{'vocabulary':>11}{'seconds':>9}{'s / 1k articles':>16}{'peak MB above start':>21}")
    for docs, units, tokens, vocab, seconds, mb in rows:
        print(f"{docs:>9,}{units:>9,}{tokens:>12,}{vocab:>11,}{seconds:>9.1f}{seconds / docs * 1000:>16.2f}{mb:>21,.0f}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
