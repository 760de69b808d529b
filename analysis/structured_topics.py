"""Topic models that use the metadata or the lexicon (tomotopy): prevalence modelled from
covariates (DMR), topics over time (DTM), topics seeded with the lexicon's categories.

Every model is fitted on the same units and vocabulary as ``topics.fit_lda`` (``topics.prepare``:
units sorted by id, the same ``no_below``/``no_above`` filter), with tomotopy's Gibbs samplers,
an explicit seed and one worker thread (``workers=1``, ``ParallelScheme.NONE``): tomotopy's
results depend on the number of threads. Measured on one machine (2026-11-24, see
docs/methods.md): DMR and seeded LDA give the same bytes run after run; the dynamic model's
topic assignments are identical run to run but its topic-word probabilities differ in the 7th
significant digit (about 3e-7 relative), so its tables are the same at published precision.
Across instruction sets (``TOMOTOPY_ISA``: avx512, avx2, sse2) the samplers draw differently
and give different models, and tomotopy picks the fastest its processor has. So the toolkit
sets ``TOMOTOPY_ISA=sse2`` unless the user set it (before tomotopy is first imported): sse2
is on every x86-64 processor, so a seed gives the same model on any such machine, at about
1.3x the time of avx512 (measured on the sample's dynamic model). Set ``TOMOTOPY_ISA=avx2`` or
``avx512`` yourself for speed, giving up that promise. ``params["isa"]`` and every table's
``build`` record the build that fitted a model. These models are not part of ``analysis
figures`` (the dynamic model's last digits vary run to run; see docs/methods.md).

The fitted model (``StructuredTopicModel``) reads like a ``topics.TopicModel``: ``units``,
``dictionary``, ``topic_term_matrix()``, ``doc_topic_posterior()``, so ``topics.prevalence``,
``topics.topic_terms``, ``topics.topic_labels`` and ``topics.representative_passages`` work
on it. Models are not saved: a refit with the same seed on the same machine is the same model.
Topics are numbered from 1.
"""
from __future__ import annotations

import datetime
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# One portable build, so that a seed gives the same model on every x86-64 machine (see above).
os.environ.setdefault("TOMOTOPY_ISA", "sse2")
import tomotopy as tp  # noqa: E402 - after choosing its build
from gensim.corpora import Dictionary
from scipy import sparse

from .compare import group_labels, small_sample_note, top_with_ties
from .errors import AnalysisError, TermWarning, renamed_keywords
from .lexicon import Lexicon, load_lexicon
from .precision import TOPIC_DIGITS, published_array
from .progress import progress_bar
from .topics import _check_k, prepare, prevalence

#: Fitting defaults shared by the three models (Gibbs iterations; tomotopy's alpha and eta;
#: the vocabulary filter of ``topics.prepare``).
DEFAULTS = {"iterations": 1000, "alpha": 0.1, "eta": 0.01, "no_below": 2, "no_above": 0.5, "keep_n": 100_000}
#: Iterations per training call: the progress bar advances by this much (results do not depend on it).
STEP = 100
#: The dynamic topic model's settings (tomotopy ``DTModel``; see docs/methods.md). alpha_var,
#: eta_var, phi_var: variances of the random walks of the topic prior (alpha) between periods,
#: of each document's topic weights (eta) around its period's alpha, and of each topic's word
#: weights (phi) between periods: tomotopy's defaults. lr_a, lr_b, lr_c: the SGLD step size
#: e_i = lr_a * (lr_b + i) ** -lr_c. tomotopy's lr_a = 0.01 barely moves phi in 1000 iterations
#: (top terms are noise that changes every period); lr_a = 0.5 finds a topic planted from one
#: period on, with both seeds tried (measured 2026-11-24, docs/methods.md).
DTM_DEFAULTS = {"alpha_var": 0.1, "eta_var": 0.1, "phi_var": 0.1, "lr_a": 0.5, "lr_b": 0.1, "lr_c": 0.55}
#: Mean share of a topic's top terms replaced between adjacent periods above which the model has
#: not found stable topics (``topics_over_time`` says so).
TURNOVER_WARNING = 0.5
#: A seeded topic's prior weight on each of its seed words (other words and topics: ``eta``).
SEED_WEIGHT = 1.0


@dataclass
class StructuredTopicModel:
    """A fitted tomotopy model with the units, vocabulary and settings behind it.

    kind: ``"dmr"``, ``"dtm"`` or ``"seeded"``; model: the tomotopy model; dictionary, units,
    bow: as in ``topics.TopicModel`` (the same filtered vocabulary and sorted units);
    params: k, seed, options, covariates, periods or themes, the tomotopy build (``isa``);
    provenance: the token table's attrs; names: a name per topic (seeded: the theme).
    """

    kind: str
    model: object = field(repr=False)
    dictionary: Dictionary = field(repr=False)
    units: pd.DataFrame = field(repr=False)
    bow: list = field(repr=False)
    params: dict
    provenance: dict = field(repr=False)
    names: list[str] = field(default_factory=list)

    @property
    def k(self) -> int:
        return self.params["k"]

    def _vocab_index(self) -> np.ndarray:
        return np.array([self.dictionary.token2id[w] for w in self.model.used_vocabs], dtype=np.int64)

    def topic_term_matrix(self, period: int | None = None) -> np.ndarray:
        """K x V topic-term probabilities in the dictionary's term order (DTM: of ``period``,
        the position of a time value in ``params["periods"]``; None: averaged over periods)."""
        index = self._vocab_index()
        if self.kind == "dtm":
            periods = range(len(self.params["periods"])) if period is None else [period]
            rows = np.mean([[self.model.get_topic_word_dist(t, timepoint=p) for t in range(self.k)] for p in periods], axis=0)
        else:
            rows = np.array([self.model.get_topic_word_dist(t) for t in range(self.k)])
        phi = np.zeros((self.k, len(self.dictionary)))
        phi[:, index] = rows
        return phi

    def doc_topic_posterior(self) -> np.ndarray:
        """Units x K Dirichlet parameters of each unit's topic shares: its topic counts in the
        final Gibbs state plus its prior (DMR: exp(lambda . x) for its covariates)."""
        if self.kind == "dtm":
            raise AnalysisError("a dynamic topic model has no Dirichlet posterior per unit; use topics_over_time(model).")
        counts = np.array([np.bincount(np.asarray(d.topics), minlength=self.k) for d in self.model.docs], dtype=np.float64)
        if self.kind == "dmr":
            prior = np.array([self.model.get_topic_prior(d.metadata, list(d.multi_metadata)) for d in self.model.docs])
        else:
            prior = np.broadcast_to(np.asarray(self.model.alpha, dtype=np.float64), counts.shape)
        return counts + prior

    def doc_topic_matrix(self) -> np.ndarray:
        """Units x K topic shares: the means of ``doc_topic_posterior``."""
        gamma = self.doc_topic_posterior()
        return gamma / gamma.sum(axis=1, keepdims=True)

    def unit_lengths(self) -> np.ndarray:
        """Tokens of each fitted unit that are in the model's vocabulary."""
        return np.array([sum(c for _, c in b) for b in self.bow], dtype=np.float64)


# ---------------------------------------------------------------- shared fitting steps

def _options(options: dict) -> dict:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise AnalysisError(f"unknown option(s) {', '.join(sorted(unknown))}; use {', '.join(DEFAULTS)}.")
    return {**DEFAULTS, **options}


def _check_seed(seed) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise AnalysisError(f"seed={seed!r} is not valid; use a whole number, 0 or more.")
    return int(seed)


def _prepared(tokens: pd.DataFrame, params: dict):
    """``topics.prepare`` with the model's filter: sorted units, Dictionary, bow, and each
    unit's tokens restricted to the vocabulary (in text order)."""
    units, dictionary, bow = prepare(tokens, no_below=params["no_below"], no_above=params["no_above"], keep_n=params["keep_n"])
    vocab = dictionary.token2id
    words = [[w for w in t if w in vocab] for t in units["tokens"]]
    return units, dictionary, bow, words


def _train(model, iterations: int, desc: str, progress: bool) -> None:
    """Gibbs sampling in steps of ``STEP`` iterations, one worker thread, no parallel scheme:
    with more threads tomotopy's results depend on their number."""
    steps = [STEP] * (iterations // STEP) + ([iterations % STEP] if iterations % STEP else [])
    for step in progress_bar(steps, desc, progress, total=len(steps), unit=f"{STEP} it"):
        model.train(step, workers=1, parallel=tp.ParallelScheme.NONE)


def _result(kind, model, dictionary, units, bow, params, tokens, names=None) -> StructuredTopicModel:
    params = {**params, "isa": tp.isa, "tomotopy": tp.__version__, "workers": 1}
    return StructuredTopicModel(kind=kind, model=model, dictionary=dictionary, units=units, bow=bow, params=params,
                                provenance=dict(tokens.attrs), names=names or [f"topic {t + 1}" for t in range(params["k"])])


# ---------------------------------------------------------------- 1. prevalence from covariates (DMR)

def _feature(column: str, value) -> str:
    return f"{column}={value}"


def _references(units: pd.DataFrame, columns: list[str], reference: Mapping | None) -> dict:
    """The reference value of each covariate: as given, else its most common value by
    documents (ties: the first in sorted order)."""
    chosen = {}
    for column in columns:
        values = units.drop_duplicates("doc_id")[column]
        if reference and column in reference:
            match = [v for v in values.unique() if str(v) == str(reference[column])]
            if not match:
                raise AnalysisError(f"reference {column}={reference[column]!r} is not a value of {column!r}; "
                                    f"use one of {', '.join(map(str, sorted(values.astype(str).unique())[:10]))}.")
            chosen[column] = match[0]
        else:
            counts = values.astype(str).value_counts()
            best = sorted(counts[counts == counts.max()].index)[0]
            chosen[column] = next(v for v in values if str(v) == best)
    return chosen


def _dmr(words, features, params: dict, seed: int):
    model = tp.DMRModel(k=params["k"], alpha=params["alpha"], eta=params["eta"], sigma=params["sigma"], seed=seed)
    for w, f in zip(words, features):
        model.add_doc(w, metadata="", multi_metadata=f)
    return model


def _design(docs: pd.DataFrame, columns: list[str], refs: Mapping) -> tuple[np.ndarray, list[tuple]]:
    """Documents x (1 + dummies) design matrix: an intercept, then one 0/1 column per covariate
    value other than its reference (dummy coding, all covariates together); the
    ``(covariate, value)`` of each dummy column."""
    names = [(c, v) for c in columns for v in sorted(docs[c].unique(), key=str) if str(v) != str(refs[c])]
    x = np.column_stack([np.ones(len(docs))] + [(docs[c].astype(str) == str(v)).to_numpy(np.float64) for c, v in names])
    return x, names


def _check_covariates(docs: pd.DataFrame, columns: list[str], refs: Mapping) -> None:
    """Refuse covariates the effects regression cannot use: one value in every document, more
    coefficients than documents allow, or values that always occur together (confounded)."""
    for column in columns:
        values = docs[column].astype(str).unique()
        if len(values) == 1:
            raise AnalysisError(f"covariate {column!r} has one value ({values[0]!r}) in every document, so it cannot "
                                f"explain differences in topic prevalence; leave {column!r} out of the covariates.")
    x, names = _design(docs, columns, refs)
    if len(x) <= x.shape[1]:
        raise AnalysisError(f"{len(x)} documents are too few for the {x.shape[1]} coefficients of covariates "
                            f"{', '.join(columns)} (an intercept and one per value other than the reference); "
                            "use fewer covariates, or group their values (e.g. years into eras).")
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise AnalysisError(f"the covariates {', '.join(columns)} are confounded: some of their values always occur "
                            "together (e.g. a district seen in one year only), so their effects cannot be told apart; "
                            "use one of them, or group their values.")


@renamed_keywords
def fit_dmr(tokens: pd.DataFrame, covariates: str | Sequence[str] = "auto", *, k: int, seed: int = 0,
            reference: Mapping | None = None, sigma: float = 1.0, progress: bool = True, **options) -> StructuredTopicModel:
    """Fit a Dirichlet-multinomial regression topic model (Mimno & McCallum 2008): each unit's
    prior over topics depends on its metadata, alpha_{d,k} = exp(lambda_k0 + sum_j lambda_kj x_dj).

    covariates: the metadata columns prevalence depends on (categorical; a year is a category,
    so eras work too), each with two values or more, not confounded with one another (one
    sentence refuses them otherwise). Each is coded against a reference value
    (``reference={"district": "sip"}``; default: its most common value by documents):
    x_dj = 1 when unit d has value j. lambda is the MAP estimate under a Normal(0, sigma^2)
    prior, optimised between Gibbs sweeps (tomotopy's DMRModel). k: topics; seed: the
    sampler's seed; options: ``iterations, alpha, eta, no_below, no_above, keep_n``
    (``DEFAULTS``). Read the result with ``topic_effects``.
    """
    params = {**_options(options), "k": k, "seed": _check_seed(seed), "sigma": float(sigma)}
    units, dictionary, bow, words = _prepared(tokens, params)
    _check_k(k, len(units))
    columns, _ = group_labels(units, covariates)  # "auto": as by="auto" (docs/api.md)
    if not columns:
        raise AnalysisError(f"covariates={covariates!r} names no column of the token table; name the metadata "
                            "column(s) prevalence depends on, e.g. covariates='district' (--covariates).")
    refs = _references(units, columns, reference)
    _check_covariates(units.drop_duplicates("doc_id"), columns, refs)
    features = [[_feature(c, v) for c, v in zip(columns, row) if str(v) != str(refs[c])]
                for row in units[columns].itertuples(index=False)]
    model = _dmr(words, features, params, params["seed"])
    _train(model, params["iterations"], f"DMR k={k} seed={seed}", progress)
    params.update(by=columns, reference={c: refs[c] for c in columns})
    return _result("dmr", model, dictionary, units, bow, params, tokens)


def _coefficients(model, names: list[tuple]) -> np.ndarray:
    """lambda_kj of the DMR prior for every dummy ``(covariate, value)``: dummies x topics
    (0 for a value no unit carried into the model)."""
    lam = np.asarray(model.lambda_, dtype=np.float64)[:, 0, :]  # topics x (1 + features)
    features = list(model.multi_metadata_dict)
    return np.array([lam[:, 1 + features.index(_feature(c, v))] if _feature(c, v) in features else np.zeros(lam.shape[0])
                     for c, v in names])


def build(params: Mapping) -> str:
    """The tomotopy build that fitted a model (its ``params``), e.g. ``tomotopy 0.14.0, ISA
    avx512``: another instruction set (``TOMOTOPY_ISA``) samples differently."""
    return f"tomotopy {params['tomotopy']}, ISA {params['isa']}"


def effect_draws(gamma: np.ndarray, weights: np.ndarray, documents: np.ndarray, x: np.ndarray, *, draws: int,
                 rng: np.random.Generator, progress: bool = False) -> np.ndarray:
    """Method of composition (Tanner 1996; stm's ``estimateEffect``, Roberts, Stewart & Tingley
    2019): ``draws`` x coefficients x topics samples of the OLS coefficients of documents' topic
    shares on the design matrix ``x``.

    gamma: units x K Dirichlet parameters of each unit's topic shares (topic counts + prior);
    weights: each unit's tokens; documents: each unit's row of ``x`` (0..n-1). Each draw:
    theta_u ~ Dirichlet(gamma_u), a document's theta the token-weighted mean of its units'
    (the unit's own when units are documents); B = (X'X)^-1 X' Theta per topic; then
    beta ~ N(B, s_k^2 (X'X)^-1), s_k^2 = residual sum of squares / (n - p).
    """
    n, p = x.shape
    weight = sparse.csr_matrix((weights, (documents, np.arange(len(documents)))), shape=(n, len(documents)))
    weight = sparse.diags(1 / np.asarray(weight.sum(axis=1)).ravel()) @ weight
    inverse = np.linalg.inv(x.T @ x)
    solve, root = inverse @ x.T, np.linalg.cholesky(inverse)
    out = np.empty((draws, p, gamma.shape[1]))
    for m in progress_bar(range(draws), "topic effects", progress, unit="draw"):
        shares = rng.standard_gamma(gamma)
        theta = weight @ (shares / shares.sum(axis=1, keepdims=True))
        coef = solve @ theta
        scale = np.sqrt(((theta - x @ coef) ** 2).sum(axis=0) / (n - p))
        out[m] = coef + (root @ rng.standard_normal(coef.shape)) * scale
    return out


def topic_effects(model: StructuredTopicModel, *, draws: int = 100, ci: float = 0.95, progress: bool = True) -> pd.DataFrame:
    """The effect of each covariate value on each topic's prevalence (a ``fit_dmr`` model), as
    stm's ``estimateEffect`` estimates it, beside the post-hoc group means of ``topics.prevalence``.

    Documents' topic shares theta_d (token-weighted over their units) are regressed on all the
    covariates together, each dummy-coded against its reference value (``model.params
    ["reference"]``): theta_dk = beta_k0 + sum_j beta_kj x_dj + e_dk, OLS per topic. The
    regression is repeated over ``draws`` draws of theta from each unit's posterior,
    Dirichlet(topic counts + the DMR prior alpha_d), and each draw's coefficients are sampled
    from their OLS sampling distribution N(B, s^2 (X'X)^-1): the method of composition
    (Tanner 1996; Roberts, Stewart & Tingley 2019, stm ``estimateEffect``), so the intervals
    carry both the uncertainty of the topic shares and the sampling of documents. The draws
    are seeded by the model's seed (numpy Generator): same model, same table.

    effect: beta_kj, the change in a document's expected share of topic k with this value
    instead of the reference, the other covariates held fixed; share: beta_k0 + beta_kj, the
    expected share with this value and the other covariates at their reference values. Each
    is the mean over draws; ``effect_low, effect_high`` and ``ci_low, ci_high``: percentile
    intervals over draws (``ci``), so the estimate lies inside its interval. The reference
    value's effect is 0 without interval. prior_coefficient: the DMR's lambda_kj, the
    coefficient of the model's prior on the log scale (the prior for a unit with this value
    relative to the reference): it shapes the fit but is not an effect on prevalence.
    posthoc_share, posthoc_low, posthoc_high: ``topics.prevalence`` of the same model by this
    covariate (the group's share of tokens, unadjusted, documents resampled).
    build: the tomotopy version and instruction set (``TOMOTOPY_ISA``) that fitted the model.

    Returns ``covariate, value, reference, topic, share, ci_low, ci_high, effect, effect_low,
    effect_high, prior_coefficient, posthoc_share, posthoc_low, posthoc_high, n_units, n_docs,
    n_tokens, build, note``; ``df.attrs`` records the options and ``read`` (which to read and why).
    """
    if model.kind != "dmr":
        raise AnalysisError(f"topic_effects needs a model from fit_dmr, not a {model.kind!r} model.")
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 10:
        raise AnalysisError(f"draws={draws!r} is not valid; use 10 or more draws of the topic shares, e.g. 100.")
    if not 0 < ci < 1:
        raise AnalysisError(f"ci={ci!r} is not valid; use a level between 0 and 1, e.g. 0.95.")
    params, units, columns = model.params, model.units, model.params["by"]
    refs = params["reference"]
    documents, _ = pd.factorize(units["doc_id"])
    docs = units.drop_duplicates("doc_id")
    x, names = _design(docs, columns, refs)
    counts = np.array([len(d.words) for d in model.model.docs], dtype=np.float64)
    sample = effect_draws(model.doc_topic_posterior(), counts, documents, x, draws=draws,
                          rng=np.random.default_rng(params["seed"]), progress=progress)
    shares = sample[:, :1, :] + sample[:, 1:, :]  # draws x dummies x topics
    lower, upper = (1 - ci) / 2, 1 - (1 - ci) / 2
    prior = _coefficients(model.model, names)
    estimates = {}
    base = sample[:, 0, :]  # the reference values' expected shares: the intercept
    for c in columns:
        estimates[(c, refs[c])] = (base.mean(0), *np.quantile(base, [lower, upper], axis=0), None, np.zeros(model.k))
    for j, key in enumerate(names):
        estimates[key] = (shares[:, j].mean(0), *np.quantile(shares[:, j], [lower, upper], axis=0), sample[:, 1 + j], prior[j])

    posthoc = {c: prevalence(model, c, n_boot=200, ci=ci, seed=params["seed"]).set_index(["group", "topic"]) for c in columns}
    rows = []
    for c in columns:
        for value in sorted(docs[c].unique(), key=str):
            is_ref = str(value) == str(refs[c])
            share, share_low, share_high, effect, coef = estimates[(c, refs[c]) if is_ref else (c, value)]
            for t in range(model.k):
                post = posthoc[c].loc[(str(value), t + 1)]
                note = [small_sample_note(1)] if int(post["n_docs"]) == 1 else []
                if is_ref:
                    note.append("reference value: effects of the other values are measured from it")
                low, high = (np.nan, np.nan) if is_ref else np.quantile(effect[:, t], [lower, upper])
                rows.append({"covariate": c, "value": value, "reference": refs[c], "topic": t + 1, "share": share[t],
                             "ci_low": share_low[t], "ci_high": share_high[t], "effect": 0.0 if is_ref else effect[:, t].mean(),
                             "effect_low": low, "effect_high": high, "prior_coefficient": coef[t],
                             "posthoc_share": post["share"], "posthoc_low": post["ci_low"], "posthoc_high": post["ci_high"],
                             "n_units": int(post["n_units"]), "n_docs": int(post["n_docs"]), "n_tokens": int(post["n_tokens"]),
                             "build": build(params), "note": "; ".join(note)})
    frame = pd.DataFrame(rows)
    frame.attrs = {"model": "DMR (Mimno & McCallum 2008), tomotopy DMRModel; effects: OLS of topic shares on the "
                            "covariates, method of composition (stm estimateEffect)",
                   "k": model.k, "seed": params["seed"], "sigma": params["sigma"], "iterations": params["iterations"],
                   "draws": draws, "ci": ci, "n_docs": len(docs), "isa": params["isa"], "build": build(params),
                   "reference": {c: str(v) for c, v in refs.items()}, "read": READ_EFFECTS}
    return frame


READ_EFFECTS = ("Read effect (effect_low, effect_high) for how a covariate value changes a document's share of a topic "
                "against the reference value, adjusted for the other covariates (stm's estimateEffect: topic shares "
                "regressed on all covariates together, over draws from each document's posterior). Read posthoc_share "
                "for what the group's texts contain, unadjusted. They differ when covariates overlap (a district's "
                "documents mostly from some years) and because posthoc_share weighs documents by their tokens. "
                "prior_coefficient is the DMR's prior (log scale), not an effect.")


# ---------------------------------------------------------------- 2. topics over time (DTM)

def _periods(units: pd.DataFrame, over: str) -> list:
    """The time values in order: an ordered categorical's order (eras), else sorted."""
    column = units[over]
    if isinstance(column.dtype, pd.CategoricalDtype) and column.cat.ordered:
        return [c for c in column.cat.categories if c in set(column)]
    try:
        return sorted(column.unique())
    except TypeError:  # mixed types: as text
        return sorted(column.unique(), key=str)


def _years_of_dates(units: pd.DataFrame, over: str) -> pd.DataFrame:
    """A column of dates (``2018-11-01``, ``2022-10``, ``2022年10月``) binned to years: a period
    per day would give one document per period. Whole numbers (years) and labels that are
    not dates (eras) are kept as they are; a column mixing dates and other text is refused."""
    from .slogan_diffusion import parse_date, time_kind

    column = units[over]
    if isinstance(column.dtype, pd.CategoricalDtype) or time_kind(column.dropna()) == "year":
        return units
    if pd.api.types.is_datetime64_any_dtype(column):
        return units.assign(**{over: column.dt.year})
    years, bad = [], []
    for value in column:
        try:
            years.append(datetime.date.fromordinal(parse_date(value)[0]).year)
        except AnalysisError:
            bad.append(value)
    if not bad:
        return units.assign(**{over: years})
    if len(bad) < len(column):
        raise AnalysisError(f"{over!r} mixes dates with other values (e.g. {bad[0]!r}); write every value as "
                            f"YYYY-MM-DD, YYYY-MM or YYYY, or give a column of periods.")
    return units


def fit_dtm(tokens: pd.DataFrame, over: str = "year", *, k: int, seed: int = 0, progress: bool = True,
            **options) -> StructuredTopicModel:
    """Fit a dynamic topic model (Blei & Lafferty 2006; tomotopy's DTModel, sampled as in
    Bhadury et al. 2016): each topic's word distribution drifts from one period to the next
    (a Gaussian random walk on its natural parameters), so a topic keeps its identity while
    its top terms change.

    over: the time column; its values in order are the periods (an ordered categorical keeps
    its order, so eras work; otherwise sorted). A column of dates is binned to years (the
    period is the year; ``params["binned"]`` says so). k, seed as in ``fit_dmr``. options:
    ``iterations, no_below, no_above, keep_n`` as for the other models, and the DTM's own
    ``alpha_var, eta_var, phi_var, lr_a, lr_b, lr_c`` (``DTM_DEFAULTS``; LDA's ``alpha`` and
    ``eta`` do not apply). Read it with ``topics_over_time``.
    """
    dtm = {key: options.pop(key) for key in list(options) if key in DTM_DEFAULTS}
    for key in ("alpha", "eta"):
        if key in options:
            raise AnalysisError(f"{key!r} is an LDA prior the dynamic model does not have; its settings are "
                                f"{', '.join(DTM_DEFAULTS)} (see docs/methods.md).")
    params = {**_options(options), **DTM_DEFAULTS, **dtm, "k": k, "seed": _check_seed(seed)}
    del params["alpha"], params["eta"]
    units, dictionary, bow, words = _prepared(tokens, params)
    _check_k(k, len(units))
    group_labels(units, over)
    dated = _years_of_dates(units, over)
    binned = dated is not units
    units = dated
    periods = _periods(units, over)
    if len(periods) < 2:
        raise AnalysisError(f"{over!r} has one value ({periods[0]!r}): topics over time need two periods or more.")
    position = {p: i for i, p in enumerate(periods)}
    model = tp.DTModel(k=k, t=len(periods), seed=params["seed"], **{key: params[key] for key in DTM_DEFAULTS})
    for w, p in zip(words, units[over]):
        model.add_doc(w, timepoint=position[p])
    _train(model, params["iterations"], f"DTM k={k} seed={seed}", progress)
    params.update(over=over, periods=periods, binned="year" if binned else "")
    return _result("dtm", model, dictionary, units, bow, params, tokens)


def turnover(table: pd.DataFrame) -> pd.DataFrame:
    """Share of each topic's top terms (rank <= the table's top) not among its top terms in the
    previous period: ``topic, period, turnover`` (period 2 on). 1: all replaced."""
    rows = []
    for topic, part in table.groupby("topic", sort=True):
        tops = [set(g["term"]) for _, g in part.groupby("period", sort=True)]
        rows += [(topic, p + 2, 1 - len(a & b) / max(len(b), 1)) for p, (a, b) in enumerate(zip(tops, tops[1:]))]
    return pd.DataFrame(rows, columns=["topic", "period", "turnover"])


@renamed_keywords
def topics_over_time(model: StructuredTopicModel, *, top: int = 10) -> pd.DataFrame:
    """Top terms of every topic in every period (a ``fit_dtm`` model).

    probability: p(term | topic, period). Terms are ranked by it at published precision
    (3 significant digits) and then by term, so the ranking is the same wherever the rounded
    numbers are; ties at the cut are kept (sharing a rank). n_units, n_docs: the period's
    units and documents (one document: ``note``).

    Returns ``<over>, period, topic, rank, term, probability, n_units, n_docs, note`` (period:
    1 for the first), sorted by topic, period and rank.
    """
    if model.kind != "dtm":
        raise AnalysisError(f"topics_over_time needs a model from fit_dtm, not a {model.kind!r} model.")
    over, periods = model.params["over"], model.params["periods"]
    terms = np.array([model.dictionary[i] for i in range(len(model.dictionary))], dtype=object)
    sizes = model.units.groupby(over, observed=True).agg(n_units=("unit_id", "size"), n_docs=("doc_id", "nunique"))
    rows = []
    for p, period in enumerate(periods):
        phi = published_array(model.topic_term_matrix(p), TOPIC_DIGITS)
        n_units, n_docs = (int(sizes.loc[period, c]) for c in ("n_units", "n_docs"))
        for t in range(model.k):
            order, ranks = top_with_ties(np.lexsort((terms, -phi[t])), phi[t], top)
            rows += [(period, p + 1, t + 1, int(r), terms[i], float(phi[t, i]), n_units, n_docs, small_sample_note(n_docs))
                     for r, i in zip(ranks, order)]
    frame = pd.DataFrame(rows, columns=[over, "period", "topic", "rank", "term", "probability", "n_units", "n_docs", "note"])
    frame = frame.sort_values(["topic", "period", "rank", "term"], kind="stable").reset_index(drop=True)
    change = float(turnover(frame)["turnover"].mean())
    notes = []
    if model.params.get("binned"):
        notes.append(f"{over!r} holds dates: periods are their years ({len(periods)} years)")
    if change > TURNOVER_WARNING:
        notes.append(f"top terms change from period to period (on average {change:.0%} of each topic's top {top} "
                     f"replaced between adjacent periods): the model has not found topics that persist and its terms "
                     f"may be noise, as happens on small corpora; try more iterations, fewer topics (k) or coarser "
                     f"periods, or read the topics of fit_lda")
        warnings.warn(notes[-1], TermWarning, stacklevel=2)
    frame.attrs = {"model": "dynamic topic model (Blei & Lafferty 2006), tomotopy DTModel", "k": model.k,
                   "seed": model.params["seed"], "iterations": model.params["iterations"], "over": over,
                   "periods": [str(p) for p in periods], "isa": model.params["isa"], "build": build(model.params),
                   "turnover": round(change, 3), "binned": model.params.get("binned", ""), "notes": notes,
                   **{key: model.params[key] for key in DTM_DEFAULTS}}
    return frame


# ---------------------------------------------------------------- 3. seeded topics

#: Seed terms a theme needs in the vocabulary to get a topic.
MIN_SEEDS = 2


def _themes(themes) -> dict[str, list[str]]:
    """Theme -> seed terms, from a Lexicon or lexicon file (its categories), or a mapping."""
    if isinstance(themes, (str, Path)):
        themes = load_lexicon(themes)
    if isinstance(themes, Lexicon):
        grouped: dict[str, list[str]] = {}
        for entry in themes.entries:
            grouped.setdefault(entry.category or "uncategorised", []).append(entry.term)
        return dict(sorted(grouped.items()))
    if isinstance(themes, Mapping):
        out = {}
        for name, words in themes.items():
            words = [words] if isinstance(words, str) else list(words)
            if not words or not all(isinstance(w, str) and w.strip() for w in words):
                raise AnalysisError(f"theme {name!r} has no seed terms, or one that is not a term; give e.g. {{\"{name}\": [\"党建\", \"党员\"]}}.")
            out[str(name)] = list(dict.fromkeys(words))
        if out:
            return out
    raise AnalysisError(f"themes={themes!r} names no themes; give a lexicon (its categories are the themes) or a "
                        "mapping such as {\"治理\": [\"基层治理\", \"网格\"]}.")


def fit_seeded(tokens: pd.DataFrame, themes, *, k: int, seed: int = 0, min_seeds: int = MIN_SEEDS,
               seed_weight: float = SEED_WEIGHT, progress: bool = True, **options) -> StructuredTopicModel:
    """Fit LDA with topics seeded by the researcher's themes, keyATM-style (Eshima, Imai &
    Sasaki 2024) through word priors (Jagarlamudi, Daumé & Udupa 2012): topic i of theme i
    has prior weight ``seed_weight`` on each of its seed terms where the other topics have
    ``eta``, so the seeds pull the topic towards the theme without fixing it; the topics after
    the themes are unseeded and take the rest.

    themes: a Lexicon or lexicon path (each category is a theme, its entries the seeds) or a
    mapping theme -> seed terms. A theme with fewer than ``min_seeds`` seeds in the model's
    vocabulary gets no topic, and a TermWarning says so with its counts (with none left, every
    topic is unseeded). k: all topics, seeded
    and unseeded (at least the number of themes kept). seed, options as in ``fit_dmr``.
    Read it with ``seeded_topics``; ``topics.prevalence(model, by)`` gives each theme's
    prevalence by group.
    """
    params = {**_options(options), "k": k, "seed": _check_seed(seed), "min_seeds": min_seeds, "seed_weight": float(seed_weight)}
    units, dictionary, bow, words = _prepared(tokens, params)
    _check_k(k, len(units))
    vocab = dictionary.token2id
    table = []
    for name, seeds in _themes(themes).items():
        present = [w for w in seeds if w in vocab]
        table.append({"theme": name, "seeds": seeds, "in_vocabulary": present, "kept": len(present) >= min_seeds})
    dropped = [t for t in table if not t["kept"]]
    if dropped:
        warnings.warn("seeded topics: " + "; ".join(f"theme {t['theme']!r} has {len(t['in_vocabulary'])} of its "
                      f"{len(t['seeds'])} seed terms in the vocabulary (at least {min_seeds} needed), no topic" for t in dropped)
                      + f" (terms in fewer than no_below={params['no_below']} units or in more than no_above="
                      f"{params['no_above']} of them are not in the vocabulary)", TermWarning, stacklevel=2)
    kept = [t for t in table if t["kept"]]
    if k < len(kept):
        raise AnalysisError(f"k={k} is fewer than the {len(kept)} seeded themes; use k={len(kept)} or more "
                            "(the topics after the themes are unseeded).")
    model = tp.LDAModel(k=k, alpha=params["alpha"], eta=params["eta"], seed=params["seed"])
    for w in words:
        model.add_doc(w)
    prior: dict[str, np.ndarray] = {}
    for i, theme in enumerate(kept):
        for w in theme["in_vocabulary"]:
            prior.setdefault(w, np.full(k, params["eta"]))[i] = params["seed_weight"]
    for w in sorted(prior):
        model.set_word_prior(w, prior[w].tolist())
    _train(model, params["iterations"], f"seeded LDA k={k} seed={seed}", progress)
    params["themes"] = table
    names = [t["theme"] for t in kept] + [f"unseeded {j + 1}" for j in range(k - len(kept))]
    return _result("seeded", model, dictionary, units, bow, params, tokens, names)


@renamed_keywords
def seeded_topics(model: StructuredTopicModel, *, top: int = 10) -> pd.DataFrame:
    """How much each seeded topic kept its seeds (a ``fit_seeded`` model), one row per theme.

    n_seeds: the theme's seed terms; n_in_vocabulary: of them, in the model's vocabulary;
    topic: its topic (empty when the theme had too few seeds); top_seed_share: share of the
    topic's ``top`` terms (by probability) that are its seeds; seed_mass: the probability
    of its seeds in the topic, sum_w phi_kw; corpus_share: the seeds' share of all tokens, what
    the mass would be if the topic ignored them; top_terms: its top terms (seeds first marked
    with ``*``). Unseeded topics follow with ``theme`` "unseeded n" and no seed columns.

    Returns ``theme, topic, n_seeds, n_in_vocabulary, top_seed_share, seed_mass,
    corpus_share, top_terms, note``.
    """
    if model.kind != "seeded":
        raise AnalysisError(f"seeded_topics needs a model from fit_seeded, not a {model.kind!r} model.")
    phi = model.topic_term_matrix()
    terms = np.array([model.dictionary[i] for i in range(len(model.dictionary))], dtype=object)
    counts = np.zeros(len(terms))
    for b in model.bow:
        for i, c in b:
            counts[i] += c
    corpus = counts / counts.sum()
    rows, topic = [], 0
    for theme in model.params["themes"]:
        row = {"theme": theme["theme"], "topic": pd.NA, "n_seeds": len(theme["seeds"]),
               "n_in_vocabulary": len(theme["in_vocabulary"]), "top_seed_share": np.nan, "seed_mass": np.nan,
               "corpus_share": np.nan, "top_terms": "", "note": ""}
        if theme["kept"]:
            ids = [model.dictionary.token2id[w] for w in theme["in_vocabulary"]]
            order = np.lexsort((terms, -phi[topic]))[:top]
            seeds = set(theme["in_vocabulary"])
            share = float(np.mean([terms[i] in seeds for i in order]))
            row.update(topic=topic + 1, top_seed_share=share, seed_mass=float(phi[topic, ids].sum()),
                       corpus_share=float(corpus[ids].sum()),
                       top_terms="/".join(f"{terms[i]}*" if terms[i] in seeds else terms[i] for i in order),
                       note="" if share > 0 else f"none of its top {top} terms is a seed: the theme was not found as a topic")
            topic += 1
        else:
            row["note"] = (f"{len(theme['in_vocabulary'])} of {len(theme['seeds'])} seed terms in the vocabulary "
                           f"(at least {model.params['min_seeds']} needed): no topic")
        rows.append(row)
    for t in range(topic, model.k):
        order = np.lexsort((terms, -phi[t]))[:top]
        rows.append({"theme": model.names[t], "topic": t + 1, "n_seeds": 0, "n_in_vocabulary": 0, "top_seed_share": np.nan,
                     "seed_mass": np.nan, "corpus_share": np.nan, "top_terms": "/".join(terms[order]), "note": "unseeded"})
    frame = pd.DataFrame(rows)
    frame["topic"] = frame["topic"].astype("Int64")
    frame.attrs = {"model": "seeded LDA (word priors), tomotopy LDAModel", "k": model.k, "seed": model.params["seed"],
                   "seed_weight": model.params["seed_weight"], "eta": model.params["eta"], "top": top,
                   "iterations": model.params["iterations"], "isa": model.params["isa"], "build": build(model.params)}
    return frame
