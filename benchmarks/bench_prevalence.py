"""Topic prevalence intervals on 100,000 units x 1,000 resamples, measured in one run.

Synthetic posteriors (K=20 topics, gamma as gensim gives it: a Dirichlet parameter per unit),
20 units a document, 10 districts x 8 years, unit lengths 5-80 tokens, fixed seed. Prints
the seconds of ``analysis.topics.prevalence_intervals`` (document bootstrap, token weights,
with and without 25 draws of theta from each unit's posterior) and two baselines from the
same run:

- the floor: drawing the 25 x units x K gamma variates alone, which any propagation of
  topic-share uncertainty must pay;
- the previous implementation (units resampled as if independent, theta fixed), kept
  below verbatim, so the ratio shows what the better method costs.

    python benchmarks/bench_prevalence.py [--units 100000] [--boot 1000] [--k 20]
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from analysis.topics import prevalence_intervals


def synthetic(units: int, k: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    gamma = rng.gamma(0.3, 20.0, (units, k)) + 0.05  # peaked posteriors, as paragraphs give
    lengths = rng.integers(5, 81, units).astype(float)
    docs = np.arange(units) // 20
    districts = np.array([f"district{d % 10}" for d in docs], dtype=object)
    years = 2018 + (docs // 10) % 8
    return gamma, lengths, docs, districts, years


def previous_unit_bootstrap(theta: np.ndarray, groups: np.ndarray, n_boot: int, seed: int) -> list:
    """The implementation this replaces: per group, multinomial resamples of units, in batches of 100."""
    rng = np.random.default_rng(seed)
    out = []
    for label in sorted(set(groups)):
        group_theta = theta[groups == label]
        n = len(group_theta)
        means = []
        for start in range(0, n_boot, 100):
            size = min(100, n_boot - start)
            weights = rng.multinomial(n, np.full(n, 1 / n), size=size)
            means.append(weights @ group_theta / n)
        out.append(np.quantile(np.vstack(means), [0.025, 0.975], axis=0))
    return out


def timed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args()
    gamma, lengths, docs, districts, years = synthetic(args.units, args.k)
    theta = gamma / gamma.sum(axis=1, keepdims=True)
    district_year = np.array([f"{d}/{y}" for d, y in zip(districts, years)], dtype=object)

    def floor():
        rng = np.random.default_rng(0)
        for _ in range(25):
            rng.standard_gamma(gamma)

    rows = [
        ("floor: 25 x units x K gamma draws (baseline)", timed(floor)),
        ("previous: units resampled, theta fixed, by district", timed(lambda: previous_unit_bootstrap(theta, districts, args.boot, 0))),
        ("prevalence_intervals, by district, theta fixed", timed(lambda: prevalence_intervals(gamma, lengths, districts, docs, n_boot=args.boot, draws=0))),
        ("prevalence_intervals, by district, 25 theta draws", timed(lambda: prevalence_intervals(gamma, lengths, districts, docs, n_boot=args.boot, draws=25))),
        ("prevalence_intervals, by district/year, 25 theta draws", timed(lambda: prevalence_intervals(gamma, lengths, district_year, docs, n_boot=args.boot, draws=25))),
    ]
    print(f"{args.units:,} units, {len(set(docs)):,} documents, K={args.k}, {args.boot} resamples; "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}")
    base = rows[0][1]
    print(f"{'step':58s} {'seconds':>8s} {'x baseline':>10s}")
    for name, seconds in rows:
        print(f"{name:58s} {seconds:8.2f} {seconds / base:10.2f}")


if __name__ == "__main__":
    main()
