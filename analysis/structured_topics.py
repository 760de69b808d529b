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
and give different models: results are reproducible on one machine and processor build, not
across them, so these models are not part of ``analysis figures``. ``params["isa"]`` records
the build that fitted a model.

The fitted model (``StructuredTopicModel``) reads like a ``topics.TopicModel``: ``units``,
``dictionary``, ``topic_term_matrix()``, ``doc_topic_posterior()``, so ``topics.prevalence``,
``topics.topic_terms``, ``topics.topic_labels`` and ``topics.representative_passages`` work
on it. Models are not saved: a refit with the same seed on the same machine is the same model.
Topics are numbered from 1.
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import tomotopy as tp
from gensim.corpora import Dictionary

from .compare import group_labels, small_sample_note, top_with_ties
from .errors import AnalysisError, TermWarning, renamed_keywords
from .lexicon import Lexicon, load_lexicon
from .precision import TOPIC_DIGITS, published_array
from .progress import progress_bar
from .topics import _check_k, align_topics, prepare, prevalence

#: Fitting defaults shared by the three models (Gibbs iterations; tomotopy's alpha and eta;
#: the vocabulary filter of ``topics.prepare``).
DEFAULTS = {"iterations": 1000, "alpha": 0.1, "eta": 0.01, "no_below": 2, "no_above": 0.5, "keep_n": 100_000}
#: Iterations per training call: the progress bar advances by this much (results do not depend on it).
STEP = 100
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


@renamed_keywords
def fit_dmr(tokens: pd.DataFrame, covariates: str | Sequence[str] = "auto", *, k: int, seed: int = 0,
            reference: Mapping | None = None, sigma: float = 1.0, progress: bool = True, **options) -> StructuredTopicModel:
    """Fit a Dirichlet-multinomial regression topic model (Mimno & McCallum 2008): each unit's
    prior over topics depends on its metadata, alpha_{d,k} = exp(lambda_k0 + sum_j lambda_kj x_dj).

    covariates: the metadata columns prevalence depends on (categorical; a year is a category, so eras work too). Each is
    coded against a reference value (``reference={"district": "sip"}``; default: its most
    common value by documents): x_dj = 1 when unit d has value j. lambda is the MAP estimate
    under a Normal(0, sigma^2) prior, optimised between Gibbs sweeps (tomotopy's DMRModel).
    k: topics; seed: the sampler's seed; options: ``iterations, alpha, eta, no_below,
    no_above, keep_n`` (``DEFAULTS``). Read the result with ``topic_effects``.
    """
    params = {**_options(options), "k": k, "seed": _check_seed(seed), "sigma": float(sigma)}
    units, dictionary, bow, words = _prepared(tokens, params)
    _check_k(k, len(units))
    columns, _ = group_labels(units, covariates)  # "auto": as by="auto" (docs/api.md)
    if not columns:
        raise AnalysisError(f"covariates={covariates!r} names no column of the token table; name the metadata "
                            "column(s) prevalence depends on, e.g. covariates='district' (--covariates).")
    refs = _references(units, columns, reference)
    features = [[_feature(c, v) for c, v in zip(columns, row) if str(v) != str(refs[c])]
                for row in units[columns].itertuples(index=False)]
    model = _dmr(words, features, params, params["seed"])
    _train(model, params["iterations"], f"DMR k={k} seed={seed}", progress)
    params.update(by=columns, reference={c: refs[c] for c in columns})
    return _result("dmr", model, dictionary, units, bow, params, tokens)


def _dmr_shares(model, columns: list[str], levels: dict[str, list]) -> dict[tuple, np.ndarray]:
    """The model's expected topic shares E[theta | x] = alpha(x) / sum alpha(x) for every
    covariate value, the other covariates at their reference values."""
    out = {}
    for column in columns:
        for value, is_reference in levels[column]:
            prior = np.asarray(model.get_topic_prior("", [] if is_reference else [_feature(column, value)]), dtype=np.float64)
            out[(column, value)] = prior / prior.sum()
    return out


def _coefficients(model, columns: list[str], levels: dict[str, list]) -> dict[tuple, np.ndarray]:
    """lambda_kj of every covariate value (0 for the reference value), per topic."""
    lam = np.asarray(model.lambda_, dtype=np.float64)[:, 0, :]  # topics x (1 + features)
    names = list(model.multi_metadata_dict)
    return {(c, v): np.zeros(lam.shape[0]) if ref else lam[:, 1 + names.index(_feature(c, v))]
            for c in columns for v, ref in levels[c] if ref or _feature(c, v) in names}


def topic_effects(model: StructuredTopicModel, *, n_boot: int = 50, ci: float = 0.95, progress: bool = True) -> pd.DataFrame:
    """The effect of each covariate value on each topic's prevalence (a ``fit_dmr`` model),
    beside the post-hoc group means of ``topics.prevalence``.

    share: the DMR's expected topic share for a unit with this value, the other covariates at
    their reference values, E[theta_k | x] = alpha_k(x) / sum_j alpha_j(x). effect: share minus
    the share at the reference value (stm's estimateEffect ``method="difference"``, Roberts et
    al. 2014, but from the model's own prior rather than a regression of fitted topic shares).
    coefficient: lambda_kj, the log-scale DMR coefficient (0 at the reference), point estimate.
    Intervals (``ci_low, ci_high``; ``effect_low, effect_high``): percentile bootstrap with
    ``n_boot`` refits, each on documents resampled with replacement within their covariate cell
    and with its own seed (seed + 1 + b), its topics matched to the model's by Hungarian matching
    of topic-term vectors; so they carry both the sampling of documents and the randomness of
    the sampler. ``match`` is a topic's median cosine similarity with its matches (low: the
    topic does not reappear in refits and its intervals are not to be trusted).
    posthoc_share, posthoc_low, posthoc_high: ``topics.prevalence`` of the same model by this
    covariate (the share of the group's tokens, documents resampled).

    Which to read: ``share``/``effect`` answer "how does prevalence depend on this covariate,
    the others held fixed" and are what a model of prevalence is for; the post-hoc means
    describe the group's texts as they are, not adjusted for the other covariates. They differ
    when covariates are confounded (a district observed in one year only) and when a group is
    small (DMR shrinks towards the others through sigma). A group with one document (``note``)
    supports neither beyond that document.

    Returns ``covariate, value, reference, topic, share, ci_low, ci_high, effect, effect_low,
    effect_high, coefficient, posthoc_share, posthoc_low, posthoc_high, match, n_units,
    n_docs, n_tokens, note``; ``df.attrs`` records the options and ``read`` (the paragraph above).
    """
    if model.kind != "dmr":
        raise AnalysisError(f"topic_effects needs a model from fit_dmr, not a {model.kind!r} model.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise AnalysisError(f"n_boot={n_boot!r} is not valid; use 2 or more refits, e.g. 50.")
    if not 0 < ci < 1:
        raise AnalysisError(f"ci={ci!r} is not valid; use a level between 0 and 1, e.g. 0.95.")
    params, units, columns = model.params, model.units, model.params["by"]
    refs = params["reference"]
    levels = {c: [(v, str(v) == str(refs[c])) for v in sorted(units[c].unique(), key=str)] for c in columns}
    keys = [(c, v) for c in columns for v, _ in levels[c]]
    point_share = _dmr_shares(model.model, columns, levels)
    point_coef = _coefficients(model.model, columns, levels)
    phi = model.topic_term_matrix()

    # Bootstrap: documents resampled within covariate cells, each refit aligned to the model.
    rng = np.random.default_rng(params["seed"])
    _, cells = group_labels(units, columns)
    docs = units.assign(_cell=cells.to_numpy()).drop_duplicates("doc_id")[["doc_id", "_cell"]]
    rows_of = units.groupby("doc_id", sort=False).indices
    words = [[w for w in t if w in model.dictionary.token2id] for t in units["tokens"]]
    features = [list(d.multi_metadata) for d in model.model.docs]
    shares, matches = np.empty((n_boot, len(keys), model.k)), np.empty((n_boot, model.k))
    for b in progress_bar(range(n_boot), "DMR bootstrap", progress, unit="fit"):
        picked = np.concatenate([rng.choice(g["doc_id"].to_numpy(), size=len(g)) for _, g in docs.groupby("_cell", sort=True)])
        rows = np.concatenate([rows_of[d] for d in picked])
        refit = _dmr([words[r] for r in rows], [features[r] for r in rows], params, params["seed"] + 1 + b)
        _train(refit, params["iterations"], "", False)
        fitted = StructuredTopicModel("dmr", refit, model.dictionary, units.iloc[rows], [], params, {})
        match, similarity = align_topics(phi, fitted.topic_term_matrix())
        matches[b] = similarity
        boot = _dmr_shares(refit, columns, levels)
        shares[b] = np.array([boot[key][match] for key in keys])
    lower, upper = (1 - ci) / 2, 1 - (1 - ci) / 2
    ref_index = {c: keys.index((c, next(v for v, r in levels[c] if r))) for c in columns}
    effects = shares - shares[:, [ref_index[c] for c, _ in keys], :]
    share_low, share_high = np.quantile(shares, [lower, upper], axis=0)
    effect_low, effect_high = np.quantile(effects, [lower, upper], axis=0)
    match_median = np.median(matches, axis=0)

    posthoc = {c: prevalence(model, c, n_boot=max(n_boot, 200), ci=ci, seed=params["seed"]) for c in columns}
    rows = []
    for i, (column, value) in enumerate(keys):
        ph = posthoc[column].set_index(["group", "topic"])
        is_ref = str(value) == str(refs[column])
        for t in range(model.k):
            post = ph.loc[(str(value), t + 1)]
            note = [small_sample_note(1)] if int(post["n_docs"]) == 1 else []
            if is_ref:
                note.append("reference value: effects of the other values are measured from it")
            if match_median[t] < 0.8:
                note.append(f"topic reappears poorly in refits (median similarity {match_median[t]:.2f}): intervals unreliable")
            ref_share = point_share[(column, refs[column])][t]
            rows.append({"covariate": column, "value": value, "reference": refs[column], "topic": t + 1,
                         "share": point_share[(column, value)][t], "ci_low": share_low[i, t], "ci_high": share_high[i, t],
                         "effect": point_share[(column, value)][t] - ref_share,
                         "effect_low": np.nan if is_ref else effect_low[i, t], "effect_high": np.nan if is_ref else effect_high[i, t],
                         "coefficient": point_coef[(column, value)][t], "posthoc_share": post["share"],
                         "posthoc_low": post["ci_low"], "posthoc_high": post["ci_high"], "match": match_median[t],
                         "n_units": int(post["n_units"]), "n_docs": int(post["n_docs"]), "n_tokens": int(post["n_tokens"]),
                         "note": "; ".join(note)})
    frame = pd.DataFrame(rows)
    frame.attrs = {"model": "DMR (Mimno & McCallum 2008), tomotopy DMRModel", "k": model.k, "seed": params["seed"],
                   "sigma": params["sigma"], "iterations": params["iterations"], "n_boot": n_boot, "ci": ci,
                   "resampling": "documents within covariate cells, one refit each", "isa": params["isa"],
                   "reference": {c: str(v) for c, v in refs.items()}, "read": READ_EFFECTS}
    return frame


READ_EFFECTS = ("Read share/effect (DMR) for how prevalence depends on a covariate with the others held at their "
                "reference values; read posthoc_share for what the group's texts contain, unadjusted. They differ "
                "when covariates are confounded or a group is small (DMR shrinks it towards the others).")


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


def fit_dtm(tokens: pd.DataFrame, over: str = "year", *, k: int, seed: int = 0, progress: bool = True,
            **options) -> StructuredTopicModel:
    """Fit a dynamic topic model (Blei & Lafferty 2006; tomotopy's DTModel, sampled as in
    Bhadury et al. 2016): each topic's word distribution drifts from one period to the next
    (a Gaussian random walk on its natural parameters), so a topic keeps its identity while
    its top terms change.

    over: the time column; its values in order are the periods (an ordered categorical keeps
    its order, so eras work; otherwise sorted). k, seed, options as in ``fit_dmr``.
    Read it with ``topics_over_time``.
    """
    params = {**_options(options), "k": k, "seed": _check_seed(seed)}
    units, dictionary, bow, words = _prepared(tokens, params)
    _check_k(k, len(units))
    group_labels(units, over)
    periods = _periods(units, over)
    if len(periods) < 2:
        raise AnalysisError(f"{over!r} has one value ({periods[0]!r}): topics over time need two periods or more.")
    position = {p: i for i, p in enumerate(periods)}
    model = tp.DTModel(k=k, t=len(periods), alpha_var=params["alpha"], eta_var=params["eta"], seed=params["seed"])
    for w, p in zip(words, units[over]):
        model.add_doc(w, timepoint=position[p])
    _train(model, params["iterations"], f"DTM k={k} seed={seed}", progress)
    params.update(over=over, periods=periods)
    return _result("dtm", model, dictionary, units, bow, params, tokens)


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
    frame.attrs = {"model": "dynamic topic model (Blei & Lafferty 2006), tomotopy DTModel", "k": model.k,
                   "seed": model.params["seed"], "iterations": model.params["iterations"], "over": over,
                   "periods": [str(p) for p in periods], "isa": model.params["isa"]}
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
                   "iterations": model.params["iterations"], "isa": model.params["isa"]}
    return frame
