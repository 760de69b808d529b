"""Topic models: gensim LDA with a fixed seed, choice of K, stability, prevalence, reading.

Units (paragraphs by default) are the LDA documents: five articles are too few. Results
are reproducible bit for bit: units are sorted before the dictionary is built (term ids
follow arrival order), every random step takes an explicit seed, and only the single-core
LdaModel is used (LdaMulticore is not reproducible: measured differences up to 1.8e-4).
Topics are numbered from 1 in every output.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from gensim.corpora import Dictionary
from gensim.models import CoherenceModel, LdaModel
from scipy import sparse
from scipy.optimize import linear_sum_assignment

from .compare import group_labels, small_sample_note, top_with_ties
from .display import Summary, first_few
from .errors import AnalysisError, TermWarning, choice_error, renamed_keywords
from .parallel import chunked, imap_ordered
from .precision import LOG_DECIMALS, TOPIC_DIGITS, published_array, published_value, round_decimals
from .progress import progress_bar, progress_counter
from .store import TokenStore
from .bagofwords import known_bow, store_bow

TermMethod = Literal["probability", "relevance", "frex"]
TERM_METHODS = ("probability", "relevance", "frex")
COHERENCE = ("c_v", "c_npmi", "u_mass")
#: Fitting parameters and their defaults, chosen for a small corpus of paragraphs.
DEFAULTS = {"passes": 20, "iterations": 400, "alpha": "symmetric", "eta": None, "no_below": 2,
            "no_above": 0.5, "keep_n": 100_000, "chunksize": 2000}


@dataclass(repr=False)
class TopicModel(Summary):
    """A fitted LDA model with everything needed to read, reuse and cite it.

    lda: the gensim model; dictionary: its vocabulary; units: one row per fitted unit
    (``doc_id, unit_id`` and metadata); params: k, seed and fitting options; provenance:
    the token table's attrs (corpus and lexicon hashes, tokenisation options).

    bow: the fitted units' bag-of-words. Fitted from a token table: a list, and ``units``
    keeps each unit's ``tokens``. Fitted from a ``TokenStore``: a ``BowStream`` read from
    disk on each use (never every bag-of-words in memory), and ``units`` holds metadata only;
    theta, unit lengths and term counts are computed from it in one streamed pass when first
    asked for and kept (units x K floats: the result itself). Saved and loaded, such a model
    keeps those arrays (``unit_gamma.npy``, ``unit_lengths.npy``, ``term_counts.npy``) and no
    bag-of-words (``bow`` None): everything but in-sample ``perplexity`` works as before.
    """

    lda: LdaModel
    dictionary: Dictionary
    units: pd.DataFrame
    bow: list = field(repr=False)
    params: dict
    provenance: dict
    _theta: np.ndarray | None = field(default=None, repr=False)
    _gamma: np.ndarray | None = field(default=None, repr=False)
    _lengths: np.ndarray | None = field(default=None, repr=False)
    _term_counts: np.ndarray | None = field(default=None, repr=False)

    @property
    def k(self) -> int:
        return self.params["k"]

    def _summary(self) -> tuple[str, list[str]]:
        n_docs = self.units["doc_id"].nunique()
        head = (f"TopicModel: LDA, k={self.k}, seed {self.params['seed']}, {len(self.units):,} units of {n_docs:,} documents, "
                f"{len(self.dictionary):,} terms")
        labels = topic_labels(self, top=3)
        columns = [c for c in self.units.columns if c not in ("tokens", "n_tokens")]
        return head, [f"topics: {first_few(labels.values(), 4)}", f"documents: {first_few(sorted(self.units['doc_id'].unique()))}",
                      f"unit columns: {', '.join(columns)}",
                      "options: " + ", ".join(f"{key} {self.params[key]}" for key in ("passes", "iterations", "alpha", "no_below", "no_above")
                                              if key in self.params)]

    def topic_term_matrix(self) -> np.ndarray:
        """K x V topic-term probabilities (phi)."""
        return self.lda.get_topics().astype(np.float64)

    def doc_topic_matrix(self) -> np.ndarray:
        """Units x K topic shares (theta): the means of ``doc_topic_posterior``."""
        if self._theta is None:
            gamma = self.doc_topic_posterior()
            self._theta = gamma / gamma.sum(axis=1, keepdims=True)
        return self._theta

    def doc_topic_posterior(self) -> np.ndarray:
        """Units x K parameters (gensim's gamma) of each unit's variational Dirichlet posterior
        over topic shares, inferred with the model's seed, so repeated calls and reloaded
        models give the same numbers."""
        if self._gamma is None:
            self.lda.random_state = np.random.RandomState(self.params["seed"])
            if isinstance(self.bow, list):
                gamma, _ = self.lda.inference(self.bow)
            else:  # a stream, a chunk at a time: the seeded draws continue from chunk to chunk, so the numbers are the same
                gamma = np.concatenate([self.lda.inference(chunk)[0] for chunk in chunked(self._stream(), self.params["chunksize"])])
            self._gamma = np.asarray(gamma, dtype=np.float64)
        return self._gamma

    def unit_lengths(self) -> np.ndarray:
        """Tokens of each fitted unit that are in the model's vocabulary."""
        if self._lengths is None:
            self._lengths = np.array([sum(c for _, c in b) for b in self._stream()], dtype=np.float64)
        return self._lengths

    def term_counts(self) -> np.ndarray:
        """Each vocabulary term's count in the fitted units (by term id)."""
        if self._term_counts is None:
            self._term_counts = _count_terms(self._stream(), len(self.dictionary))
        return self._term_counts

    def _stream(self):
        if self.bow is None:
            raise AnalysisError("this model was fitted from a token store and saved without its bag-of-words; fit it "
                                "again from the store (analysis.open_store(folder)) for this.")
        return self.bow

    def transform(self, tokens: pd.DataFrame | TokenStore) -> pd.DataFrame:
        """Topic shares of new units (a token table, tokenised as the fitted one was),
        inferred with the fitted topics and the model's seed: the same table gives the same
        numbers, and the fitted units get those of ``doc_topics``.

        Only terms of the model's vocabulary can be scored: the others are counted and a
        ``TermWarning`` says how many tokens (and distinct terms) were left out and how many
        units had no known term (those units are left out). Raises AnalysisError when no
        unit has a known term. Returns ``doc_id, unit_id, topic, share`` as ``doc_topics``;
        ``df.attrs``: ``n_units, n_units_dropped, n_tokens, n_tokens_unseen, n_terms_unseen``.
        tokens may be a ``TokenStore``: its units are scored from a streamed bag-of-words (see
        ``prepare``), with the same numbers.
        """
        if isinstance(tokens, TokenStore):
            kept_units, stream, unseen, n_tokens = known_bow(tokens, self.dictionary)
            n_units, keep = len(tokens), list(range(len(kept_units)))
        elif not isinstance(tokens, pd.DataFrame) or not {"doc_id", "unit_id", "tokens"} <= set(tokens.columns):
            raise AnalysisError("transform takes a token table (doc_id, unit_id, tokens): tokenize the new corpus with "
                                f"analysis.tokenize(cleaned, unit={_model_unit(self.provenance)!r}) first.")
        else:
            units = tokens.sort_values(["doc_id", "unit_id"], kind="stable").reset_index(drop=True)
            bows, unseen = [], {}
            for token_list in units["tokens"]:
                bow, missing = self.dictionary.doc2bow(list(token_list), return_missing=True)
                bows.append(bow)
                for term, count in missing.items():
                    unseen[term] = unseen.get(term, 0) + count
            keep = [k for k, bow in enumerate(bows) if bow]
            n_tokens, n_units = int(sum(len(t) for t in units["tokens"])), len(units)
            kept_units, stream = units.iloc[keep], None
        n_unseen = int(sum(unseen.values()))
        if not keep:
            raise AnalysisError(f"none of the {n_units} units has a term of the model's vocabulary ({n_tokens} tokens, all unseen "
                                "in training): nothing to score; tokenise the new texts as the fitted ones were.")
        if unseen or len(keep) < n_units:
            common = sorted(unseen.items(), key=lambda item: (-item[1], item[0]))[:5]
            warnings.warn(f"{n_unseen} of {n_tokens} tokens ({len(unseen)} distinct terms, e.g. "
                          f"{', '.join(t for t, _ in common) or '-'}) are not in the model's vocabulary and were left out; "
                          f"{n_units - len(keep)} of {n_units} units had no known term and are not scored.",
                          TermWarning, stacklevel=2)
        self.lda.random_state = np.random.RandomState(self.params["seed"])
        if stream is None:
            gamma, _ = self.lda.inference([bows[k] for k in keep])
        else:  # chunk by chunk: the seeded draws continue, so the numbers are those of one call
            gamma = np.concatenate([self.lda.inference(chunk)[0] for chunk in chunked(stream, self.params["chunksize"])])
        gamma = np.asarray(gamma, dtype=np.float64)
        table = _doc_topic_table(kept_units, gamma / gamma.sum(axis=1, keepdims=True))
        table.attrs = {"n_units": len(keep), "n_units_dropped": n_units - len(keep), "n_tokens": n_tokens,
                       "n_tokens_unseen": n_unseen, "n_terms_unseen": len(unseen)}
        return table

    def save(self, folder: str | Path) -> Path:
        """Save model, dictionary, units and parameters into ``folder`` (replaced as a whole).

        Plain files only, nothing pickled, no timestamps (the same model gives the same
        bytes): the LDA state as ``.npy`` arrays and ``lda.json``, the vocabulary as
        ``dictionary.json``, the units as ``units.parquet``, params and provenance in
        ``meta.json``.
        """
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for name, array in _lda_arrays(self.lda).items():
                np.save(tmp / f"{name}.npy", array, allow_pickle=False)
            _write_json(tmp / "lda.json", _lda_settings(self.lda))
            _write_json(tmp / "dictionary.json", _dictionary_state(self.dictionary))
            self.units.to_parquet(tmp / "units.parquet", index=False)
            if "tokens" not in self.units.columns:  # fitted from a store: no tokens to rebuild the bag-of-words from
                for name, array in (("unit_gamma", self.doc_topic_posterior()), ("unit_lengths", self.unit_lengths()),
                                    ("term_counts", self.term_counts())):
                    np.save(tmp / f"{name}.npy", array, allow_pickle=False)
            _write_json(tmp / "meta.json", {"format": MODEL_FORMAT, "params": self.params, "provenance": self.provenance})
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "TopicModel":
        """Load a model saved with ``save``; reads arrays and JSON only, never a pickle.

        The loaded model gives the same topic-term and unit-topic matrices, bit for bit.
        Raises AnalysisError naming the folder and file when something is missing or broken.
        """
        folder = Path(folder)
        if not (folder / "meta.json").is_file():
            raise AnalysisError(f"{folder}: not a saved topic model (no meta.json); give the folder written by save().")
        meta = _read_model_file(folder, "meta.json", _read_json)
        if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT or not isinstance(meta.get("params"), dict) \
                or "seed" not in meta["params"] or not isinstance(meta.get("provenance"), dict):
            raise AnalysisError(f"{folder}: not a topic model in this version's format (older versions pickled their "
                                "models, which are not loaded because a pickle can run code); fit and save the model again.")
        dictionary = _read_model_file(folder, "dictionary.json", lambda p: _dictionary_from(_read_json(p)))
        settings = _read_model_file(folder, "lda.json", _read_json)
        arrays = {name: _read_model_file(folder, f"{name}.npy", lambda p: np.load(p, allow_pickle=False))
                  for name in _ARRAYS}
        # the arrays and settings are checked against each other when the model is built
        lda = _read_model_file(folder, "lda.json", lambda _: _lda_from(settings, arrays, dictionary, meta["params"]["seed"]))
        units = _read_model_file(folder, "units.parquet", pd.read_parquet)
        if "tokens" not in units.columns:  # fitted from a token store
            if not (folder / "unit_gamma.npy").is_file():
                raise AnalysisError(f"{folder / 'units.parquet'}: has no tokens column and the folder no unit_gamma.npy; save the model again.")
            saved = {name: _read_model_file(folder, f"{name}.npy", lambda p: np.load(p, allow_pickle=False))
                     for name in ("unit_gamma", "unit_lengths", "term_counts")}
            if saved["unit_gamma"].shape != (len(units), int(settings["num_topics"])) or saved["unit_lengths"].shape != (len(units),) \
                    or saved["term_counts"].shape != (len(dictionary),):
                raise AnalysisError(f"{folder}: unit_gamma.npy, unit_lengths.npy or term_counts.npy does not match the units and "
                                    "dictionary; save the model again.")
            return cls(lda=lda, dictionary=dictionary, units=units, bow=None, params=meta["params"], provenance=meta["provenance"],
                       _gamma=saved["unit_gamma"], _lengths=saved["unit_lengths"], _term_counts=saved["term_counts"])
        # Python lists, as in the token table (Parquet gives arrays): a loaded model saves the same bytes
        units["tokens"] = pd.Series([list(t) for t in units["tokens"]], index=units.index, dtype=object)
        return cls(lda=lda, dictionary=dictionary, units=units, bow=[dictionary.doc2bow(t) for t in units["tokens"]],
                   params=meta["params"], provenance=meta["provenance"])


# ---------------------------------------------------------------- saving without pickles

#: Written into meta.json; a folder without it (or with another) is not loaded.
MODEL_FORMAT = "analysis-topic-model/2"
# The LdaModel arrays that inference, get_topics and further training read.
_ARRAYS = ("alpha", "eta", "state_eta", "sstats", "expElogbeta")
# Its scalar settings: those LdaModel.__init__ takes (inference reads iterations and
# gamma_threshold; update reads the rest), and those training changes.
_INIT_SETTINGS = ("chunksize", "passes", "update_every", "decay", "offset", "eval_every", "iterations",
                  "gamma_threshold", "minimum_probability", "minimum_phi_value", "per_word_topics")
_SETTINGS = ("num_topics", *_INIT_SETTINGS, "optimize_alpha", "optimize_eta", "num_updates")


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _read_model_file(folder: Path, name: str, read):
    """``read(folder / name)``, any failure turned into one AnalysisError naming the file."""
    path = folder / name
    try:
        return read(path)
    except AnalysisError:
        raise
    except Exception as exc:  # noqa: BLE001 - json, numpy, pyarrow and gensim each raise their own types
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise AnalysisError(f"{path}: cannot be read as part of a saved topic model ({reason}); "
                            "save or fit the model again.") from None


def _lda_arrays(lda: LdaModel) -> dict[str, np.ndarray]:
    return {"alpha": lda.alpha, "eta": lda.eta, "state_eta": lda.state.eta, "sstats": lda.state.sstats,
            "expElogbeta": lda.expElogbeta}


def _lda_settings(lda: LdaModel) -> dict:
    return {**{name: getattr(lda, name) for name in _SETTINGS}, "dtype": np.dtype(lda.dtype).name,
            "num_docs": lda.state.numdocs}


def _lda_from(settings: dict, arrays: dict[str, np.ndarray], dictionary: Dictionary, seed) -> LdaModel:
    """An LdaModel with exactly the saved state; raises ValueError if the files disagree."""
    dtype = np.dtype(settings["dtype"])
    if dtype.kind != "f":
        raise ValueError(f"dtype {dtype} is not a floating-point type")
    k, v = int(settings["num_topics"]), 1 + max(dictionary.keys(), default=-1)
    shapes = {"alpha": [(k,)], "eta": [(v,), (k, v)], "state_eta": [(v,), (k, v)], "sstats": [(k, v)], "expElogbeta": [(k, v)]}
    for name, array in arrays.items():
        if array.dtype != dtype or array.shape not in shapes[name]:
            raise ValueError(f"{name}.npy holds {array.dtype} {array.shape}, expected {dtype} {shapes[name][0]}")
    lda = LdaModel(id2word=dictionary, num_topics=k, alpha=arrays["alpha"], eta=arrays["eta"], dtype=dtype,
                   random_state=seed, **{name: settings[name] for name in _INIT_SETTINGS})
    lda.optimize_alpha, lda.optimize_eta = bool(settings["optimize_alpha"]), bool(settings["optimize_eta"])
    lda.num_updates = int(settings["num_updates"])
    lda.state.eta, lda.state.sstats, lda.state.numdocs = arrays["state_eta"], arrays["sstats"], int(settings["num_docs"])
    lda.expElogbeta = arrays["expElogbeta"]
    lda.random_state = np.random.RandomState(seed)  # doc_topic_matrix reseeds it anyway
    return lda


def _dictionary_state(dictionary: Dictionary) -> dict:
    """The Dictionary's whole state, in its own order (term ids, frequencies, counts)."""
    return {"token2id": list(dictionary.token2id.items()), "dfs": list(dictionary.dfs.items()),
            "cfs": list(dictionary.cfs.items()), "num_docs": dictionary.num_docs, "num_pos": dictionary.num_pos,
            "num_nnz": dictionary.num_nnz}


def _dictionary_from(state: dict) -> Dictionary:
    """A Dictionary rebuilt from ``_dictionary_state``; raises ValueError if malformed."""
    dictionary = Dictionary()
    pairs = {name: [(a, int(b)) for a, b in state[name]] for name in ("token2id", "dfs", "cfs")}
    if not all(isinstance(t, str) for t, _ in pairs["token2id"]):
        raise ValueError("token2id holds a term that is not a string")
    dictionary.token2id = dict(pairs["token2id"])
    if len(dictionary.token2id) != len(pairs["token2id"]) or len(set(dictionary.token2id.values())) != len(dictionary.token2id):
        raise ValueError("token2id repeats a term or an id")
    dictionary.dfs = {int(i): n for i, n in pairs["dfs"]}
    dictionary.cfs = {int(i): n for i, n in pairs["cfs"]}
    dictionary.num_docs, dictionary.num_pos, dictionary.num_nnz = (int(state[n]) for n in ("num_docs", "num_pos", "num_nnz"))
    return dictionary


class _Counted:
    """A corpus that advances ``bar`` by one for each unit gensim reads (every pass reads each
    unit once), so that a long pass shows its rate and the time left, not one step per pass."""

    def __init__(self, corpus, bar):
        self.corpus, self.bar = corpus, bar

    def __len__(self) -> int:
        return len(self.corpus)

    def __iter__(self):
        for unit in self.corpus:
            yield unit
            self.bar.update(1)


# ---------------------------------------------------------------- fitting

def _check_k(k, n_units: int) -> None:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise AnalysisError(f"k={k!r} is not valid; use a whole number of topics, 2 or more.")
    if k > n_units:
        raise AnalysisError(f"k={k} is larger than the {n_units} units with tokens; use fewer topics or smaller units (unit='sentence').")


def prepare(tokens: pd.DataFrame | TokenStore, *, no_below: int = 2, no_above: float = 0.5, keep_n: int = 100_000):
    """Sorted units, filtered dictionary and bag-of-words; units left empty are dropped.

    Returns (units frame with ``tokens``, Dictionary, bow list). Raises AnalysisError when
    no term survives the filter. tokens may be a ``TokenStore``: the same dictionary, units
    (metadata without ``tokens``) and bag-of-words, the latter a re-iterable ``BowStream``
    read from disk, made in two passes over the shards (see ``analysis.bagofwords``).
    """
    if tokens.empty:
        raise AnalysisError("the token table is empty: nothing to model.")
    if isinstance(tokens, TokenStore):
        units, dictionary, bow = store_bow(tokens, no_below=no_below, no_above=no_above, keep_n=keep_n)
        _check_vocabulary(dictionary, no_below, no_above)
        return units, dictionary, bow
    units = tokens.sort_values(["doc_id", "unit_id"], kind="stable").reset_index(drop=True)
    lists = [list(t) for t in units["tokens"]]
    dictionary = Dictionary(lists)
    dictionary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=keep_n)
    _check_vocabulary(dictionary, no_below, no_above)
    bow = [dictionary.doc2bow(t) for t in lists]
    keep = [k for k, b in enumerate(bow) if b]
    units = units.iloc[keep].reset_index(drop=True)
    return units, dictionary, [bow[k] for k in keep]


def _check_vocabulary(dictionary: Dictionary, no_below: int, no_above: float) -> None:
    if len(dictionary) == 0:
        raise AnalysisError(f"no term is left after filtering the vocabulary (no_below={no_below}: terms in fewer units "
                            f"are dropped; no_above={no_above}: terms in a larger share of units are dropped); "
                            "lower no_below or raise no_above.")


def fit_lda(tokens: pd.DataFrame | TokenStore, *, k: int, seed: int = 0, progress: bool = True, texts=None, **options) -> TopicModel:
    """Fit gensim's LdaModel on the units of a token table or a token store.

    From a ``TokenStore`` the bag-of-words is streamed on every pass (see ``prepare``): the
    same model, bit for bit, as from the store's token table; the model keeps no tokens
    (see ``TopicModel``).

    k: topics (2 or more, at most the number of units). seed: the model's random state.
    options: ``passes, iterations, alpha, eta, chunksize`` (LdaModel) and ``no_below,
    no_above, keep_n`` (vocabulary filter); defaults in ``DEFAULTS``. texts: the cleaned
    Corpus the tokens came from (or a table ``unit_id, text``): each unit's text is kept in
    ``units["text"]`` (and saved with the model), so ``representative_passages(model)``
    needs nothing else. Same tokens, k, seed and options give the same topics, bit for bit.
    """
    params = _fit_params(k, seed, options)
    units, dictionary, bow = prepare(tokens, no_below=params["no_below"], no_above=params["no_above"], keep_n=params["keep_n"])
    _check_k(params["k"], len(bow))
    model = _fit_prepared(units, dictionary, bow, params, dict(tokens.attrs), progress)
    if texts is not None:
        model.units = model.units.assign(text=_unit_texts(model.units, texts, model.provenance))
    return model


def _fit_params(k, seed: int, options: dict) -> dict:
    """k, seed and every fitting option (``DEFAULTS`` filled in); raises for unknown options."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise AnalysisError(f"unknown option(s) {', '.join(sorted(unknown))}; use {', '.join(DEFAULTS)}.")
    return {"k": int(k) if isinstance(k, (int, np.integer)) and not isinstance(k, bool) else k, "seed": seed, **DEFAULTS, **options}


def _fit_prepared(units: pd.DataFrame, dictionary: Dictionary, bow: list, params: dict, provenance: dict,
                  progress: bool) -> TopicModel:
    """``fit_lda`` on units already prepared (``prepare``) with ``params`` (``_fit_params``)."""
    with progress_counter(params["passes"] * len(bow), f"LDA k={params['k']} seed={params['seed']}, {params['passes']} passes",
                          progress, unit="unit") as bar:
        lda = LdaModel(corpus=_Counted(bow, bar), id2word=dictionary, num_topics=params["k"], random_state=params["seed"],
                       passes=params["passes"], iterations=params["iterations"], alpha=params["alpha"], eta=params["eta"],
                       chunksize=params["chunksize"], eval_every=None)
    return TopicModel(lda=lda, dictionary=dictionary, units=units, bow=bow, params=params, provenance=provenance)


# ---------------------------------------------------------------- reading topics

@renamed_keywords
def topic_terms(model: TopicModel, *, top: int | None = 10, method: TermMethod = "relevance", lambda_: float = 0.6,
                frex_weight: float = 0.5) -> pd.DataFrame:
    """Top terms of every topic, ranked by ``method``.

    method: ``relevance`` (default; Sievert & Shirley 2014: lambda log phi + (1 - lambda)
    log(phi / p(term)), as in LDAvis, with ``lambda_`` 0.6, their recommendation),
    ``probability`` (phi) or ``frex`` (Roberts et al.: harmonic mean of the ranks of
    frequency and exclusivity, weight ``frex_weight`` on exclusivity). top: terms per topic
    (None: all); terms tied with the ``top``-th are kept, sharing a rank.

    Returns ``topic, rank, term, <relevance or frex>, probability`` (the ranking measure in
    a column named for it; with ``method="probability"`` just ``probability``), sorted by
    topic and rank; ties broken by term.
    """
    if method not in TERM_METHODS:
        raise choice_error("method", method, TERM_METHODS)
    phi = model.topic_term_matrix()
    top = _check_top(top, phi.shape[1])
    terms = np.array([model.dictionary[i] for i in range(len(model.dictionary))], dtype=object)
    if method == "probability":
        score = phi
    elif method == "relevance":
        marginal = _term_marginal(model)
        score = lambda_ * np.log(phi) + (1 - lambda_) * np.log(phi / marginal[None, :])
    else:
        exclusivity = phi / phi.sum(axis=0, keepdims=True)
        freq_rank = (np.argsort(np.argsort(phi, axis=1), axis=1) + 1) / phi.shape[1]
        excl_rank = (np.argsort(np.argsort(exclusivity, axis=1), axis=1) + 1) / phi.shape[1]
        score = 1 / (frex_weight / excl_rank + (1 - frex_weight) / freq_rank)
    rows = []
    for topic in range(phi.shape[0]):
        order, ranks = top_with_ties(np.lexsort((terms, -score[topic])), score[topic], top)
        rows += [(topic + 1, int(rank), terms[t], float(score[topic, t]), float(phi[topic, t])) for rank, t in zip(ranks, order)]
    frame = pd.DataFrame(rows, columns=["topic", "rank", "term", method, "probability"])
    return frame.loc[:, ~frame.columns.duplicated()]


def _check_top(top, available: int) -> int:
    """``top`` as a count: None means all ``available``; else a whole number, 1 or more."""
    if top is None:
        return max(available, 1)
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise AnalysisError(f"top={top!r} is not valid; use a whole number, 1 or more, or None for all.")
    return int(top)


def _count_terms(bows: Iterable[list[tuple[int, int]]], n_terms: int) -> np.ndarray:
    """Each term id's count in a bag-of-words corpus."""
    counts = np.zeros(n_terms)
    for bow in bows:
        for term_id, count in bow:
            counts[term_id] += count
    return counts


def _term_marginal(model) -> np.ndarray:
    """p(term) in the fitted corpus (of a TopicModel, whose counts are kept, or of any model
    with ``bow`` and ``dictionary``, such as the structured ones)."""
    counts = model.term_counts() if isinstance(model, TopicModel) else _count_terms(model.bow, len(model.dictionary))
    return counts / counts.sum()


@renamed_keywords
def topic_labels(model: TopicModel, *, top: int = 3, method: TermMethod = "relevance", lambda_: float = 0.6) -> dict[int, str]:
    """A short label per topic from its ``top`` terms ranked as ``topic_terms`` ranks them
    (the same defaults), e.g. ``{1: "1 社区/居民/治理"}``."""
    table = topic_terms(model, top=top, method=method, lambda_=lambda_)
    return {t: f"{t} " + "/".join(g.term) for t, g in table.groupby("topic")}


def doc_topics(model: TopicModel) -> pd.DataFrame:
    """Topic shares of every fitted unit, long format: ``doc_id, unit_id, topic, share``."""
    return _doc_topic_table(model.units, model.doc_topic_matrix())


def _doc_topic_table(units: pd.DataFrame, theta: np.ndarray) -> pd.DataFrame:
    """The long ``doc_topics`` table of ``units`` (``doc_id, unit_id``) and their topic shares."""
    n, k = theta.shape
    return pd.DataFrame({"doc_id": np.repeat(units["doc_id"].to_numpy(), k),
                         "unit_id": np.repeat(units["unit_id"].to_numpy(), k),
                         "topic": np.tile(np.arange(1, k + 1), n), "share": theta.ravel()})


def _model_unit(provenance: dict) -> str:
    return provenance.get("options", {}).get("unit", "paragraph")


def _unit_texts(units: pd.DataFrame, texts, provenance: dict) -> list[str]:
    """The text of each of ``units`` from a cleaned Corpus, a table ``unit_id, text``, or a
    corpus path (loaded without its texts; only the documents of ``units`` are read and
    cleaned, with the corpus's own settings, as the tokens were)."""
    from dataclasses import replace

    from .cleaning import clean
    from .cleaning import units as split_units
    from .corpus import Corpus, load_corpus

    unit = _model_unit(provenance)
    if isinstance(texts, (str, Path)):
        corpus = load_corpus(texts, progress=False, keep_texts=False)
        wanted = corpus.metadata["doc_id"].isin(set(units["doc_id"]))
        chosen = corpus.metadata[wanted].reset_index(drop=True)
        ids = list(chosen["doc_id"])
        kept = corpus.texts.subset(ids) if hasattr(corpus.texts, "subset") else {d: corpus.texts[d] for d in ids}
        texts = clean(replace(corpus, metadata=chosen, texts=kept), progress=False)
    if isinstance(texts, Corpus):
        if texts.cleaning is None:
            raise AnalysisError("the corpus given for the passages' texts is not cleaned; pass analysis.clean(corpus), "
                                "the corpus the tokens came from.")
        texts = split_units(texts, unit)
    if not isinstance(texts, pd.DataFrame) or not {"unit_id", "text"} <= set(texts.columns):
        raise AnalysisError(f"texts must be the cleaned Corpus or a table with unit_id and text (analysis.units(cleaned, {unit!r})).")
    text_of = dict(zip(texts["unit_id"], texts["text"]))
    missing = [u for u in units["unit_id"] if u not in text_of]
    if missing:
        raise AnalysisError(f"unit {missing[0]!r} ({len(missing)} of {len(units)} units) has no text in the given table; "
                            f"pass the cleaned corpus the tokens came from, or analysis.units(cleaned, {unit!r}).")
    return [text_of[u] for u in units["unit_id"]]


@renamed_keywords
def representative_passages(model: TopicModel, texts=None, *, top: int = 3) -> pd.DataFrame:
    """The ``top`` units with the largest share of each topic, with their text.

    texts: None, the text the model keeps (``fit_lda(..., texts=cleaned)``; ``analysis
    topics fit`` does so); or the cleaned Corpus, or a table ``unit_id, text``
    (``analysis.units(cleaned, unit)`` for the unit the model was fitted on), or the corpus's
    path: only the passages' documents are read and cleaned (for a model of an archive
    fitted from a token store). Returns
    ``topic, rank, doc_id, unit_id, <district, year if present>, share, text`` (share: the
    topic's share of the unit). texts=False: no ``text`` column (for a model fitted from a
    token store, which holds no text, when the corpus is not at hand).
    """
    top = _check_top(top, len(model.units))
    if texts is False:
        unit_text = None
    elif texts is None:
        if "text" not in model.units.columns:
            raise AnalysisError("this model keeps no text (fitted without texts=); pass the cleaned corpus: "
                                "representative_passages(model, cleaned), or fit with fit_lda(tokens, k=..., texts=cleaned).")
        unit_text = model.units["text"].tolist()
    else:
        unit_text = _unit_texts(model.units, texts, model.provenance)
    theta = model.doc_topic_matrix()
    extra = [c for c in ("district", "year") if c in model.units.columns]
    rows = []
    for topic in range(theta.shape[1]):
        order = np.lexsort((model.units["unit_id"].to_numpy(), -theta[:, topic]))[:top]
        for rank, u in enumerate(order, 1):
            unit = model.units.iloc[u]
            rows.append({"topic": topic + 1, "rank": rank, "doc_id": unit["doc_id"], "unit_id": unit["unit_id"],
                         **{c: unit[c] for c in extra}, "share": float(theta[u, topic]),
                         **({"text": unit_text[u]} if unit_text is not None else {})})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- prevalence

Weighting = Literal["tokens", "units"]
Uncertainty = Literal["dirichlet", "none"]


def prevalence(model: TopicModel, by: str | Sequence[str] | None = "auto", *, n_boot: int = 1000, ci: float = 0.95,
               seed: int = 0, weight: Weighting = "tokens", uncertainty: Uncertainty = "dirichlet",
               n_draws: int = 25) -> pd.DataFrame:
    """Topic share per group, with document-level (cluster) bootstrap intervals.

    share: the group's topic share, sum_u w_u theta_u / sum_u w_u over its units, where
    theta_u is the posterior mean of unit u's topic shares and w_u its length in tokens
    (``weight="tokens"``: the share of the group's words; ``"units"``: every unit counts
    once). Interval: percentile bootstrap that resamples *documents* with replacement within
    each group (the paragraphs of one article are not independent), the share recomputed as
    the same ratio. With ``uncertainty="dirichlet"`` the unit's topic shares are not taken as
    known: ``n_draws`` sets of theta are drawn from each unit's variational Dirichlet posterior
    (gensim's gamma) and bootstrap replicate b uses draw b mod n_draws (the method of
    composition, as stm's estimateEffect with uncertainty="Global"). A group with one document
    cannot show between-document variation: its interval reflects only the topic-share
    uncertainty (zero width with ``uncertainty="none"``), and ``note`` says so.

    Returns ``<by columns>, group, topic, share, ci_low, ci_high, n_units, n_docs, n_tokens,
    note``, sorted by group and topic; ``df.attrs`` records the options.
    """
    if not 0 < ci < 1:
        raise AnalysisError(f"ci={ci!r} is not valid; use a level between 0 and 1, e.g. 0.95.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise AnalysisError(f"n_boot={n_boot!r} is not valid; use 1 or more resamples, e.g. 1000.")
    if weight not in ("tokens", "units"):
        raise choice_error("weight", weight, ("tokens", "units"))
    if uncertainty not in ("dirichlet", "none"):
        raise choice_error("uncertainty", uncertainty, ("dirichlet", "none"))
    if not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise AnalysisError(f"n_draws={n_draws!r} is not valid; use 1 or more draws of topic shares, e.g. 25.")
    columns, labels = group_labels(model.units, by)
    lengths = model.unit_lengths()
    frame = prevalence_intervals(model.doc_topic_posterior(), lengths if weight == "tokens" else np.ones(len(lengths)),
                                 labels.to_numpy(), model.units["doc_id"].to_numpy(), n_boot=n_boot, ci=ci, seed=seed,
                                 draws=n_draws if uncertainty == "dirichlet" else 0)
    keys = model.units.assign(group=labels.to_numpy()).groupby("group", sort=True)[columns].first()
    tokens_per_group = pd.Series(lengths, index=labels.to_numpy()).groupby(level=0).sum()
    frame = keys.loc[frame["group"]].reset_index(drop=True).join(frame)
    n_tokens = frame["group"].map(tokens_per_group).round().astype(np.int64)
    frame.insert(frame.columns.get_loc("n_docs") + 1, "n_tokens", n_tokens)
    frame["note"] = [_prevalence_note(n) for n in frame["n_docs"]]
    frame.attrs = {"by": columns, "weight": weight, "uncertainty": uncertainty, "n_draws": n_draws if uncertainty == "dirichlet" else 0,
                   "n_boot": n_boot, "ci": ci, "seed": seed, "resampling": "documents"}
    return frame


def _prevalence_note(n_docs: int) -> str:
    if n_docs == 1:
        return small_sample_note(1) + "; its interval shows only the uncertainty of topic shares, not between documents"
    return ""


def prevalence_intervals(gamma: np.ndarray, weights: np.ndarray, groups: np.ndarray, clusters: np.ndarray, *,
                         n_boot: int = 1000, ci: float = 0.95, seed: int = 0, draws: int = 25) -> pd.DataFrame:
    """The computation behind ``prevalence``, on arrays: vectorised over resamples.

    gamma: units x K Dirichlet parameters; weights: per unit; groups, clusters: each unit's
    group label and document. draws: theta draws from Dirichlet(gamma) (0: theta fixed at
    its posterior mean). Units are first summed per document (weighted theta, weight), so
    one resample costs one matrix product over documents, not over units.

    Returns ``group, topic, share, ci_low, ci_high, n_units, n_docs``.
    """
    rng = np.random.default_rng(seed)
    gamma = np.asarray(gamma, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n_units, k = gamma.shape
    mean_theta = gamma / gamma.sum(axis=1, keepdims=True)
    # Documents within groups: a document whose units carry two group labels is split.
    group_codes, group_names = pd.factorize(pd.Series(groups, dtype=object), sort=True)
    cluster_codes, cluster_keys = pd.factorize(pd.MultiIndex.from_arrays([group_codes, pd.Series(clusters, dtype=object)]), sort=True)
    n_clusters = len(cluster_keys)
    cluster_group = np.asarray(cluster_keys.get_level_values(0), dtype=np.int64)
    to_cluster = sparse.csr_matrix((weights, (cluster_codes, np.arange(n_units))), shape=(n_clusters, n_units))
    cluster_weight = np.asarray(to_cluster.sum(axis=1)).ravel()
    if draws:
        # Dirichlet draws as normalised gamma variates, one units x K draw at a time (memory),
        # summed per document at once: draws x documents x K.
        per_draw = np.empty((draws, n_clusters, k))
        for m in range(draws):
            sample = rng.standard_gamma(gamma)
            sample /= sample.sum(axis=1, keepdims=True)
            per_draw[m] = to_cluster @ sample
    else:
        per_draw = (to_cluster @ mean_theta)[None]
    point = to_cluster @ mean_theta
    lower, upper = (1 - ci) / 2, 1 - (1 - ci) / 2
    rows = []
    for g, name in enumerate(group_names):
        members = np.flatnonzero(cluster_group == g)
        n = len(members)
        counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(np.float64)  # n_boot x documents
        shares = np.empty((n_boot, k))
        for m in range(per_draw.shape[0]):
            rows_m = slice(m, n_boot, per_draw.shape[0])
            shares[rows_m] = (counts[rows_m] @ per_draw[m][members]) / (counts[rows_m] @ cluster_weight[members])[:, None]
        low, high = np.quantile(shares, [lower, upper], axis=0)
        share = point[members].sum(axis=0) / cluster_weight[members].sum()
        n_units_g = int(np.sum(group_codes == g))
        for topic in range(k):
            rows.append((name, topic + 1, float(share[topic]), float(low[topic]), float(high[topic]), n_units_g, n))
    return pd.DataFrame(rows, columns=["group", "topic", "share", "ci_low", "ci_high", "n_units", "n_docs"])


# ---------------------------------------------------------------- choosing K

@dataclass(frozen=True)
class _Grid:
    """What every fit of ``select_k`` shares: the units, dictionary and bag-of-words built once,
    the token lists coherence is counted on, and the options."""

    units: pd.DataFrame
    dictionary: Dictionary
    bow: list
    texts: list
    options: dict
    topn: int


_GRID: _Grid | None = None  # the grid of this worker process


def _init_grid(grid: _Grid) -> None:
    global _GRID
    _GRID = grid


def _fit_top_terms(task: tuple, grid: _Grid | None = None) -> dict:
    """One (k, seed) fit: its topics' top ``topn`` terms and its perplexity."""
    grid = grid or _GRID
    k, seed = task
    model = _fit_prepared(grid.units, grid.dictionary, grid.bow, _fit_params(k, seed, grid.options), {}, False)
    tops = [[grid.dictionary[i] for i, _ in model.lda.get_topic_terms(t, topn=grid.topn)] for t in range(k)]
    return {"k": k, "seed": seed, "tops": tops, "perplexity": perplexity(model)}


def _coherences(task: tuple, grid: _Grid | None = None) -> list[float]:
    """One coherence measure of every fit's topics, from one count of the texts.

    gensim counts (co-)occurrences only for the terms of the topics it is given, and each
    term's counts do not depend on which other terms are counted; so the texts are counted
    once for the top terms of all fits, and each fit is scored from those counts
    (``CoherenceModel`` keeps its counts when new topics use only terms it has counted).
    """
    grid = grid or _GRID
    measure, tops_per_fit = task
    every = [topic for tops in tops_per_fit for topic in tops]
    scorer = CoherenceModel(topics=every, texts=grid.texts, dictionary=grid.dictionary, coherence=measure, topn=grid.topn, processes=1)
    scorer.estimate_probabilities()
    values = []
    for tops in tops_per_fit:
        scorer.topics = tops
        values.append(float(scorer.get_coherence()))
    return values


def _run(func, tasks: list, grid: _Grid, workers: int, desc: str, progress: bool) -> list:
    """``func`` applied to tasks in order, in this process or in worker processes that share ``grid``."""
    if workers == 1:
        return [func(t, grid) for t in progress_bar(tasks, desc, progress, total=len(tasks))]
    results = imap_ordered(func, tasks, min(workers, len(tasks)), initializer=_init_grid, initargs=(grid,))
    return list(progress_bar(results, desc, progress, total=len(tasks)))


@renamed_keywords
def select_k(tokens: pd.DataFrame | TokenStore, *, ks: Iterable[int] = range(2, 9), seeds: Iterable[int] = (0, 1, 2),
             coherence: Sequence[str] = ("c_v", "c_npmi"), top: int = 10, workers: int = 1, progress: bool = True,
             **options) -> pd.DataFrame:
    """Fit every K with every seed; score each by coherence (gensim CoherenceModel, on each
    topic's ``top`` most probable terms) and perplexity.

    Perplexity is in-sample (``perplexity(model)``: exp of minus the variational bound per
    word on the fitted units): lower is better, but in-sample it keeps falling with K, so
    coherence is what ``recommend_k`` uses; for held-out perplexity fit on part of the units
    and call ``perplexity(model, held_out)``. workers: processes; the
    results are the same for any number of workers.

    The dictionary and bag-of-words are built once for all fits, the fits run in ``workers``
    processes, and each coherence measure counts the texts once for all fits (see
    ``_coherences``): the scores are those of a CoherenceModel per fit, bit for bit.
    tokens may be a ``TokenStore``: the bag-of-words is streamed (``prepare``) and the texts
    for coherence read shard by shard, with the same scores.

    Returns ``k, seed, <coherence measures>, perplexity``, sorted by k and seed.
    """
    ks, seeds = sorted(set(ks)), sorted(set(seeds))
    bad = [m for m in coherence if m not in COHERENCE]
    if bad:
        raise choice_error("coherence", bad[0], COHERENCE)
    if not isinstance(workers, int) or workers < 1:
        raise AnalysisError(f"workers={workers!r} is not valid; use a whole number of processes, 1 or more.")
    params = _fit_params(2, 0, options)
    units, dictionary, bow = prepare(tokens, no_below=params["no_below"], no_above=params["no_above"], keep_n=params["keep_n"])
    for k in ks:
        _check_k(k, len(bow))
    texts = bow.texts if isinstance(tokens, TokenStore) else [list(t) for t in units["tokens"]]
    grid = _Grid(units, dictionary, bow, texts, dict(options), top)
    fits = _run(_fit_top_terms, [(k, seed) for k in ks for seed in seeds], grid, workers, "choosing K", progress)
    if not fits:
        return pd.DataFrame(columns=["k", "seed", *coherence, "perplexity"])
    tops = [fit["tops"] for fit in fits]
    scores = _run(_coherences, [(measure, tops) for measure in coherence], grid, workers, "coherence", progress)
    rows = [{"k": fit["k"], "seed": fit["seed"], **{m: scores[j][i] for j, m in enumerate(coherence)}, "perplexity": fit["perplexity"]}
            for i, fit in enumerate(fits)]
    return pd.DataFrame(rows)


def perplexity(model: TopicModel, tokens: pd.DataFrame | TokenStore | None = None) -> float:
    """Perplexity exp(-bound / n_words) of a token table under the model (lower is better).

    bound: gensim's variational lower bound on the log-likelihood (in nats: gensim's own
    log message raises 2 to it, which overstates nothing but is the wrong base) of the
    units of ``tokens`` (None: the fitted units, in-sample), topic shares inferred with the
    model's seed; n_words: their tokens that are in the model's vocabulary (others cannot
    be scored and are left out, as gensim does). Held-out units give the usual measure.
    """
    if tokens is None:
        bow = model._stream()
    elif isinstance(tokens, TokenStore):  # streamed, as in fitting: the units with a known term, sorted
        bow = known_bow(tokens, model.dictionary)[1]
    else:
        units = tokens.sort_values(["doc_id", "unit_id"], kind="stable")
        bow = [b for b in (model.dictionary.doc2bow(list(t)) for t in units["tokens"]) if b]
    n_words = sum(c for doc in bow for _, c in doc)
    if n_words == 0:
        raise AnalysisError("none of the tokens is in the model's vocabulary: nothing to score; pass units from the same corpus.")
    model.lda.random_state = np.random.RandomState(model.params["seed"])
    return float(np.exp(-model.lda.bound(bow) / n_words))


def k_summary(selection: pd.DataFrame, measure: str = "c_v") -> pd.DataFrame:
    """Per K: ``k, mean, sd, se, n_seeds`` of ``measure`` over seeds (se = sd / sqrt(n_seeds);
    sd and se are 0 with one seed), sorted by k."""
    if measure not in selection.columns:
        raise choice_error("measure", measure, [c for c in selection.columns if c in COHERENCE])
    summary = selection.groupby("k")[measure].agg(mean="mean", sd="std", n_seeds="count").reset_index()
    summary["sd"] = summary["sd"].fillna(0.0)
    summary["se"] = summary["sd"] / np.sqrt(summary["n_seeds"])
    return summary[["k", "mean", "sd", "se", "n_seeds"]]


def recommend_k(selection: pd.DataFrame, measure: str = "c_v") -> tuple[int, str]:
    """The smallest K whose mean ``measure`` over seeds is within one standard error of the
    best mean (the one-standard-error rule), and why.

    The best K is the one with the highest mean (the smaller on a tie); its standard error is
    the seeds' standard deviation / sqrt(number of seeds). Coherence differences smaller than
    the spread between seeds are not evidence for more topics, so the simplest model that
    is as good within that spread is chosen. The reason states the rule, the best K, and
    the mean ± sd over seeds of every K.
    """
    summary = k_summary(selection, measure)
    best = summary.sort_values(["mean", "k"], ascending=[False, True], kind="stable").iloc[0]
    threshold = best["mean"] - best["se"]
    chosen = summary[summary["mean"] >= threshold].sort_values("k").iloc[0]
    n_seeds = int(best["n_seeds"])
    spread = "; ".join(f"K={int(r.k)} {r.mean:.3f} ± {r.sd:.3f}" for r in summary.itertuples())
    rule = (f"smallest K within one standard error of the best mean {measure} "
            f"(K={int(best.k)}: {best['mean']:.3f}, SE {best['se']:.3f} over {n_seeds} seed{'s' * (n_seeds != 1)})")
    if n_seeds < 2:
        rule += "; one seed gives no standard error, so this is the best K"
    reason = f"K={int(chosen.k)} is the {rule}; mean ± sd over seeds: {spread}"
    return int(chosen.k), reason


# ---------------------------------------------------------------- stability

def align_topics(reference: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hungarian matching of topics by cosine similarity of their term distributions.

    Returns (for each reference topic, the matched topic of ``other``; their similarity).
    """
    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    oth = other / np.linalg.norm(other, axis=1, keepdims=True)
    similarity = ref @ oth.T
    rows, cols = linear_sum_assignment(-similarity)
    order = np.argsort(rows)
    return cols[order], similarity[rows[order], cols[order]]


@renamed_keywords
def topic_stability(tokens: pd.DataFrame | TokenStore, *, k: int, seeds: Iterable[int] = (0, 1, 2, 3, 4), top: int = 10,
                    progress: bool = True, **options) -> pd.DataFrame:
    """How well each topic of the first seed's model reappears in the models of the other seeds.

    Topics are aligned by Hungarian matching on cosine similarity of topic-term vectors.
    Returns one row per topic of the reference (first) seed: ``topic, top_terms,
    mean_similarity, min_similarity, mean_top_overlap`` (Jaccard of the ``top`` most probable terms)
    and ``n_runs``. The units are prepared once for all seeds; tokens may be a ``TokenStore``
    (see ``fit_lda``).
    """
    seeds = list(dict.fromkeys(seeds))
    if len(seeds) < 2:
        raise AnalysisError("topic_stability needs at least two seeds, e.g. seeds=(0, 1, 2, 3, 4).")
    params = _fit_params(k, seeds[0], options)
    units, dictionary, bow = prepare(tokens, no_below=params["no_below"], no_above=params["no_above"], keep_n=params["keep_n"])
    _check_k(params["k"], len(bow))
    models = [_fit_prepared(units, dictionary, bow, _fit_params(k, s, options), dict(tokens.attrs), False)
              for s in progress_bar(seeds, f"stability k={k}", progress, unit="fit")]
    reference = models[0]
    vocab = [reference.dictionary[i] for i in range(len(reference.dictionary))]

    def top_sets(model):
        return [set(model.topic_term_matrix()[t].argsort()[::-1][:top]) for t in range(k)]

    ref_phi, ref_tops = reference.topic_term_matrix(), top_sets(reference)
    sims, overlaps = [], []
    for model in models[1:]:
        match, sim = align_topics(ref_phi, model.topic_term_matrix())
        tops = top_sets(model)
        sims.append(sim)
        overlaps.append([len(ref_tops[t] & tops[m]) / len(ref_tops[t] | tops[m]) for t, m in enumerate(match)])
    sims, overlaps = np.array(sims), np.array(overlaps)
    return pd.DataFrame({
        "topic": np.arange(1, k + 1),
        "top_terms": ["/".join(vocab[i] for i in ref_phi[t].argsort()[::-1][:5]) for t in range(k)],
        "mean_similarity": sims.mean(axis=0), "min_similarity": sims.min(axis=0),
        "mean_top_overlap": overlaps.mean(axis=0), "n_runs": len(models),
    })


# ---------------------------------------------------------------- interactive page

def script_json(value) -> str:
    """JSON for a ``<script>`` element: ``<``, ``>`` and ``&`` escaped as ``\\u003c`` …, so no
    term (``</script>``, ``<!--``) can end the script or open a comment."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _rows_sum_to_one(matrix: np.ndarray) -> np.ndarray:
    return matrix / matrix.sum(axis=1, keepdims=True)


def _published_page_data(data: dict) -> dict:
    """LDAvis data at published precision (``analysis.precision``): log-scale fields to
    ``LOG_DECIMALS`` decimals, other numbers to ``TOPIC_DIGITS`` significant digits; each axis
    of the topic map flipped so that its largest coordinate is positive (principal
    coordinates are defined up to sign, and the eigen-solver's sign depends on the machine)."""
    tinfo = data.get("tinfo", {})
    logs = {name: [round_decimals(v, LOG_DECIMALS) for v in tinfo.pop(name)] for name in ("logprob", "loglift") if name in tinfo}
    data = published_value(data, TOPIC_DIGITS)
    data.get("tinfo", {}).update(logs)
    mds = data.get("mdsDat", {})
    for axis in ("x", "y"):
        values = mds.get(axis)
        if values and max(values, key=abs) < 0:
            mds[axis] = [0.0 - v for v in values]
    return data



def ldavis_html(model: TopicModel, path: str | Path, *, title: str = "Topics") -> Path:
    """Write an interactive pyLDAvis page that works offline: d3, LDAvis and a subset of
    Noto Sans CJK SC (the vocabulary's characters) are inlined, so Chinese terms render in a
    browser on a machine without Chinese fonts.

    Topic numbers in the page are the model's (not re-sorted by size).
    """
    import base64

    import pyLDAvis
    from pyLDAvis import urls

    from .figures import font_subset
    from .files import write_text_atomic

    # pyLDAvis ranks terms by relevance and cuts at 30 per topic: given the model's full
    # floats, a near-tie at the cut falls differently on another processor. Given published
    # values, it ranks the same numbers everywhere.
    # Rows are renormalised after rounding (pyLDAvis wants sums of 1); a division keeps equal
    # values equal, so ties rank alike everywhere.
    phi = _rows_sum_to_one(published_array(model.topic_term_matrix(), TOPIC_DIGITS))
    theta = _rows_sum_to_one(published_array(model.doc_topic_matrix(), TOPIC_DIGITS))
    lengths = model.unit_lengths().astype(np.int64)
    term_frequency = published_array(_term_marginal(model) * lengths.sum(), TOPIC_DIGITS)
    vocab = [model.dictionary[i] for i in range(len(model.dictionary))]
    data = pyLDAvis.prepare(phi, theta, lengths, vocab, term_frequency, mds="pcoa", n_jobs=1, sort_topics=False, start_index=1)
    assets = {name: Path(p).read_text(encoding="utf-8") for name, p in
              (("d3", urls.D3_LOCAL), ("ldavis", urls.LDAVIS_LOCAL), ("css", urls.LDAVIS_CSS_LOCAL))}
    payload = script_json(_published_page_data(json.loads(data.to_json())))
    woff = base64.b64encode(font_subset("".join(vocab) + title)).decode("ascii")
    font = (f"@font-face {{ font-family: 'Noto Sans CJK SC subset'; src: url(data:font/woff;base64,{woff}) format('woff'); }}\n"
            "body, svg text { font-family: 'Noto Sans CJK SC subset', sans-serif !important; }")
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>\n"
            f"<style>{assets['css']}\n{font}</style>\n<script>{assets['d3']}</script>\n<script>{assets['ldavis']}</script>\n"
            "</head><body>\n<div id=\"ldavis_el\" style=\"background-color:white;\"></div>\n"
            f"<script>var ldavis_data = {payload};\nnew LDAvis(\"#ldavis_el\", ldavis_data);</script>\n</body></html>\n")
    write_text_atomic(Path(path), page)
    return Path(path)


# ---------------------------------------------------------------- one table of topics

@renamed_keywords
def topic_info(model: TopicModel, *, top: int | None = 10) -> pd.DataFrame:
    """One row per topic, as BERTopic's ``get_topic_info``: ``topic, label, share, size,
    expected_tokens, top_terms``.

    label: ``topic_labels`` (three terms by relevance). share: the topic's share of all
    fitted tokens, sum_u len_u theta_u / sum_u len_u (its corpus-wide prevalence; the shares
    sum to 1). size: units whose largest topic share is this topic (a tie goes to the lower
    topic). expected_tokens: share x the fitted tokens, the tokens the topic is expected to
    account for (fractional: a sum of shares, not a count). top_terms: the ``top`` terms by relevance
    (``topic_terms(model, top=top, method="relevance")``, Sievert & Shirley 2014, lambda 0.6;
    ties at the cut kept; None: every term), joined by ``/``. Sorted by topic.
    """
    if top is not None and (not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1):
        raise AnalysisError(f"top={top!r} is not valid; use a whole number of terms, 1 or more (None for all), e.g. 10.")
    top = len(model.dictionary) if top is None else top
    theta, lengths = model.doc_topic_matrix(), model.unit_lengths()
    weighted = lengths @ theta
    size = np.bincount(theta.argmax(axis=1), minlength=model.k)
    terms = topic_terms(model, top=top, method="relevance")
    labels = topic_labels(model)
    return pd.DataFrame({
        "topic": np.arange(1, model.k + 1), "label": [labels[t] for t in range(1, model.k + 1)],
        "share": weighted / lengths.sum(), "size": size.astype(np.int64), "expected_tokens": weighted,
        "top_terms": ["/".join(terms[terms["topic"] == t]["term"]) for t in range(1, model.k + 1)],
    })
