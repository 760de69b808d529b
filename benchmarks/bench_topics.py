"""LDA overhead: analysis.fit_lda against a bare gensim fit with the same parameters, same run.

Builds a synthetic 100,000-paragraph token table (as bench_compare.py) and fits K=20 with
gensim's LdaModel directly (Dictionary, filter_extremes, doc2bow, LdaModel), with
LdaMulticore (2 workers; not reproducible, for reference) and with analysis.fit_lda.
Target: fit_lda within 1.2x of the bare LdaModel fit.

    python benchmarks/bench_topics.py [--units 100000] [--passes 1]

With ``--select``: ``select_k`` as it is against ``select_k`` of an earlier commit
(``--baseline``, default the last commit before the fits shared one dictionary and corpus),
checked out in a temporary git worktree and run in a subprocess, on the same synthetic
corpus and grid (default: 52 documents of 10 paragraphs, K 3-12, seeds 0-2, 20 passes),
with 1 and ``--workers`` processes each. Checks the tables are identical (bit for bit and
at published precision) and recommend the same K. Target (issue 16): >= 5x faster.

    python benchmarks/bench_topics.py --select [--docs 52] [--paragraphs 10] [--ks 3-12] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gensim.corpora import Dictionary
from gensim.models import LdaModel, LdaMulticore

import analysis
from bench_compare import synthetic_tokens

PARAMS = {"iterations": 50, "chunksize": 2000, "alpha": "symmetric", "eta": None}
ROOT = Path(__file__).resolve().parents[1]
#: The last commit whose select_k built a dictionary, corpus and coherence counts per fit.
SELECT_BASELINE = "6533d57"


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


SELECT_RUN = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from bench_compare import synthetic_tokens
import analysis
from analysis import topics
tokens = synthetic_tokens({units}, vocab={vocab}).assign(doc_id=lambda f: f["unit_id"].str[:-1])
def cpu():
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime
start, start_cpu = time.perf_counter(), cpu()
table = topics.select_k(tokens, ks={ks}, seeds={seeds}, workers={workers}, progress=False, passes={passes})
seconds, cpu_seconds = time.perf_counter() - start, cpu() - start_cpu
print(json.dumps({{"file": analysis.__file__, "seconds": seconds, "cpu": cpu_seconds, "table": table.to_dict("list"),
                  "recommended": topics.recommend_k(table)[0]}}))
"""


def select_run(code_root: Path, args, workers: int) -> dict:
    """Time select_k of the code in ``code_root`` in a fresh process."""
    code = SELECT_RUN.format(bench=str(Path(__file__).parent), units=args.docs * args.paragraphs, vocab=args.vocab,
                             ks=list(parse_ks(args.ks)), seeds=[0, 1, 2], workers=workers, passes=args.select_passes)
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=code_root)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).resolve().is_relative_to(code_root.resolve()), result["file"]
    return result


def parse_ks(text: str) -> range:
    low, high = (int(x) for x in text.split("-"))
    return range(low, high + 1)


def select_main(args) -> None:
    from analysis.precision import published
    import pandas as pd
    print(f"select_k: {args.docs} documents x {args.paragraphs} paragraphs (about 50 tokens each), K {args.ks}, "
          f"seeds 0-2, {args.select_passes} passes; baseline {args.baseline}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        old_root = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old_root), args.baseline], check=True)
        try:
            runs = {}
            for workers in sorted({1, args.workers}):
                runs[f"baseline, {workers} worker(s)"] = select_run(old_root, args, workers)
                runs[f"now, {workers} worker(s)"] = select_run(ROOT, args, workers)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_root)], check=True)
    base = runs["baseline, 1 worker(s)"]
    # CPU seconds (this process and its workers) show the work done; on a machine shared with
    # other programs the wall clock also shows how much of the cores the run was given.
    print(f"\n{'run':<26}{'seconds':>9}{'x faster':>10}{'CPU s':>8}{'x less CPU':>12}  recommended K")
    for name, run in runs.items():
        print(f"{name:<26}{run['seconds']:>9.2f}{base['seconds'] / run['seconds']:>10.2f}"
              f"{run['cpu']:>8.2f}{base['cpu'] / run['cpu']:>12.2f}  {run['recommended']}")
    tables = {name: pd.DataFrame(run["table"]) for name, run in runs.items()}
    exact = all(t.equals(tables["baseline, 1 worker(s)"]) for t in tables.values())
    at_precision = all(published(t).equals(published(tables["baseline, 1 worker(s)"])) for t in tables.values())
    print(f"\ntables identical bit for bit: {exact}; at published precision: {at_precision}; "
          f"same recommendation: {len({r['recommended'] for r in runs.values()}) == 1}")
    best_old = min(r["seconds"] for n, r in runs.items() if n.startswith("baseline"))
    best_new = min(r["seconds"] for n, r in runs.items() if n.startswith("now"))
    ratio = base["seconds"] / best_new
    print(f"{'PASS' if ratio >= 5 else 'MISS'}  select_k >= 5x faster than the baseline with 1 worker: {ratio:.2f} "
          f"(than the baseline's best: {best_old / best_new:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--select", action="store_true", help="time select_k against --baseline instead")
    parser.add_argument("--docs", type=int, default=52)
    parser.add_argument("--paragraphs", type=int, default=10)
    parser.add_argument("--vocab", type=int, default=5000)
    parser.add_argument("--ks", default="3-12")
    parser.add_argument("--select-passes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", default=SELECT_BASELINE, help="git commit to compare select_k with")
    args = parser.parse_args()
    if args.select:
        select_main(args)
        return
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
